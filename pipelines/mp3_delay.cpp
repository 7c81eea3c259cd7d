#include "pipelines/mp3_delay.hpp"

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace postroll {

namespace {
constexpr std::int64_t decoder_delay = 529;
constexpr std::int64_t default_encoder_delay = 576;
}  // namespace

mp3_delay mp3_untrimmed_delay(const std::filesystem::path& file) {
  std::ifstream in{file, std::ios::binary};
  std::vector<unsigned char> d(64 * 1024);
  in.read(reinterpret_cast<char*>(d.data()), static_cast<std::streamsize>(d.size()));
  d.resize(static_cast<size_t>(in.gcount()));
  size_t pos = 0;
  // Skip an ID3v2 tag: 10-byte header, size as a 28-bit syncsafe integer.
  if (d.size() >= 10 && std::memcmp(d.data(), "ID3", 3) == 0) {
    pos = 10 + ((size_t(d[6] & 0x7f) << 21) | (size_t(d[7] & 0x7f) << 14) |
                (size_t(d[8] & 0x7f) << 7) | size_t(d[9] & 0x7f));
    if (d[5] & 0x10)
      pos += 10;  // footer
  }
  // An MP3 file starts with a frame (after any ID3v2 tag). Scanning further
  // would find false syncs in other formats' data (PCM samples in a WAV).
  if (pos + 4 > d.size() || !(d[pos] == 0xff && (d[pos + 1] & 0xe0) == 0xe0))
    return {};
  int bitrate_index = d[pos + 2] >> 4;
  if (((d[pos + 1] >> 1) & 0x3) != 0x1 || bitrate_index == 0 || bitrate_index == 15)
    return {};  // not MPEG layer III, or a free/bad bitrate
  static const int rates[4][3] = {{11025, 12000, 8000},   // MPEG 2.5
                                  {0, 0, 0},              // reserved
                                  {22050, 24000, 16000},  // MPEG 2
                                  {44100, 48000, 32000}}; // MPEG 1
  int version = (d[pos + 1] >> 3) & 0x3;
  int rate_index = (d[pos + 2] >> 2) & 0x3;
  if (rate_index == 3 || version == 1)
    return {};
  int rate = rates[version][rate_index];
  // The Xing/Info tag sits inside the first frame after the side info.
  size_t end = std::min(d.size(), pos + 200);
  for (size_t i = pos + 4; i + 4 <= end; ++i) {
    if (std::memcmp(&d[i], "Xing", 4) != 0 && std::memcmp(&d[i], "Info", 4) != 0)
      continue;
    // LAME extension: encoder string at +120, delay/padding (12+12 bits) at +141.
    if (i + 144 > d.size())
      return {default_encoder_delay + decoder_delay, rate};
    std::string encoder(reinterpret_cast<const char*>(&d[i + 120]), 4);
    if (encoder == "LAME")
      return {0, rate};  // mpegaudioparse applies this tag itself
    if (encoder == "Lavc" || encoder == "Lavf") {
      std::int64_t delay = (std::int64_t(d[i + 141]) << 4) | (d[i + 142] >> 4);
      return {delay + decoder_delay, rate};
    }
    break;
  }
  return {default_encoder_delay + decoder_delay, rate};
}

}  // namespace postroll
