#include "session/seal.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace postroll {

std::string keyed_hash(const std::string& key, const std::string& text) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), int(key.size()), reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac,
       &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[mac[i] >> 4];
    out += hex[mac[i] & 15];
  }
  return out;
}

std::string session_seal_key(const std::string& node_secret, const std::string& session_dir) {
  return keyed_hash(node_secret, "postroll session seal v1|" + session_dir);
}

nlohmann::json sealed(nlohmann::json doc, const std::string& key) {
  doc.erase("seal");
  auto mac = keyed_hash(key, doc.dump());
  doc["seal"] = mac;
  return doc;
}

bool seal_valid(const nlohmann::json& doc, const std::string& key) {
  if (!doc.is_object() || !doc.contains("seal") || !doc["seal"].is_string())
    return false;
  auto given = doc["seal"].get<std::string>();
  auto rest = doc;
  rest.erase("seal");
  auto want = keyed_hash(key, rest.dump());
  return given.size() == want.size() && CRYPTO_memcmp(given.data(), want.data(), want.size()) == 0;
}

}  // namespace postroll
