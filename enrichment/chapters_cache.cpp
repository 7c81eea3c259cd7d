#include "enrichment/chapters_cache.hpp"

#include <condition_variable>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>

#include "session/output_file.hpp"
#include "session/seal.hpp"

namespace postroll {

using json = nlohmann::json;
namespace fs = std::filesystem;

void store_chapters(const fs::path& dir, const std::string& key, const json& chapters, const std::string& seal_key) {
  if (key.empty())
    return;
  write_file_atomically(dir / chapters_cache_file, sealed(json{{"key", key}, {"chapters", chapters}}, seal_key).dump());
}

std::optional<json> find_chapters(const fs::path& dir, const std::string& key, const std::string& seal_key) {
  if (key.empty())
    return std::nullopt;
  std::ifstream in(dir / chapters_cache_file);
  if (!in)
    return std::nullopt;
  auto doc = json::parse(std::string(std::istreambuf_iterator<char>(in), {}), nullptr, false);
  if (!seal_valid(doc, seal_key) || doc.value("key", "") != key || !doc["chapters"].is_object() ||
      !doc["chapters"].contains("chapters") || !doc["chapters"]["chapters"].is_array())
    return std::nullopt;
  return doc["chapters"];
}

namespace {
std::mutex registry_mtx;
std::condition_variable registry_cv;
std::map<fs::path, int> making;  // folder -> readers making its entry
}  // namespace

chapters_in_progress::chapters_in_progress(fs::path dir) : dir_(std::move(dir)) {
  std::lock_guard<std::mutex> g{registry_mtx};
  ++making[dir_];
}

chapters_in_progress::~chapters_in_progress() {
  {
    std::lock_guard<std::mutex> g{registry_mtx};
    if (--making[dir_] == 0)
      making.erase(dir_);
  }
  registry_cv.notify_all();
}

void chapters_in_progress::wait_for(const fs::path& dir, std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> lock{registry_mtx};
  registry_cv.wait_for(lock, limit, [&] { return making.count(dir) == 0; });
}

}  // namespace postroll
