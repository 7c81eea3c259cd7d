// The session manifest is the input contract: every way it can be wrong gets
// one clear message naming the file and the reason.
#define BOOST_TEST_MODULE manifest
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "session/manifest.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace postroll;
using postroll::test::temp_dir;
using postroll::test::write_file;

namespace {

struct bad_case {
  const char* name;
  std::string manifest;         // session.json text ("" = no file)
  std::string expected_file;    // path the message must start with, relative to the session
  std::string expected_reason;  // text the message must contain
};

// Files every case can reference.
void make_media(const fs::path& dir) {
  write_file(dir / "audio/a.wav", "RIFF....");
  write_file(dir / "video/v.mp4", "....ftyp");
  write_file(dir / "empty.wav", "");
  fs::create_directories(dir / "adir");
  fs::create_directories(dir.parent_path() / "outside");
  write_file(dir.parent_path() / "outside/secret.wav", "secret");
  fs::create_symlink(dir.parent_path() / "outside/secret.wav", dir / "escape.wav");
  fs::create_symlink(dir / "nowhere.wav", dir / "dangling.wav");
}

std::string with_audio(const std::string& entry) {
  return R"({"schema":1,"id":"s1","audio":[)" + entry + "]}";
}

}  // namespace

BOOST_AUTO_TEST_CASE(bad_manifests_are_rejected_with_the_file_and_the_reason) {
  const std::vector<bad_case> cases = {
    {"no session.json", "", "session.json", "missing"},
    {"not JSON", "{schema: 1", "session.json", "invalid JSON"},
    {"not an object", "[1,2]", "session.json", "must hold a JSON object"},
    {"schema missing", R"({"id":"s1","audio":[]})", "session.json", "schema: missing"},
    {"schema not integer", R"({"schema":"1","id":"s1"})", "session.json", "schema: must be an integer"},
    {"schema unsupported", R"({"schema":2,"id":"s1"})", "session.json", "version 2 is not supported"},
    {"id missing", R"({"schema":1})", "session.json", "id: missing"},
    {"id not string", R"({"schema":1,"id":7})", "session.json", "id: must be a string"},
    {"id with slash", R"({"schema":1,"id":"a/b"})", "session.json", "id: \"a/b\" must be"},
    {"name not string", R"({"schema":1,"id":"s1","name":3})", "session.json", "name: must be a string"},
    {"startedAt negative", R"({"schema":1,"id":"s1","startedAt":-5})", "session.json", "startedAt: must be"},
    {"audio not array", R"({"schema":1,"id":"s1","audio":{}})", "session.json", "audio: must be an array"},
    {"entry not object", with_audio(R"("a.wav")"), "session.json", "audio[0]: must be an object"},
    {"path missing", with_audio(R"({"offsetMs":0})"), "session.json", "audio[0].path: missing"},
    {"path not string", with_audio(R"({"path":5})"), "session.json", "audio[0].path: must be a string"},
    {"offset negative", with_audio(R"({"path":"audio/a.wav","offsetMs":-1})"), "session.json",
     "audio[0].offsetMs: must be >= 0 (got -1)"},
    {"offset fractional", with_audio(R"({"path":"audio/a.wav","offsetMs":1.5})"), "session.json",
     "audio[0].offsetMs: must be an integer"},
    {"absolute path", with_audio(R"({"path":"/etc/passwd"})"), "session.json",
     "audio[0].path: absolute paths are not allowed"},
    {"dot-dot path", with_audio(R"({"path":"../outside/secret.wav"})"), "session.json",
     "audio[0].path: \"..\" is not allowed"},
    {"symlink escaping", with_audio(R"({"path":"escape.wav"})"), "escape.wav",
     "resolves outside the session folder"},
    {"missing file", with_audio(R"({"path":"audio/none.wav"})"), "audio/none.wav", "file does not exist (audio[0])"},
    {"dangling symlink", with_audio(R"({"path":"dangling.wav"})"), "dangling.wav", "file does not exist"},
    {"directory as file", with_audio(R"({"path":"adir"})"), "adir", "is not a regular file"},
    {"empty video", R"({"schema":1,"id":"s1","video":[{"path":"empty.wav"}]})", "empty.wav", "is empty"},
    {"nothing to do", R"({"schema":1,"id":"s1","screenshots":[]})", "session.json", "no video and no audio"},
    {"bad second entry", R"({"schema":1,"id":"s1","audio":[{"path":"audio/a.wav"},{"path":"x.wav","offsetMs":3}]})",
     "x.wav", "file does not exist (audio[1])"},
  };
  BOOST_TEST(cases.size() >= 15u);
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("case: " << c.name) {
      temp_dir tmp;
      auto dir = tmp / "session";
      fs::create_directories(dir);
      make_media(dir);
      if (!c.manifest.empty())
        write_file(dir / "session.json", c.manifest);
      auto m = load_manifest(dir);
      BOOST_REQUIRE(!m);
      BOOST_TEST(int(m.err().code) == int(errc::bad_input));
      auto canonical = fs::canonical(dir);
      auto expected_prefix = (canonical / c.expected_file).string() + ": ";
      BOOST_TEST(m.err().message.rfind(expected_prefix, 0) == 0, "message: " << m.err().message);
      BOOST_TEST(m.err().message.find(c.expected_reason) != std::string::npos,
                 "message: " << m.err().message);
    }
  }
}

