#include "support/test_support.hpp"

#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace postroll::test {

namespace {

// The postroll commands a test starts read no user's config and keep no
// job database in anyone's home: every test binary gets XDG folders of its
// own (a test that wants other ones passes them in the child's environment).
struct private_xdg_folders {
  fs::path root;
  private_xdg_folders() {
    std::string tmpl = (fs::temp_directory_path() / "postroll-test-xdg-XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
      return;
    root = tmpl;
    ::setenv("XDG_CONFIG_HOME", (root / "config").c_str(), 1);
    ::setenv("XDG_STATE_HOME", (root / "state").c_str(), 1);
  }
  ~private_xdg_folders() {
    std::error_code ec;
    if (!root.empty())
      fs::remove_all(root, ec);
  }
} const xdg_folders;

}  // namespace

fs::path source_dir() { return POSTROLL_SOURCE_DIR; }
fs::path postroll_binary() { return POSTROLL_BINARY; }

temp_dir::temp_dir() {
  std::string tmpl = (fs::temp_directory_path() / "postroll-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data()))
    throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  if (std::getenv("POSTROLL_KEEP_TEST_FILES"))
    return;
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

std::string drain(int fd) {
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0)
    out.append(buf, size_t(n));
  return out;
}

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  for (auto& a : argv)
    out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

command_result run(const std::vector<std::string>& argv) {
  // stdout and stderr go to temporary files: no pipe can fill up and block.
  char out_tmpl[] = "/tmp/postroll-out-XXXXXX";
  char err_tmpl[] = "/tmp/postroll-err-XXXXXX";
  int out_fd = ::mkstemp(out_tmpl);
  int err_fd = ::mkstemp(err_tmpl);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    int devnull = ::open("/dev/null", O_RDONLY);
    ::dup2(devnull, 0);
    auto args = c_argv(argv);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  command_result r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  ::lseek(out_fd, 0, SEEK_SET);
  ::lseek(err_fd, 0, SEEK_SET);
  r.out = drain(out_fd);
  r.err = drain(err_fd);
  ::close(out_fd);
  ::close(err_fd);
  ::unlink(out_tmpl);
  ::unlink(err_tmpl);
  return r;
}

std::string sh(const std::string& command_line) {
  auto r = run({"/bin/bash", "-c", command_line});
  if (r.exit_code != 0)
    throw std::runtime_error("command failed (" + std::to_string(r.exit_code) + "): " + command_line +
                             "\n" + r.err);
  return r.out;
}

void write_file(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream out{p, std::ios::binary};
  out << text;
}

std::string read_file(const fs::path& p) {
  std::ifstream in{p, std::ios::binary};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

child_process::child_process(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe(fds) != 0)
    throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    ::close(fds[1]);
    auto args = c_argv(argv);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  fd_ = fds[0];
}

child_process::~child_process() {
  if (!exited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait();
  }
  if (fd_ >= 0)
    ::close(fd_);
}

std::string child_process::wait_for_line(const std::function<bool(const std::string&)>& match,
                                         std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto nl = buffer_.find('\n');
    while (nl != std::string::npos) {
      auto line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (match(line))
        return line;
      nl = buffer_.find('\n');
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return {};
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, int(left.count())) <= 0)
      continue;
    char buf[4096];
    auto n = ::read(fd_, buf, sizeof buf);
    if (n <= 0)
      return {};
    buffer_.append(buf, size_t(n));
    transcript_.append(buf, size_t(n));
  }
}

void child_process::drain() {
  std::size_t before;
  do {
    before = transcript_.size();
    wait_for_line([](const std::string&) { return false; }, std::chrono::milliseconds(20));
  } while (transcript_.size() != before);
}

void child_process::signal(int sig) { ::kill(pid_, sig); }

int child_process::wait() {
  if (!exited_) {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    exited_ = true;
  }
  return status_;
}

