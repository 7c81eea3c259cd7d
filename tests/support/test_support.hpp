// Helpers shared by the tests: temporary folders, running commands and
// child processes, and independent media checks through ffmpeg/ffprobe.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace postroll::test {

/// The source tree and the built `postroll` binary (set by CMake).
std::filesystem::path source_dir();
std::filesystem::path postroll_binary();

/// A fresh folder, removed on destruction (kept if POSTROLL_KEEP_TEST_FILES is set).
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& rel) const { return path_ / rel; }

private:
  std::filesystem::path path_;
};

struct command_result {
  int exit_code = -1;
  std::string out;  ///< stdout
  std::string err;  ///< stderr
};

/// Runs argv (no shell) to completion.
command_result run(const std::vector<std::string>& argv);

/// Runs a shell command line to completion; throws when it exits non-zero.
std::string sh(const std::string& command_line);

void write_file(const std::filesystem::path& p, const std::string& text);
std::string read_file(const std::filesystem::path& p);

/// A child process with its stdout and stderr readable line by line.
class child_process {
public:
  explicit child_process(const std::vector<std::string>& argv);
  ~child_process();  // SIGKILLs a child that is still running
  /// Reads stdout+stderr lines until `match` returns true or `timeout` passes.
  /// @returns the matching line, or empty on timeout/EOF.
  std::string wait_for_line(const std::function<bool(const std::string&)>& match,
                            std::chrono::milliseconds timeout);
  /// Reads everything the child has printed so far (into transcript()): a
  /// chatty child blocks once its pipe is full and nobody reads.
  void drain();
  void signal(int sig);
  /// Waits for the child to exit. @returns its exit status (or 128+signal).
  int wait();
  pid_t pid() const { return pid_; }
  /// Everything read so far.
  const std::string& transcript() const { return transcript_; }

private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
  std::string transcript_;
  bool exited_ = false;
  int status_ = 0;
};

/// Waits for a `postroll node` child to print "listening on HOST:PORT".
/// @returns host and port; throws when it does not within 30 s.
std::pair<std::string, std::uint16_t> wait_for_node(child_process& node);

/// Decodes the first audio stream of `file` with ffmpeg to mono S16 at its own rate.
std::vector<std::int16_t> decode_audio_with_ffmpeg(const std::filesystem::path& file, int& rate);

/// Onsets (ms) of tones louder than `threshold` (0..1) after >= 20 ms of quiet.
std::vector<double> find_beeps(const std::vector<std::int16_t>& pcm, int rate, double threshold = 0.15);

/// ffprobe: the duration in seconds of a stream ("v:0", "a:0") or the file ("").
double probe_duration(const std::filesystem::path& file, const std::string& stream = "");
/// ffprobe: codec names of all streams, in order ("h264", "aac").
std::vector<std::string> probe_codecs(const std::filesystem::path& file);
/// ffmpeg: size and MD5 of every video packet, in order (stream copy, no decode).
std::vector<std::string> video_packet_hashes(const std::filesystem::path& file);
/// ffmpeg decodes the whole file; @returns true when it reports no error.
bool decodes_cleanly(const std::filesystem::path& file);
/// What ffmpeg reports decoding the whole file ("" when nothing).
std::string decode_errors(const std::filesystem::path& file);

/// Makes a session folder with scripts/make-demo-session.sh.
void make_demo_session(const std::filesystem::path& dir, int seconds);

/// Writes `dir`/session.json with the given video and audio entries (JSON
/// arrays as text); the id is "t-" + the folder name.
void write_manifest(const std::filesystem::path& dir, const std::string& video_json,
                    const std::string& audio_json);

/// Speech of `text` as a WAV file: voice "espeak" (espeak-ng's formant
/// voice, far from human speech) or "hts" (festival's cmu_us_slt HTS voice,
/// close to a human narrator).
void make_speech(const std::string& text, const std::filesystem::path& wav, const std::string& voice);

/// One picture of a screen video: a background, a big title and body text.
struct slide {
  std::string title;
  std::string body;
  std::string background = "0xfff8f8f8";  ///< ARGB; light pages by default
  std::string ink = "0xff202020";
};
/// An H.264 MP4 (10 fps) showing each slide for `ms_each` ms (a cut between
/// light pages changes only the text: the hard case for scene detection).
void make_slides_video(const std::filesystem::path& mp4, const std::vector<slide>& slides, int ms_each,
                       int width = 1280, int height = 720);

/// One slide as a PNG screenshot.
void make_slide_picture(const std::filesystem::path& png, const slide& s, int width = 1280, int height = 720);

/// An H.264 MP4 of one still page whose only change is a text cursor
/// blinking every half second for `seconds`.
void make_cursor_blink_video(const std::filesystem::path& mp4, int seconds);

/// An audio-only session: one WAV of a 440 Hz tone, `seconds` long, id `id`.
std::filesystem::path tone_session(const std::filesystem::path& dir, const std::string& id, int seconds = 2);

/// Files under `dir` whose name contains ".partial".
std::vector<std::filesystem::path> partial_files(const std::filesystem::path& dir);

/// Lower-case words (letters, digits, apostrophes) of `text`, in order.
std::vector<std::string> words_of(const std::string& text);
/// Recall of a transcript: the share of `reference`'s words found in
/// `heard`, each heard word used once (bag of words).
double word_recall(const std::vector<std::string>& reference, const std::vector<std::string>& heard);

}  // namespace postroll::test
