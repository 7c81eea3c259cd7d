#include "pipelines/mp4_tags.hpp"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <vector>

namespace postroll {

namespace {

std::uint64_t be32(const unsigned char* p) {
  return std::uint64_t(p[0]) << 24 | std::uint64_t(p[1]) << 16 | std::uint64_t(p[2]) << 8 | p[3];
}

// The payload [at, end) of the child box `type` directly inside [from, to).
bool child(const std::vector<unsigned char>& d, std::size_t from, std::size_t to, const char* type, std::size_t& at,
           std::size_t& end) {
  for (std::size_t p = from; p + 8 <= to;) {
    auto size = be32(&d[p]);
    if (size < 8 || p + size > to)
      return false;
    if (std::memcmp(&d[p + 4], type, 4) == 0) {
      at = p + 8;
      end = p + std::size_t(size);
      return true;
    }
    p += std::size_t(size);
  }
  return false;
}

}  // namespace

std::string mp4_encoder_tag(const std::filesystem::path& file) {
  std::ifstream in{file, std::ios::binary};
  // Top-level boxes: find moov (skipping mdat by its size), read it whole
  // (bounded: an index of a long session is a few MB).
  unsigned char head[16];
  std::uint64_t pos = 0;
  std::vector<unsigned char> moov;
  while (in.seekg(std::streamoff(pos)) && in.read(reinterpret_cast<char*>(head), 8)) {
    std::uint64_t size = be32(head);
    std::size_t header = 8;
    if (size == 1) {
      if (!in.read(reinterpret_cast<char*>(head + 8), 8))
        return {};
      size = be32(head + 8) << 32 | be32(head + 12);
      header = 16;
    }
    if (size < header)
      return {};
    if (std::memcmp(head + 4, "moov", 4) == 0) {
      if (size > (64u << 20))
        return {};
      moov.resize(std::size_t(size - header));
      if (!in.read(reinterpret_cast<char*>(moov.data()), std::streamsize(moov.size())))
        return {};
      break;
    }
    pos += size;
  }
  std::size_t a = 0, b = 0, c = 0, e = 0;
  // moov/udta/meta (a full box: 4 bytes of version and flags)/ilst/©too/data.
  if (!child(moov, 0, moov.size(), "udta", a, b) || !child(moov, a, b, "meta", a, b) ||
      !child(moov, a + 4, b, "ilst", a, b) || !child(moov, a, b, "\xa9too", c, e) || !child(moov, c, e, "data", a, b) ||
      b < a + 8)
    return {};
  return std::string(moov.begin() + std::ptrdiff_t(a + 8), moov.begin() + std::ptrdiff_t(b));
}

}  // namespace postroll
