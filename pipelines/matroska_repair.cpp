#include "pipelines/matroska_repair.hpp"

#include <fstream>
#include <vector>

#include "session/output_file.hpp"

namespace postroll {

namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t ebml_header = 0x1A45DFA3, segment = 0x18538067, cluster = 0x1F43B675;

// Level-1 elements: one of them after a cluster of unknown size ends it.
bool is_top_level(std::uint32_t id) {
  switch (id) {
    case 0x114D9B74: case 0x1549A966: case 0x1654AE6B: case 0x1C53BB6B:
    case cluster: case 0x1941A469: case 0x1043A770: case 0x1254C367:
      return true;
    default:
      return false;
  }
}

struct reader {
  std::ifstream in;
  std::int64_t size = 0;
  explicit reader(const fs::path& p) : in(p, std::ios::binary) {
    std::error_code ec;
    size = std::int64_t(fs::file_size(p, ec));
  }
  // An element ID (its length marker kept, as IDs are written).
  bool id(std::int64_t& pos, std::uint32_t& out) {
    in.seekg(pos);
    int first = in.get();
    if (first <= 0)
      return false;
    int len = 1;
    while (len <= 4 && !(first & (0x80 >> (len - 1))))
      ++len;
    if (len > 4)
      return false;
    out = std::uint32_t(first);
    for (int i = 1; i < len; ++i) {
      int c = in.get();
      if (c < 0)
        return false;
      out = (out << 8) | std::uint32_t(c);
    }
    pos += len;
    return true;
  }
  // A data size; `unknown` when all its value bits are 1.
  bool vsize(std::int64_t& pos, std::int64_t& out, bool& unknown, int& len) {
    in.seekg(pos);
    int first = in.get();
    if (first <= 0)
      return false;
    len = 1;
    while (len <= 8 && !(first & (0x80 >> (len - 1))))
      ++len;
    if (len > 8)
      return false;
    std::uint64_t v = std::uint64_t(first) & (0xFFu >> len);
    bool all_ones = v == (0xFFu >> len);
    for (int i = 1; i < len; ++i) {
      int c = in.get();
      if (c < 0)
        return false;
      v = (v << 8) | std::uint64_t(c);
      all_ones &= c == 0xFF;
    }
    pos += len;
    unknown = all_ones;
    out = std::int64_t(v);
    return true;
  }
};

}  // namespace

matroska_scan scan_matroska(const fs::path& file) {
  matroska_scan s;
  reader r{file};
  std::int64_t pos = 0, size = 0;
  std::uint32_t id = 0;
  bool unknown = false;
  int len = 0;
  if (!r.id(pos, id) || id != ebml_header || !r.vsize(pos, size, unknown, len))
    return s;  // not Matroska
  pos += size;
  if (!r.id(pos, id) || id != segment || !r.vsize(pos, size, unknown, len))
    return s;
  std::int64_t end = unknown ? r.size : std::min(r.size, pos + size);
  bool declared_beyond = !unknown && pos + size > r.size;
  std::int64_t keep = pos;  // the segment's children start here
  std::string cut;
  while (pos < end) {
    std::int64_t at = pos;
    if (!r.id(pos, id) || !r.vsize(pos, size, unknown, len)) {
      cut = "an element header cut off at byte " + std::to_string(at);
      break;
    }
    if (id == cluster && unknown) {
      // Walk the blocks until the next level-1 element or the end.
      std::int64_t p = pos;
      bool whole = true;
      while (p < r.size) {
        std::int64_t child_at = p;
        std::uint32_t cid = 0;
        std::int64_t csize = 0;
        bool cu = false;
        int cl = 0;
        if (!r.id(p, cid)) {
          whole = false;
          break;
        }
        if (is_top_level(cid)) {
          p = child_at;
          break;
        }
        if (!r.vsize(p, csize, cu, cl) || cu || p + csize > r.size) {
          whole = false;
          break;
        }
        p += csize;
      }
      if (!whole) {
        cut = "a cluster cut off at byte " + std::to_string(at);
        break;
      }
      pos = p;
      keep = pos;
      continue;
    }
    if (unknown || pos + size > r.size) {
      cut = (id == cluster ? "a cluster" : "an element") + std::string(" cut off at byte ") + std::to_string(at);
      break;
    }
    pos += size;
    keep = pos;
  }
  if (!cut.empty() || (declared_beyond && keep < r.size)) {
    s.damaged = true;
    s.keep_bytes = keep;
    s.reason = (cut.empty() ? "the segment ends before its declared size" : cut) + "; " +
               std::to_string(r.size - keep) + " bytes after the last whole cluster";
  } else if (declared_beyond) {
    s.damaged = true;
    s.keep_bytes = keep;
    s.reason = "the segment declares more bytes than the file has";
  }
  return s;
}

maybe_error trim_matroska(const fs::path& damaged, const fs::path& out, std::int64_t keep_bytes) {
  reader r{damaged};
  std::int64_t pos = 0, size = 0;
  std::uint32_t id = 0;
  bool unknown = false;
  int len = 0;
  if (!r.id(pos, id) || !r.vsize(pos, size, unknown, len))
    return error{errc::bad_input, damaged.string() + ": not Matroska"};
  pos += size;
  if (!r.id(pos, id) || id != segment)
    return error{errc::bad_input, damaged.string() + ": no segment"};
  std::int64_t size_at = pos;
  if (!r.vsize(pos, size, unknown, len))
    return error{errc::bad_input, damaged.string() + ": bad segment size"};
  auto written = write_atomically(out, [&](const fs::path& partial) -> result<bool> {
    std::ifstream in(damaged, std::ios::binary);
    std::ofstream o(partial, std::ios::binary | std::ios::trunc);
    auto left = keep_bytes - copy_prefix(in, o, keep_bytes);
    // The segment's size, same width, all value bits set: "unknown".
    o.seekp(size_at);
    for (int i = 0; i < len; ++i)
      o.put(char(i == 0 ? (0xFF >> (len - 1)) | 0 : 0xFF));
    o.flush();
    if (!o || left > 0)
      return error{errc::io, out.string() + ": cannot write the trimmed copy"};
    return true;
  });
  if (!written)
    return written.err();
  return std::nullopt;
}

}  // namespace postroll