BOOST_AUTO_TEST_CASE(missing_session_folder_is_named) {
  auto m = load_manifest("/nonexistent/session");
  BOOST_REQUIRE(!m);
  BOOST_TEST(m.err().message == "/nonexistent/session: session folder does not exist");
}

BOOST_AUTO_TEST_CASE(segments_are_ordered_by_offset_not_list_order) {
  temp_dir tmp;
  auto dir = tmp / "s";
  write_file(dir / "a.wav", "x");
  write_file(dir / "b.wav", "x");
  write_file(dir / "c.wav", "x");
  write_file(dir / "session.json", R"({"schema":1,"id":"s-1","name":"n","audio":[
    {"path":"c.wav","offsetMs":9000},{"path":"a.wav","offsetMs":0},{"path":"b.wav","offsetMs":4000}]})");
  auto m = load_manifest(dir);
  BOOST_REQUIRE_MESSAGE(m, (m ? "" : m.err().message));
  BOOST_REQUIRE_EQUAL(m->audio.size(), 3u);
  BOOST_TEST(m->audio[0].path == "a.wav");
  BOOST_TEST(m->audio[1].path == "b.wav");
  BOOST_TEST(m->audio[2].path == "c.wav");
  BOOST_TEST(m->name == "n");
}

BOOST_AUTO_TEST_CASE(several_videos_are_accepted_and_placed_by_offset) {
  temp_dir tmp;
  auto dir = tmp / "s";
  write_file(dir / "video/a.mp4", "....ftyp");
  write_file(dir / "video/b.mp4", "....ftyp");
  write_file(dir / "session.json", R"({"schema":1,"id":"two","video":[{"path":"video/b.mp4","offsetMs":60000},)"
                                   R"({"path":"video/a.mp4","offsetMs":0}]})");
  auto m = load_manifest(dir);
  BOOST_REQUIRE_MESSAGE(m, (m ? "" : m.err().message));
  BOOST_REQUIRE_EQUAL(m->video.size(), 2u);
  BOOST_TEST(m->video[0].path == "video/a.mp4");
  BOOST_TEST(m->video[1].offset_ms == 60000);
}

BOOST_AUTO_TEST_CASE(symlinks_inside_the_session_and_unknown_keys_are_accepted) {
  temp_dir tmp;
  auto dir = tmp / "s";
  write_file(dir / "real/a.wav", "x");
  fs::create_symlink(dir / "real/a.wav", dir / "link.wav");
  // Unknown keys are ignored so that newer recorders can add fields.
  write_file(dir / "session.json",
             R"({"schema":1,"id":"s-1","recorder":{"app":"x"},"audio":[{"path":"link.wav"}]})");
  auto m = load_manifest(dir);
  BOOST_REQUIRE_MESSAGE(m, (m ? "" : m.err().message));
  // Named as the manifest names it; opened, it is the file the link points to.
  BOOST_TEST(m->audio[0].resolved == fs::canonical(dir) / "link.wav");
  auto opened = m->audio[0].open();
  BOOST_REQUIRE(opened);
  BOOST_TEST(*opened->read_all(16) == "x");
  BOOST_TEST(m->audio[0].offset_ms == 0);
}

BOOST_AUTO_TEST_CASE(missing_audio_can_be_accepted_as_silence_but_escapes_never) {
  temp_dir tmp;
  auto dir = tmp / "s";
  write_file(dir / "a.wav", "x");
  write_file(dir / "session.json",
             R"({"schema":1,"id":"s","audio":[{"path":"a.wav"},{"path":"gone.wav","offsetMs":5}]})");
  BOOST_TEST(!load_manifest(dir));
  auto m = load_manifest(dir, {true});
  BOOST_REQUIRE_MESSAGE(m, (m ? "" : m.err().message));
  BOOST_TEST(!m->audio[0].missing);
  BOOST_TEST(m->audio[1].missing);
  write_file(dir / "session.json", R"({"schema":1,"id":"s","audio":[{"path":"../outside.wav"}]})");
  BOOST_TEST(!load_manifest(dir, {true}));
}
