#pragma once
// Residents' contact details at rest: sealed with a key kept outside the database
// (XChaCha20-Poly1305, libsodium's AEAD), and found again through a keyed blind index, so that a
// copy of the database alone shows no phone number, e-mail address or home.

#include <array>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace tocsin {

class SealedBox {
 public:
  // The key as residents.key_file holds it: 64 hexadecimal characters (32 bytes), a newline
  // allowed after them. Two keys are derived from it: one seals, one indexes.
  static Result<SealedBox> from_key_text(std::string_view text);
  // A new random key, in that form (tocsin resident new-key).
  static std::string new_key_text();

  // `plain` sealed for `purpose` (phone, email, place: a value sealed for one cannot be opened as
  // another), as printable text: a fresh nonce, then the ciphertext, in base64.
  std::string seal(std::string_view plain, std::string_view purpose) const;
  // nullopt: not sealed with this key for this purpose (or altered).
  std::optional<std::string> open(std::string_view sealed, std::string_view purpose) const;
  // The same value always gives the same index (keyed BLAKE2b, hex): how STOP finds a number.
  std::string blind(std::string_view purpose, std::string_view value) const;

 private:
  SealedBox() = default;
  std::array<unsigned char, 32> seal_key_{};
  std::array<unsigned char, 32> index_key_{};
};

}  // namespace tocsin
