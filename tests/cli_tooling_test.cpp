// What makes postroll a tool like the ones people know: --help and
// --version, doctor (with plugins and models really missing), the man page
// and bash completion kept in step with the usage text.
#define BOOST_TEST_MODULE cli_tooling
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "pipelines/media_requirements.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll::test;

namespace {

command_result postroll_cmd(std::vector<std::string> args, const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {"env"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back(postroll_binary().string());
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Every command and every --option the usage text names.
std::set<std::string> usage_words(const std::string& usage, bool options) {
  static const std::regex option{"(--[a-z][a-z-]+)"};
  std::set<std::string> out;
  std::istringstream in{usage};
  bool in_commands = false;
  for (std::string line; std::getline(in, line);) {
    if (line == "commands:")
      in_commands = true;
    else if (line == "options:" || line.empty())
      in_commands = false;
    std::smatch m;
    if (options) {
      for (std::sregex_iterator it{line.begin(), line.end(), option}, end; it != end; ++it)
        out.insert((*it)[1].str());
    } else if (in_commands && std::regex_match(line, m, std::regex{"  ([a-z]+)( .*)?"})) {
      out.insert(m[1].str());
    }
  }
  return out;
}

std::string help_text() {
  auto r = postroll_cmd({"--help"});
  BOOST_REQUIRE_EQUAL(r.exit_code, 0);
  return r.out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(help_goes_to_stdout_and_a_wrong_option_is_one_line) {
  auto help = postroll_cmd({"--help"});
  BOOST_TEST(help.exit_code == 0);
  BOOST_TEST(help.out.rfind("usage: postroll COMMAND", 0) == 0u, help.out);
  BOOST_TEST(help.err.empty());
  BOOST_TEST(postroll_cmd({"help"}).out == help.out);
  auto wrong = postroll_cmd({"status", "--frobnicate"});
  BOOST_TEST(wrong.exit_code == 2);
  BOOST_TEST(wrong.err == "postroll: unknown option or missing value: --frobnicate\n"
                          "postroll --help lists the commands and options\n",
             wrong.err);
  auto unknown = postroll_cmd({"frobnicate"});
  BOOST_TEST(unknown.exit_code == 2);
  BOOST_TEST(unknown.err == "postroll: unknown command frobnicate (postroll --help lists them)\n", unknown.err);
}

BOOST_AUTO_TEST_CASE(version_names_the_commit_the_libraries_and_the_encoders) {
  auto r = postroll_cmd({"--version"});
  BOOST_TEST(r.exit_code == 0, r.err);
  std::smatch m;
  BOOST_REQUIRE_MESSAGE(std::regex_search(r.out, m, std::regex{"^postroll (\\d+\\.\\d+\\.\\d+) \\(commit ([0-9a-f]{12}(\\+changes)?|unknown)\\)\n"}),
                        r.out);
  // The commit the source tree is at, when it is a git checkout.
  auto head = run({"git", "-C", source_dir().string(), "rev-parse", "--short=12", "HEAD"});
  if (head.exit_code == 0)
    BOOST_TEST(m[2].str().substr(0, 12) == head.out.substr(0, 12));
  for (const auto* lib : {"CAF 0.17.6", "GStreamer 1.22", "RocksDB 7.8", "Tesseract 5", "pocketsphinx"})
    BOOST_TEST(contains(r.out, lib), lib << " missing in " << r.out);
  BOOST_TEST(contains(r.out, "H.264 encoders: x264enc, openh264enc; compress uses x264enc"), r.out);
  BOOST_TEST(contains(r.out, "AAC encoders: voaacenc"), r.out);

  auto j = postroll_cmd({"version", "--json"});
  BOOST_TEST(j.exit_code == 0);
  auto doc = json::parse(j.out);
  BOOST_TEST(doc["version"] == m[1].str());
  BOOST_TEST(doc["h264Encoder"] == "x264enc");
  BOOST_TEST(doc["libraries"]["CAF"] == "0.17.6");
}

BOOST_AUTO_TEST_CASE(doctor_passes_on_a_machine_that_has_everything) {
  temp_dir t;
  auto r = postroll_cmd({"doctor", "--data-dir", (t / "db").string()});
  BOOST_TEST(r.exit_code == 0, r.out << r.err);
  BOOST_TEST(contains(r.out, "This machine can run postroll."), r.out);
  BOOST_TEST(contains(r.out, "ok      GStreamer 1.22"), r.out);
  BOOST_TEST(contains(r.out, "job database: " + (t / "db").string() + " (--data-dir): made at the first job"), r.out);
  auto j = postroll_cmd({"doctor", "--json", "--data-dir", (t / "db").string()});
  auto doc = json::parse(j.out);
  BOOST_TEST(doc["ok"] == true);
  BOOST_TEST(doc["fix"] == "");
  for (const auto& c : doc["checks"])
    BOOST_TEST(c["status"] != "MISSING", c.dump());
}

BOOST_AUTO_TEST_CASE(doctor_names_what_is_missing_and_the_packages_that_bring_it) {
  temp_dir t;
  fs::create_directories(t / "no-plugins");
  // GStreamer with no plugins at all, a speech model that is not there and
  // an OCR language nobody installed.
  std::vector<std::string> bare = {"GST_PLUGIN_SYSTEM_PATH_1_0=" + (t / "no-plugins").string(),
                                   "GST_PLUGIN_PATH_1_0=" + (t / "no-plugins").string(),
                                   "GST_REGISTRY_1_0=" + (t / "registry.bin").string()};
  write_file(t / "c.toml", "[enrich]\nspeech_model = \"" + (t / "none").string() + "\"\nocr_language = \"eng+xyz\"\n");
  auto r = postroll_cmd({"doctor", "--config", (t / "c.toml").string(), "--data-dir", (t / "db").string()}, bare);
  BOOST_TEST(r.exit_code == 1, r.out << r.err);
  std::set<std::string> packages;
  for (const auto& need : postroll::needed_elements())
    packages.insert(need.package);
  for (const auto& p : packages) {
    BOOST_TEST(contains(r.out, "MISSING " + p + ": not installed: "), p << " not named in " << r.out);
  }
  BOOST_TEST(contains(r.out, "MISSING gstreamer1.0-plugins-ugly: not installed: x264enc (compressing video (media.compress))"),
             r.out);
  BOOST_TEST(contains(r.out, "MISSING speech recognition: speech model missing: " + (t / "none/en-us").string()), r.out);
  BOOST_TEST(contains(r.out, "MISSING OCR language data: OCR: Tesseract has no trained data for \"xyz\""), r.out);
  // One line fixes it all.
  std::smatch m;
  BOOST_REQUIRE_MESSAGE(std::regex_search(r.out, m, std::regex{"\nTo fix: apt install ([^\n]+)\n"}), r.out);
  std::set<std::string> fix;
  std::istringstream words{m[1].str()};
  for (std::string w; words >> w;)
    fix.insert(w);
  for (const auto& p : packages)
    BOOST_TEST(fix.count(p) == 1u, p << " not in the fix: " << m[1].str());
  BOOST_TEST(fix.count("tesseract-ocr-xyz") == 1u);
  BOOST_TEST(fix.count("tesseract-ocr-eng") == 0u, "eng is there: " << m[1].str());

  // A broken config is a finding, not the end of the check.
  write_file(t / "broken.toml", "[media]\nworkers = \"three\"\n");
  auto b = postroll_cmd({"doctor", "--config", (t / "broken.toml").string(), "--json", "--data-dir", (t / "db").string()});
  BOOST_TEST(b.exit_code == 1);
  auto doc = json::parse(b.out);
  BOOST_TEST(doc["checks"][0]["what"] == "config");
  BOOST_TEST(doc["checks"][0]["status"] == "MISSING");
  BOOST_TEST(contains(doc["checks"][0]["detail"].get<std::string>(), "broken.toml:2: key 'media.workers'"));
  BOOST_TEST(doc["checks"].size() > 5u);
}

BOOST_AUTO_TEST_CASE(the_man_page_documents_every_command_and_option_and_renders_cleanly) {
  auto help = help_text();
  auto page = read_file(source_dir() / "docs/postroll.1");
  // In roff a "-" is written "\-".
  auto roff = std::regex_replace(page, std::regex{"\\\\-"}, "-");
  auto commands = usage_words(help, false);
  BOOST_TEST(commands.size() == 13u);
  for (const auto& c : commands)
    BOOST_TEST(std::regex_search(roff, std::regex{"\\.(B|BI|BR) " + c + "\\b"}), "man page lacks the command " << c);
  auto options = usage_words(help, true);
  BOOST_TEST(options.size() >= 15u);
  for (const auto& o : options)
    BOOST_TEST(contains(roff, o), "man page lacks " << o);
  // The version it states is the binary's.
  auto version = json::parse(postroll_cmd({"--version", "--json"}).out)["version"].get<std::string>();
  BOOST_TEST(contains(page, "\"postroll " + version + "\""));
  // groff finds nothing to warn about.
  auto g = run({"groff", "-man", "-Tutf8", "-ww", "-z", (source_dir() / "docs/postroll.1").string()});
  BOOST_TEST(g.exit_code == 0);
  BOOST_TEST(g.err.empty(), g.err);
}

BOOST_AUTO_TEST_CASE(bash_completion_offers_commands_options_values_folders_and_job_ids) {
  temp_dir t;
  auto script = source_dir() / "apps/completion.bash";
  // What bash offers for a command line whose last word is being typed.
  auto complete = [&](const std::string& line) {
    auto r = run({"bash", "-c",
                  "source \"$0\"; read -ra COMP_WORDS <<< \"$1\"; [[ $1 == *' ' ]] && COMP_WORDS+=(''); "
                  "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); cd \"$2\"; _postroll; printf '%s\\n' \"${COMPREPLY[@]}\"",
                  script.string(), line, t.path().string()});
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    std::set<std::string> words;
    std::istringstream in{r.out};
    for (std::string w; std::getline(in, w);)
      if (!w.empty())
        words.insert(w);
    return words;
  };
  auto help = help_text();
  auto commands = usage_words(help, false);
  BOOST_TEST(complete(postroll_binary().string() + " ") == commands);
  BOOST_TEST(complete("postroll pro") == std::set<std::string>{"process"});
  BOOST_TEST(complete("postroll submit x --priority ") == (std::set<std::string>{"high", "normal", "low"}));
  BOOST_TEST(complete("postroll process x --retention d") == std::set<std::string>{"delete"});
  BOOST_TEST(complete("postroll process --no-") == (std::set<std::string>{"--no-compress", "--no-enrich"}));
  fs::create_directories(t / "session-one");
  BOOST_TEST(complete("postroll process sess") == std::set<std::string>{"session-one"});
  // Every option of the usage is offered after some command.
  std::set<std::string> offered;
  for (const auto& c : commands)
    for (const auto& o : complete("postroll " + c + " --"))
      offered.insert(o);
  for (const auto& o : usage_words(help, true))
    BOOST_TEST(offered.count(o) == 1u, "completion never offers " << o);
  // Job ids come from `postroll status`, here from a local database.
  auto session = tone_session(t / "s", "completed-one");
  auto done = run({postroll_binary().string(), "process", session.string(), "--no-enrich", "--json"});
  BOOST_REQUIRE_EQUAL(done.exit_code, 0);
  auto id = json::parse(done.out)["id"].get<std::string>();
  BOOST_TEST(complete(postroll_binary().string() + " cancel ") == std::set<std::string>{id});
}
