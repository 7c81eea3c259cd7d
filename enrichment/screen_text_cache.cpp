#include "enrichment/screen_text_cache.hpp"

#include <fstream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "session/cache_key.hpp"
#include "session/output_file.hpp"
#include "session/seal.hpp"

namespace postroll {

using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {
// Bumped when what is read from the same picture changes.
constexpr const char* page_version = "ocr-1";
}  // namespace

screen_text_cache::screen_text_cache(fs::path dir, std::string seal_key, std::string language)
  : dir_(std::move(dir)), seal_key_(std::move(seal_key)), language_(std::move(language)) {}

std::string screen_text_cache::key_of(const luma_view& p) const {
  cache_key k;
  k.add(page_version).add(language_).add(std::to_string(p.width) + "x" + std::to_string(p.height));
  for (int y = 0; y < p.height; ++y)
    k.add_bytes(p.data + std::size_t(y) * std::size_t(p.stride), std::size_t(p.width));
  return keyed_hash(seal_key_, k.hex()).substr(0, 32);
}

std::optional<screen_page> screen_text_cache::find(const std::string& key) const {
  std::ifstream in(dir_ / (key + ".json"));
  if (!in)
    return std::nullopt;
  auto doc = json::parse(std::string(std::istreambuf_iterator<char>(in), {}), nullptr, false);
  // The seal covers the entry's own key: a valid entry copied under
  // another picture's name is not taken either.
  if (!seal_valid(doc, seal_key_) || doc.value("key", "") != key || !doc["title"].is_string() ||
      !doc["text"].is_string())
    return std::nullopt;
  ++hits_;
  return screen_page{doc["title"].get<std::string>(), doc["text"].get<std::string>()};
}

void screen_text_cache::store(const std::string& key, const screen_page& page) const {
  write_file_atomically(dir_ / (key + ".json"),
                        sealed(json{{"key", key}, {"title", page.title}, {"text", page.text}}, seal_key_).dump());
}

screen_page read_screen_page(screen_reader& reader, const luma_view& picture, const screen_text_cache* cache,
                             const cancel_token& cancel) {
  std::string key;
  if (cache) {
    key = cache->key_of(picture);
    if (auto found = cache->find(key))
      return *found;
  }
  auto lines = reader.read(picture, cancel);
  screen_page page{title_line(lines, picture.height), screen_text(lines)};
  if (cache && !cancel.is_cancelled())
    cache->store(key, page);
  return page;
}

}  // namespace postroll
