#include "pipelines/audio_format.hpp"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "pipelines/media_probe.hpp"

namespace postroll {

namespace {

std::uint32_t le32(const unsigned char* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (std::uint32_t(p[3]) << 24); }
std::uint16_t le16(const unsigned char* p) { return std::uint16_t(p[0] | (p[1] << 8)); }

audio_format wav(const std::vector<unsigned char>& h) {
  // RIFF....WAVE then chunks; "fmt " holds channels (2 bytes) and rate (4).
  for (std::size_t at = 12; at + 8 <= h.size();) {
    auto size = le32(&h[at + 4]);
    if (std::memcmp(&h[at], "fmt ", 4) == 0 && at + 16 <= h.size())
      return {int(le32(&h[at + 12])), int(le16(&h[at + 10]))};
    at += 8 + size + (size & 1);
  }
  return {};
}

audio_format mp3(const std::vector<unsigned char>& h) {
  std::size_t at = 0;
  if (h.size() >= 10 && std::memcmp(h.data(), "ID3", 3) == 0)
    at = 10 + ((h[6] & 0x7f) << 21 | (h[7] & 0x7f) << 14 | (h[8] & 0x7f) << 7 | (h[9] & 0x7f));
  static const int rates[3][3] = {{44100, 48000, 32000}, {22050, 24000, 16000}, {11025, 12000, 8000}};
  for (; at + 4 <= h.size(); ++at) {
    if (h[at] != 0xff || (h[at + 1] & 0xe0) != 0xe0)
      continue;
    int version = (h[at + 1] >> 3) & 3;  // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    int index = (h[at + 2] >> 2) & 3;
    if (version == 1 || index == 3)
      continue;
    int row = version == 3 ? 0 : version == 2 ? 1 : 2;
    return {rates[row][index], ((h[at + 3] >> 6) & 3) == 3 ? 1 : 2};
  }
  return {};
}

audio_format flac(const std::vector<unsigned char>& h) {
  // fLaC, then the STREAMINFO block: rate 20 bits, channels-1 3 bits.
  if (h.size() < 4 + 4 + 18)
    return {};
  const unsigned char* s = &h[8];
  int rate = (s[10] << 12) | (s[11] << 4) | (s[12] >> 4);
  int channels = ((s[12] >> 1) & 7) + 1;
  return {rate, channels};
}

audio_format ogg(const std::vector<unsigned char>& h) {
  // The first page's packet: OpusHead (decoded at 48 kHz whatever the
  // input rate says) or a Vorbis identification header.
  for (std::size_t at = 0; at + 30 <= h.size(); ++at) {
    if (std::memcmp(&h[at], "OpusHead", 8) == 0)
      return {48000, h[at + 9]};
    if (h[at] == 1 && std::memcmp(&h[at + 1], "vorbis", 6) == 0)
      return {int(le32(&h[at + 12])), h[at + 11]};
  }
  return {};
}

}  // namespace

audio_format sniff_audio_format(const std::filesystem::path& file) {
  std::ifstream in{file, std::ios::binary};
  std::vector<unsigned char> h(65536);
  in.read(reinterpret_cast<char*>(h.data()), std::streamsize(h.size()));
  h.resize(std::size_t(in.gcount()));
  audio_format f;
  if (h.size() >= 12 && std::memcmp(h.data(), "RIFF", 4) == 0 && std::memcmp(&h[8], "WAVE", 4) == 0)
    f = wav(h);
  else if (h.size() >= 4 && std::memcmp(h.data(), "fLaC", 4) == 0)
    f = flac(h);
  else if (h.size() >= 4 && std::memcmp(h.data(), "OggS", 4) == 0)
    f = ogg(h);
  else if ((h.size() >= 3 && std::memcmp(h.data(), "ID3", 3) == 0) || (h.size() >= 2 && h[0] == 0xff && (h[1] & 0xe0) == 0xe0))
    f = mp3(h);
  if (f.rate > 0 && f.channels > 0)
    return f;
  // WebM/Matroska (Opus decodes at 48 kHz), M4A and the rest.
  auto info = probe_media(file);
  if (!info || !info->has_audio)
    return {};
  return {info->audio_codec == "audio/x-opus" ? 48000 : info->sample_rate, info->channels};
}

}  // namespace postroll
