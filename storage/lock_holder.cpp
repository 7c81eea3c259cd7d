#include "storage/lock_holder.hpp"

#include <fstream>
#include <iterator>

#include <fcntl.h>
#include <unistd.h>

namespace postroll {

std::string lock_holder::describe() const {
  return "pid " + std::to_string(pid) + (command.empty() ? std::string{} : " (" + command + ")");
}

std::optional<lock_holder> database_lock_holder(const std::filesystem::path& dir) {
  int fd = ::open((dir / "LOCK").c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return std::nullopt;
  struct flock f {};
  f.l_type = F_WRLCK;
  f.l_whence = SEEK_SET;
  int r = ::fcntl(fd, F_GETLK, &f);
  ::close(fd);
  if (r != 0 || f.l_type == F_UNLCK || f.l_pid <= 0)
    return std::nullopt;
  lock_holder h;
  h.pid = f.l_pid;
  // /proc/PID/cmdline: arguments separated by NULs (unreadable for another
  // user's process under hidepid: then only the pid is told).
  std::ifstream in{"/proc/" + std::to_string(h.pid) + "/cmdline", std::ios::binary};
  std::string raw{std::istreambuf_iterator<char>(in), {}};
  while (!raw.empty() && raw.back() == '\0')
    raw.pop_back();
  for (char c : raw)
    h.command += c == '\0' ? ' ' : (static_cast<unsigned char>(c) < 0x20 ? '?' : c);
  if (h.command.size() > 200)
    h.command = h.command.substr(0, 200) + "...";
  // The program by its name, not the build folder it runs from.
  auto space = h.command.find(' ');
  auto program = h.command.substr(0, space);
  auto slash = program.rfind('/');
  if (slash != std::string::npos)
    h.command = h.command.substr(slash + 1);
  return h;
}

}  // namespace postroll
