#include "session/cache_key.hpp"

#include <cstdio>
#include <fstream>
#include <iterator>

#include <sys/stat.h>

namespace postroll {

cache_key& cache_key::add(const std::string& text) { return add_bytes(text.data(), text.size()); }

cache_key& cache_key::add_bytes(const void* data, std::size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) {
    h_ ^= p[i];
    h_ *= 1099511628211ull;
  }
  h_ ^= 0xff;  // field separator: ("ab","c") != ("a","bc")
  h_ *= 1099511628211ull;
  return *this;
}

std::string cache_key::file_state(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0)
    return {};
  return std::to_string(st.st_size) + "|" + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
}

cache_key& cache_key::add_file_identity(const std::filesystem::path& file) {
  auto state = file_state(file);
  return add(file.string() + "|" + (state.empty() ? "absent" : state));
}

cache_key& cache_key::add_file_content(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return add(file.filename().string() + "|absent");
  return add(std::string(std::istreambuf_iterator<char>(in), {}));
}

std::string cache_key::hex() const {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
  return buf;
}

}  // namespace postroll
