#include "enrichment/transcript/piece_cache.hpp"

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
// Bumped when the recogniser's output changes for the same input.
constexpr const char* piece_version = "1";
}  // namespace

piece_cache::piece_cache(fs::path dir, std::string seal_key, const recognizer_options& asr)
  : dir_(std::move(dir)), seal_key_(std::move(seal_key)), asr_(asr.model_dir + "|" + asr.speed) {
  // A writer killed mid-store leaves its .partial behind; one run of a
  // session's transcript at a time owns the folder, so none is live now.
  remove_stale_partials(dir_);
}

std::string piece_cache::key_of(const speech_piece& piece, const vocabulary_bias& bias) const {
  cache_key k;
  k.add(piece_version).add(asr_).add(std::to_string(piece.first_sample));
  k.add(std::string(reinterpret_cast<const char*>(piece.samples.data()), piece.samples.size() * sizeof(std::int16_t)));
  // No words to favour is the plain search, whatever the weight (a live
  // job that has seen no screen yet and the batch agree on it).
  k.add(std::to_string(bias.words.empty() && bias.background.empty() ? 0.0 : bias.weight));
  for (const auto* list : {&bias.words, &bias.background}) {
    k.add("|");
    for (const auto& w : *list)
      k.add(w);
  }
  // The name is sealed too: knowing a piece's samples is not enough to
  // plant its entry.
  return keyed_hash(seal_key_, k.hex()).substr(0, 32);
}

std::optional<std::vector<recognized_word>> piece_cache::find(const std::string& key) const {
  std::ifstream in(dir_ / (key + ".json"));
  if (!in)
    return std::nullopt;
  auto doc = json::parse(std::string(std::istreambuf_iterator<char>(in), {}), nullptr, false);
  // The seal covers the entry's own key: a valid entry copied under
  // another piece's name is not taken either.
  if (!seal_valid(doc, seal_key_) || doc.value("key", "") != key || !doc["words"].is_array())
    return std::nullopt;
  std::vector<recognized_word> out;
  for (const auto& w : doc["words"]) {
    if (!w.is_object())
      return std::nullopt;
    out.push_back({w.value("w", ""), w.value("s", std::int64_t{0}), w.value("e", std::int64_t{0}), w.value("c", 0.0)});
  }
  return out;
}

void piece_cache::store(const std::string& key, const std::vector<recognized_word>& words) const {
  json list = json::array();
  for (const auto& w : words)
    list.push_back({{"w", w.text}, {"s", w.start_ms}, {"e", w.end_ms}, {"c", w.confidence}});
  write_file_atomically(dir_ / (key + ".json"), sealed(json{{"key", key}, {"words", list}}, seal_key_).dump());
}

}  // namespace postroll
