#include "pipelines/wav_repair.hpp"

#include <cstring>
#include <fstream>
#include <vector>

#include "session/output_file.hpp"

namespace postroll {

namespace fs = std::filesystem;

namespace {
std::uint32_t le32(const unsigned char* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (std::uint32_t(p[3]) << 24); }
void put32(unsigned char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    p[i] = (v >> (8 * i)) & 0xff;
}
}  // namespace

wav_scan scan_wav(const fs::path& file) {
  wav_scan s;
  std::ifstream in(file, std::ios::binary);
  std::error_code ec;
  auto size = std::int64_t(fs::file_size(file, ec));
  unsigned char h[12];
  if (!in.read(reinterpret_cast<char*>(h), 12) || std::memcmp(h, "RIFF", 4) != 0 || std::memcmp(h + 8, "WAVE", 4) != 0)
    return s;
  auto riff = le32(h + 4);
  std::int64_t pos = 12;
  while (pos + 8 <= size) {
    unsigned char c[8];
    in.seekg(pos);
    if (!in.read(reinterpret_cast<char*>(c), 8))
      return s;
    auto len = le32(c + 4);
    if (std::memcmp(c, "fmt ", 4) == 0 && len >= 16) {
      unsigned char f[16];
      in.read(reinterpret_cast<char*>(f), 16);
      s.bytes_per_second = int(le32(f + 8));
      s.block_align = f[12] | (f[13] << 8);
    }
    if (std::memcmp(c, "data", 4) == 0) {
      s.data_offset = pos + 8;
      auto present = size - s.data_offset;
      auto align = std::max(1, s.block_align);
      s.data_bytes = present - present % align;
      bool unfinished = len == 0 || len == 0xFFFFFFFFu || std::int64_t(len) > present;
      bool riff_wrong = riff == 0 || riff == 0xFFFFFFFFu || std::int64_t(riff) + 8 > size;
      if (unfinished || riff_wrong) {
        s.damaged = true;
        s.reason = "header not finalised (data size " + std::to_string(len) + ", " + std::to_string(present) +
                   " bytes present)";
      }
      return s;
    }
    pos += 8 + len + (len & 1);
  }
  return s;
}

maybe_error fix_wav(const fs::path& damaged, const fs::path& out, const wav_scan& scan) {
  auto written = write_atomically(out, [&](const fs::path& partial) -> result<bool> {
    std::ifstream in(damaged, std::ios::binary);
    std::ofstream o(partial, std::ios::binary | std::ios::trunc);
    std::vector<char> head(std::size_t(scan.data_offset));
    in.read(head.data(), std::streamsize(head.size()));
    auto* h = reinterpret_cast<unsigned char*>(head.data());
    put32(h + 4, std::uint32_t(scan.data_offset - 8 + scan.data_bytes));
    put32(h + scan.data_offset - 4, std::uint32_t(scan.data_bytes));
    o.write(head.data(), std::streamsize(head.size()));
    auto left = scan.data_bytes - copy_prefix(in, o, scan.data_bytes);
    o.flush();
    if (!o || left > 0)
      return error{errc::io, out.string() + ": cannot write the repaired copy"};
    return true;
  });
  if (!written)
    return written.err();
  return std::nullopt;
}

}  // namespace postroll
