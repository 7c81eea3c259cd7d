#include "net/external_command.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <chrono>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <pthread.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace postroll {

using json = nlohmann::json;

namespace {

struct fd_guard {
  int fd = -1;
  ~fd_guard() { reset(); }
  void reset() {
    if (fd >= 0)
      ::close(fd);
    fd = -1;
  }
};

std::string tail(const std::string& s, std::size_t n) { return s.size() <= n ? s : "..." + s.substr(s.size() - n); }

}  // namespace

result<command_output> run_command(const std::string& who, const std::vector<std::string>& argv,
                                   const std::string& input, std::int64_t timeout_ms,
                                   const cancel_token& cancel, const progress_fn& progress) {
  if (argv.empty())
    return error{errc::bad_input, who + ": the command is empty"};
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) || ::pipe2(out_pipe, O_CLOEXEC) || ::pipe2(err_pipe, O_CLOEXEC))
    return error{errc::io, who + ": cannot create pipes: " + std::strerror(errno)};
  fd_guard to_child{in_pipe[1]}, from_child{out_pipe[0]}, errors{err_pipe[0]};
  fd_guard child_in{in_pipe[0]}, child_out{out_pipe[1]}, child_err{err_pipe[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group: a timeout or cancel kills what it started too.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    return error{errc::bad_input, who + ": cannot start: " + std::strerror(rc)};
  child_in.reset();
  child_out.reset();
  child_err.reset();
  for (int fd : {to_child.fd, from_child.fd, errors.fd})
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

  std::size_t written = 0;
  std::string out, err_text, err_line;
  auto started = std::chrono::steady_clock::now();
  std::string failure;
  errc failure_code = errc::media;
  bool reports_progress = false;
  // A command that closes stdin early must not kill the host with SIGPIPE:
  // blocked for this (stage) thread only, so a write fails with EPIPE.
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
  while (from_child.fd >= 0 || errors.fd >= 0) {
    if (cancel.is_cancelled()) {
      failure = "cancelled";
      failure_code = errc::cancelled;
      break;
    }
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    // A command that reports no progress still shows movement (the share
    // of its time budget used), or the stall watchdog would stop a long,
    // silent transcription that is well within its timeout.
    if (progress && !reports_progress)
      progress(std::min(0.99, double(elapsed.count()) / double(std::max<std::int64_t>(1, timeout_ms))));
    if (elapsed.count() > timeout_ms) {
      failure = who + ": timed out after " + std::to_string(timeout_ms / 1000.0).substr(0, 5) + " s";
      break;
    }
    std::vector<pollfd> fds;
    if (to_child.fd >= 0)
      fds.push_back({to_child.fd, POLLOUT, 0});
    if (from_child.fd >= 0)
      fds.push_back({from_child.fd, POLLIN, 0});
    if (errors.fd >= 0)
      fds.push_back({errors.fd, POLLIN, 0});
    ::poll(fds.data(), fds.size(), 100);
    for (const auto& p : fds) {
      if (!p.revents)
        continue;
      if (p.fd == to_child.fd) {
        auto n = ::write(p.fd, input.data() + written, input.size() - written);
        if (n > 0)
          written += std::size_t(n);
        if ((n < 0 && errno != EAGAIN) || written == input.size())
          to_child.reset();  // all sent (or it closed its stdin): EOF
        continue;
      }
      char buf[65536];
      auto n = ::read(p.fd, buf, sizeof buf);
      if (n == 0 || (n < 0 && errno != EAGAIN)) {
        (p.fd == from_child.fd ? from_child : errors).reset();
        continue;
      }
      if (n < 0)
        continue;
      if (p.fd == from_child.fd) {
        out.append(buf, std::size_t(n));
        continue;
      }
      for (ssize_t i = 0; i < n; ++i) {
        if (buf[i] != '\n') {
          err_line += buf[i];
          continue;
        }
        double f = 0;
        if (std::sscanf(err_line.c_str(), "progress %lf", &f) == 1) {
          reports_progress = true;
          if (progress)
            progress(std::clamp(f, 0.0, 1.0));
        } else {
          err_text = tail(err_text + err_line + "\n", 2000);
        }
        err_line.clear();
      }
    }
  }
  if (!failure.empty())
    ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!failure.empty())
    return error{failure_code, failure};
  err_text += err_line;
  while (!err_text.empty() && std::isspace(static_cast<unsigned char>(err_text.back())))
    err_text.pop_back();
  auto stderr_note = err_text.empty() ? std::string{} : "; stderr: " + tail(err_text, 500);
  if (WIFSIGNALED(status))
    return error{errc::media, who + ": killed by signal " + std::to_string(WTERMSIG(status)) + stderr_note};
  if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
    return error{errc::media, who + ": exited with status " + std::to_string(WEXITSTATUS(status)) + stderr_note};
  return command_output{std::move(out)};
}

result<json> run_external(const std::string& name, const external_command& cmd, const json& request,
                          const cancel_token& cancel, const progress_fn& progress) {
  auto who = name + " (" + (cmd.argv.empty() ? std::string{"?"} : cmd.argv[0]) + ")";
  auto ran = run_command(who, cmd.argv, request.dump(), cmd.timeout_ms, cancel, progress);
  if (!ran)
    return ran.err();
  const auto& out = ran->out;
  auto parsed = json::parse(out, nullptr, false);
  if (parsed.is_discarded())
    return error{errc::media, who + ": printed invalid JSON on stdout (" + std::to_string(out.size()) +
                                " bytes, starting \"" + out.substr(0, 80) + "\")"};
  if (!parsed.is_object())
    return error{errc::media, who + ": printed JSON that is not an object"};
  return parsed;
}

}  // namespace postroll