std::pair<std::string, std::uint16_t> wait_for_node(child_process& node) {
  auto line = node.wait_for_line([](const std::string& l) { return l.find("listening on") != std::string::npos; },
                                 std::chrono::seconds(30));
  std::smatch m;
  if (line.empty() || !std::regex_search(line, m, std::regex{"listening on ([^:]+):(\\d+)"}))
    throw std::runtime_error("the node did not start listening:\n" + node.transcript());
  return {m[1].str(), static_cast<std::uint16_t>(std::stoi(m[2].str()))};
}

std::vector<std::int16_t> decode_audio_with_ffmpeg(const fs::path& file, int& rate) {
  auto r = run({"ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                "stream=sample_rate", "-of", "csv=p=0", file.string()});
  rate = std::atoi(r.out.c_str());
  auto pcm = run({"ffmpeg", "-v", "error", "-i", file.string(), "-map", "0:a:0", "-ac", "1", "-f",
                  "s16le", "-"});
  std::vector<std::int16_t> out(pcm.out.size() / 2);
  std::memcpy(out.data(), pcm.out.data(), out.size() * 2);
  return out;
}

std::vector<double> find_beeps(const std::vector<std::int16_t>& pcm, int rate, double threshold) {
  std::vector<double> onsets;
  const double th = threshold * 32767;
  const long quiet = rate / 50;  // 20 ms
  long last = -1000000000;
  for (long i = 0; i < long(pcm.size()); ++i) {
    if (std::abs(double(pcm[size_t(i)])) > th) {
      if (i - last > quiet)
        onsets.push_back(double(i) * 1000.0 / rate);
      last = i;
    }
  }
  return onsets;
}

double probe_duration(const fs::path& file, const std::string& stream) {
  std::vector<std::string> argv = {"ffprobe", "-v", "error"};
  if (!stream.empty()) {
    argv.insert(argv.end(), {"-select_streams", stream, "-show_entries", "stream=duration"});
  } else {
    argv.insert(argv.end(), {"-show_entries", "format=duration"});
  }
  argv.insert(argv.end(), {"-of", "csv=p=0", file.string()});
  auto r = run(argv);
  return std::atof(r.out.c_str());
}

std::vector<std::string> probe_codecs(const fs::path& file) {
  auto r = run({"ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
                file.string()});
  std::vector<std::string> out;
  std::istringstream in{r.out};
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      out.push_back(line);
  return out;
}

std::vector<std::string> video_packet_hashes(const fs::path& file) {
  auto r = run({"ffmpeg", "-v", "error", "-i", file.string(), "-map", "0:v:0", "-c", "copy", "-f",
                "framemd5", "-"});
  std::vector<std::string> out;
  std::istringstream in{r.out};
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#')
      continue;
    // stream, dts, pts, duration, size, hash: keep size and hash.
    auto fourth = line.find(',', line.find(',', line.find(',', line.find(',') + 1) + 1) + 1);
    out.push_back(line.substr(fourth + 1));
  }
  return out;
}

std::string decode_errors(const fs::path& file) {
  auto r = run({"ffmpeg", "-v", "error", "-xerror", "-i", file.string(), "-f", "null", "-"});
  if (r.exit_code != 0 && r.err.empty())
    return "ffmpeg exited " + std::to_string(r.exit_code);
  return r.err;
}

bool decodes_cleanly(const fs::path& file) { return decode_errors(file).empty(); }

void make_demo_session(const fs::path& dir, int seconds) {
  sh("'" + (source_dir() / "scripts/make-demo-session.sh").string() + "' '" + dir.string() + "' " +
     std::to_string(seconds) + " >/dev/null");
}

std::vector<fs::path> partial_files(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    if (it->path().filename().string().find(".partial") != std::string::npos)
      out.push_back(it->path());
  return out;
}

void write_manifest(const fs::path& dir, const std::string& video_json, const std::string& audio_json) {
  nlohmann::json m = {{"schema", 1},
                      {"id", "t-" + dir.filename().string()},
                      {"video", nlohmann::json::parse(video_json)},
                      {"audio", nlohmann::json::parse(audio_json)}};
  write_file(dir / "session.json", m.dump());
}

namespace {
std::string shq(const std::string& s) {  // single-quoted for sh
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return out + "'";
}
}  // namespace

void make_speech(const std::string& text, const fs::path& wav, const std::string& voice) {
  if (voice == "hts")
    sh("echo " + shq(text) + " | text2wave -eval '(voice_cmu_us_slt_arctic_hts)' -o " + shq(wav.string()));
  else
    sh("espeak-ng -s 160 -w " + shq(wav.string()) + " " + shq(text));
}

namespace {
// gst-launch source of `frames` frames of a slide (raw video). textoverlay
// reads Pango markup; auto-resize=false keeps the font sizes literal.
std::string slide_source(const slide& s, int frames, int width, int height, int fps) {
  return "videotestsrc pattern=solid-color foreground-color=" + s.background + " num-buffers=" +
         std::to_string(frames) + " ! video/x-raw,format=AYUV,width=" + std::to_string(width) +
         ",height=" + std::to_string(height) + ",framerate=" + std::to_string(fps) +
         "/1 ! textoverlay auto-resize=false text=\"" + s.title +
         "\" valignment=top halignment=left ypad=40 xpad=60 font-desc=\"Sans Bold 44\" color=" + s.ink +
         " ! textoverlay auto-resize=false text=\"" + s.body +
         "\" valignment=center halignment=left xpad=60 font-desc=\"Sans 24\" color=" + s.ink + " ! videoconvert";
}
}  // namespace

void make_slides_video(const fs::path& mp4, const std::vector<slide>& slides, int ms_each, int width,
                       int height) {
  constexpr int fps = 10;
  std::string branches;
  for (const auto& s : slides)
    branches += slide_source(s, ms_each * fps / 1000, width, height, fps) + " ! c. ";
  sh("gst-launch-1.0 -q concat name=c ! videoconvert ! x264enc speed-preset=ultrafast key-int-max=30 ! "
     "video/x-h264,profile=high ! h264parse ! mp4mux ! filesink location=" + shq(mp4.string()) + " " + branches);
}

void make_slide_picture(const fs::path& png, const slide& s, int width, int height) {
  sh("gst-launch-1.0 -q " + slide_source(s, 1, width, height, 10) + " ! pngenc ! filesink location=" +
     shq(png.string()));
}

void make_cursor_blink_video(const fs::path& mp4, int seconds) {
  // Half-second "slides": the page stays; only the cursor comes and goes.
  std::vector<slide> halves;
  for (int i = 0; i < seconds * 2; ++i)
    halves.push_back({"Meeting notes", std::string{"Decisions for the release&#10;- ship on Friday"} + (i % 2 ? "" : "|")});
  make_slides_video(mp4, halves, 500);
}

fs::path tone_session(const fs::path& dir, const std::string& id, int seconds) {
  fs::create_directories(dir / "audio");
  sh("sox -n -r 16000 -c 1 -b 16 " + shq((dir / "audio/a.wav").string()) + " synth " + std::to_string(seconds) +
     " sine 440 vol 0.3");
  write_file(dir / "session.json",
             nlohmann::json{{"schema", 1}, {"id", id}, {"audio", {{{"path", "audio/a.wav"}, {"offsetMs", 0}}}}}.dump());
  return dir;
}

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '\'') {
      cur += char(std::tolower(static_cast<unsigned char>(c)));
    } else if (!cur.empty()) {
      out.push_back(cur);
      cur.clear();
    }
  }
  return out;
}

double word_recall(const std::vector<std::string>& reference, const std::vector<std::string>& heard) {
  std::multiset<std::string> left(heard.begin(), heard.end());
  std::size_t found = 0;
  for (const auto& w : reference)
    if (auto it = left.find(w); it != left.end()) {
      ++found;
      left.erase(it);
    }
  return reference.empty() ? 0 : double(found) / double(reference.size());
}

}  // namespace postroll::test
