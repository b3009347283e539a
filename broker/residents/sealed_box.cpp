#include "broker/residents/sealed_box.hpp"

#include <sodium.h>

#include <stdexcept>
#include <vector>

namespace tocsin {

namespace {
constexpr char kContext[crypto_kdf_CONTEXTBYTES + 1] = "residnts";
constexpr std::uint64_t kSealSubkey = 1, kIndexSubkey = 2;

bool sodium_ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}
}  // namespace

Result<SealedBox> SealedBox::from_key_text(std::string_view text) {
  if (!sodium_ready()) return Error{"io", "libsodium could not start", "key"};
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  std::array<unsigned char, crypto_kdf_KEYBYTES> master{};
  std::size_t length = 0;
  if (text.size() != 2 * master.size() ||
      sodium_hex2bin(master.data(), master.size(), text.data(), text.size(), nullptr, &length,
                     nullptr) != 0 ||
      length != master.size())
    return Error{"invalid",
                 "a residents' key is 64 hexadecimal characters (make one with tocsin resident "
                 "new-key)",
                 "key"};
  SealedBox box;
  crypto_kdf_derive_from_key(box.seal_key_.data(), box.seal_key_.size(), kSealSubkey, kContext,
                             master.data());
  crypto_kdf_derive_from_key(box.index_key_.data(), box.index_key_.size(), kIndexSubkey, kContext,
                             master.data());
  sodium_memzero(master.data(), master.size());
  return box;
}

std::string SealedBox::new_key_text() {
  if (!sodium_ready()) throw std::runtime_error("libsodium could not start");
  std::array<unsigned char, crypto_kdf_KEYBYTES> key{};
  crypto_kdf_keygen(key.data());
  std::string hex(2 * key.size() + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), key.data(), key.size());
  hex.pop_back();
  sodium_memzero(key.data(), key.size());
  return hex;
}

std::string SealedBox::seal(std::string_view plain, std::string_view purpose) const {
  constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  std::vector<unsigned char> out(kNonce + plain.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  randombytes_buf(out.data(), kNonce);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out.data() + kNonce, &written, reinterpret_cast<const unsigned char*>(plain.data()),
      plain.size(), reinterpret_cast<const unsigned char*>(purpose.data()), purpose.size(), nullptr,
      out.data(), seal_key_.data());
  const std::size_t total = kNonce + written;
  std::string text(sodium_base64_encoded_len(total, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(text.data(), text.size(), out.data(), total, sodium_base64_VARIANT_ORIGINAL);
  text.resize(text.find('\0'));
  return text;
}

std::optional<std::string> SealedBox::open(std::string_view sealed,
                                           std::string_view purpose) const {
  constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  std::vector<unsigned char> bytes(sealed.size());
  std::size_t length = 0;
  if (sodium_base642bin(bytes.data(), bytes.size(), sealed.data(), sealed.size(), nullptr, &length,
                        nullptr, sodium_base64_VARIANT_ORIGINAL) != 0 ||
      length < kNonce + crypto_aead_xchacha20poly1305_ietf_ABYTES)
    return std::nullopt;
  std::string plain(length - kNonce - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &written, nullptr, bytes.data() + kNonce,
          length - kNonce, reinterpret_cast<const unsigned char*>(purpose.data()), purpose.size(),
          bytes.data(), seal_key_.data()) != 0)
    return std::nullopt;
  plain.resize(written);
  return plain;
}

std::string SealedBox::blind(std::string_view purpose, std::string_view value) const {
  std::array<unsigned char, 32> hash{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, index_key_.data(), index_key_.size(), hash.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(purpose.data()),
                            purpose.size());
  const unsigned char separator = 0;
  crypto_generichash_update(&state, &separator, 1);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(value.data()),
                            value.size());
  crypto_generichash_final(&state, hash.data(), hash.size());
  std::string hex(2 * hash.size() + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), hash.data(), hash.size());
  hex.pop_back();
  return hex;
}

}  // namespace tocsin
