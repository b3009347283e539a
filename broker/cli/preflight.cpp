#include "broker/cli/preflight.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <filesystem>
#include <memory>

#include "broker/ingest/sensor_keys.hpp"
#include "broker/runs/playbook_library.hpp"
#include "broker/storage/audit.hpp"
#include "broker/watch/source_watch.hpp"

namespace tocsin {

namespace {

template <class T>
void take_errors(std::variant<T, std::vector<std::string>>&& loaded,
                 std::vector<std::string>& out) {
  if (auto* errors = std::get_if<std::vector<std::string>>(&loaded))
    out.insert(out.end(), errors->begin(), errors->end());
}

std::string openssl_error() {
  char buf[256] = "";
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// The certificate chain and its key, loaded as the HTTP server loads them.
void check_tls(const Config& c, std::vector<std::string>& errors) {
  const auto& tls = c.http.tls;
  if (tls.certificate.empty()) return;
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_server_method()),
                                                        SSL_CTX_free);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.certificate.c_str()) != 1) {
    errors.push_back(c.source_file + ": http.tls.certificate: cannot use " +
                     tls.certificate.string() + ": " + openssl_error());
    return;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), tls.private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    errors.push_back(c.source_file + ": http.tls.private_key: cannot use " +
                     tls.private_key.string() + ": " + openssl_error());
    return;
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    errors.push_back(c.source_file + ": http.tls.private_key: " + tls.private_key.string() +
                     " does not match the certificate " + tls.certificate.string());
}

}  // namespace

std::vector<std::string> outbox_channels(const Config& config) {
  std::vector<std::string> names;
  for (const auto& ch : config.channels)
    if (ch.provider == "outbox") names.push_back(ch.name);
  return names;
}

Preflight preflight(const Config& c) {
  Preflight p;
  if (c.playbooks.enabled) take_errors(load_active_playbooks(c.playbooks, {}), p.errors);
  if (!c.ingest.sources.empty()) take_errors(load_sources(c.ingest.sources), p.errors);
  if (c.ingest.curve.secret_key) take_errors(load_sensor_keys(c.ingest.curve.sensors), p.errors);
  check_tls(c, p.errors);
  // An audit key that is there must be usable (one that is not is made at the first start).
  if (std::filesystem::exists(c.audit.key))
    if (auto key = audit::load_key(c.audit.key, false); !key)
      p.errors.push_back(c.source_file + ": storage.audit_key: " + key.error().message);
  for (const auto& name : outbox_channels(c))
    p.warnings.push_back("channels." + name +
                         ": provider outbox: its messages are written to a file, not sent to "
                         "anyone (docs/channels.md)");
  return p;
}

}  // namespace tocsin
