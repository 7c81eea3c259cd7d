#include "pipelines/aac_pieces.hpp"

#include <fstream>
#include <iterator>

#include "session/cache_key.hpp"
#include "session/output_file.hpp"
#include "session/seal.hpp"

namespace postroll {

namespace fs = std::filesystem;

namespace {
// Bumped when the encoder's output changes for the same input.
constexpr const char* piece_version = "aac-1";
constexpr std::size_t seal_chars = 64;  // hex HMAC-SHA256, then '\n', then the frames

std::size_t frame_length_at(const std::string& a, std::size_t at) {
  if (at + 7 > a.size())
    return 0;
  auto b = [&](std::size_t i) { return static_cast<unsigned char>(a[at + i]); };
  if (b(0) != 0xff || (b(1) & 0xf0) != 0xf0)
    return 0;
  std::size_t len = (std::size_t(b(3) & 0x03) << 11) | (std::size_t(b(4)) << 3) | (std::size_t(b(5)) >> 5);
  return len >= 7 && at + len <= a.size() ? len : 0;
}
}  // namespace

std::int64_t adts_frame_count(const std::string& adts) {
  std::int64_t n = 0;
  for (std::size_t at = 0; at < adts.size(); ++n) {
    auto len = frame_length_at(adts, at);
    if (len == 0)
      return -1;
    at += len;
  }
  return n;
}

void adts_mark_mpeg4(std::string& adts) {
  for (std::size_t at = 0, len; (len = frame_length_at(adts, at)) != 0; at += len)
    adts[at + 1] = char(static_cast<unsigned char>(adts[at + 1]) & ~0x08);
}

std::size_t adts_frame_offset(const std::string& adts, std::int64_t n) {
  std::size_t at = 0;
  for (; n > 0 && at < adts.size(); --n) {
    auto len = frame_length_at(adts, at);
    if (len == 0)
      return adts.size();
    at += len;
  }
  return at;
}

aac_piece_store::aac_piece_store(fs::path dir, std::string seal_key)
  : dir_(std::move(dir)), seal_key_(std::move(seal_key)) {
  // One run of a session's timeline at a time owns the folder (the live
  // follower before the end, the timeline stage after it).
  remove_stale_partials(dir_);
}

std::string aac_piece_store::key_of(const aac_piece_input& in) const {
  cache_key k;
  k.add(piece_version)
    .add(std::to_string(in.index))
    .add(std::to_string(in.rate))
    .add(std::to_string(in.channels))
    .add(std::to_string(in.bitrate))
    .add(std::to_string(in.skip));
  k.add_bytes(in.samples, std::size_t(in.frames) * std::size_t(in.channels) * sizeof(std::int16_t));
  return keyed_hash(seal_key_, k.hex()).substr(0, 32);
}

std::optional<std::string> aac_piece_store::find(const std::string& key, std::int64_t frames) const {
  std::ifstream in(dir_ / (key + ".aac"), std::ios::binary);
  if (!in)
    return std::nullopt;
  std::string text(std::istreambuf_iterator<char>(in), {});
  if (text.size() <= seal_chars || text[seal_chars] != '\n')
    return std::nullopt;
  auto adts = text.substr(seal_chars + 1);
  if (text.compare(0, seal_chars, keyed_hash(seal_key_, key + adts)) != 0 || adts_frame_count(adts) != frames)
    return std::nullopt;
  return adts;
}

void aac_piece_store::store(const std::string& key, const std::string& adts) const {
  write_file_atomically(dir_ / (key + ".aac"), keyed_hash(seal_key_, key + adts) + "\n" + adts);
}

}  // namespace postroll
