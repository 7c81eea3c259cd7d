// Cache keys for results kept in a session folder (enrichment results,
// encoded audio pieces): a 64-bit FNV-1a hash of everything a
// result depends on. Not a security hash: it only has to change when an
// input does (a collision would keep a stale result; at 2^-64 per pair of
// runs of one session, that is not a practical risk).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace postroll {

class cache_key {
public:
  cache_key& add(const std::string& text);
  /// Raw bytes (samples), without copying them into a string.
  cache_key& add_bytes(const void* data, std::size_t size);
  /// A media file by identity (path, size, modification time): hashing the
  /// content of a 1 GB recording would cost more than some stages.
  cache_key& add_file_identity(const std::filesystem::path& file);
  /// A file's size and modification time now ("" when it cannot be looked at).
  static std::string file_state(const std::filesystem::path& file);
  /// A small file (an upstream result) by content; absent files hash as such.
  cache_key& add_file_content(const std::filesystem::path& file);
  std::string hex() const;

private:
  std::uint64_t h_ = 1469598103934665603ull;
};

}  // namespace postroll
