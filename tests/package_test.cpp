// The Debian packages as a user gets them: built by CPack from this build,
// checked by lintian, installed with apt into a fresh Debian 12 made by
// debootstrap (so Depends must bring everything postroll loads), then run
// there: --version, doctor, the demo session through the installed binary,
// and the systemd unit's command as the postroll user, in a network
// namespace of its own, serving a submit. Needs root (chroot, mount,
// unshare) and Debian's mirror (as scripts/install-deps.sh does).
#define BOOST_TEST_MODULE package
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "pipelines/media_requirements.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace postroll::test;
using namespace std::chrono_literals;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string field(const fs::path& deb, const std::string& name) {
  auto r = run({"dpkg-deb", "-f", deb.string(), name});
  auto v = r.out;
  while (!v.empty() && v.back() == '\n')
    v.pop_back();
  return v;
}

// The Debian mirror this machine installs from (debootstrap takes the same).
std::string debian_mirror() {
  std::regex uri{"(https?://\\S+/debian)/?\\s*$"};
  for (const auto* file : {"/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"}) {
    std::ifstream in{file};
    for (std::string line; std::getline(in, line);) {
      std::smatch m;
      if (line.rfind('#', 0) != 0 && std::regex_search(line, m, uri))
        return m[1].str();
    }
  }
  return "http://deb.debian.org/debian";
}

// Built once for all the cases below, in their order: the packages, a
// fresh Debian 12 with them installed.
struct package_env {
  temp_dir t;
  fs::path debs = t / "debs";
  fs::path root = t / "root";
  bool proc_mounted = false;
  std::map<std::string, fs::path> deb;  // package name -> file

  package_env() {
    BOOST_REQUIRE_MESSAGE(::geteuid() == 0, "the package test needs root (chroot, mount, unshare); "
                                            "run the others with ctest -LE package");
    // CPack from this build's configuration: the same binaries the other tests ran.
    auto cpack = run({"cpack", "-G", "DEB", "--config", (fs::path{POSTROLL_BUILD_DIR} / "CPackConfig.cmake").string(),
                      "-B", debs.string()});
    BOOST_REQUIRE_MESSAGE(cpack.exit_code == 0, cpack.out << cpack.err);
    for (const auto& e : fs::directory_iterator(debs))
      if (e.path().extension() == ".deb")
        deb[field(e.path(), "Package")] = e.path();
    BOOST_REQUIRE_MESSAGE(deb.size() == 3u, cpack.out);

    auto boot = run({"debootstrap", "--variant=minbase", "bookworm", root.string(), debian_mirror()});
    BOOST_REQUIRE_MESSAGE(boot.exit_code == 0, boot.out.substr(boot.out.size() > 3000 ? boot.out.size() - 3000 : 0)
                                                 << boot.err);
    // The same sources (security updates: the libraries' versions match
    // what dpkg-shlibdeps saw here) and name resolution as this machine.
    fs::remove(root / "etc/apt/sources.list");
    for (const auto& e : fs::directory_iterator("/etc/apt/sources.list.d"))
      if (e.path().extension() == ".sources" || e.path().extension() == ".list")
        fs::copy_file(e.path(), root / "etc/apt/sources.list.d" / e.path().filename());
    if (!fs::exists(root / "etc/apt/sources.list.d/debian.sources"))
      fs::copy_file("/etc/apt/sources.list", root / "etc/apt/sources.list");
    fs::copy_file("/etc/resolv.conf", root / "etc/resolv.conf", fs::copy_options::overwrite_existing);
    BOOST_REQUIRE(run({"mount", "--bind", "/proc", (root / "proc").string()}).exit_code == 0);
    proc_mounted = true;
    fs::create_directories(root / "tmp/debs");
    for (const auto& [name, file] : deb)
      fs::copy_file(file, root / "tmp/debs" / file.filename());
    auto update = in_root({"apt-get", "update", "-qq"});
    BOOST_REQUIRE_MESSAGE(update.exit_code == 0, update.err);
    // The user's command: apt install ./postroll_*.deb (and the library's).
    auto install = in_root({"sh", "-c", "cd /tmp/debs && apt-get install -y -qq --no-install-recommends "
                                        "./postroll_*.deb ./libpostroll*.deb"});
    BOOST_REQUIRE_MESSAGE(install.exit_code == 0, install.out.substr(install.out.size() > 4000 ? install.out.size() - 4000 : 0)
                                                    << install.err);
  }

  ~package_env() {
    if (proc_mounted)
      run({"umount", "-l", (root / "proc").string()});
  }

  // A command in the installed system, with a clean environment as root.
  command_result in_root(const std::vector<std::string>& argv) const {
    std::vector<std::string> v = {"env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8",
                                  "DEBIAN_FRONTEND=noninteractive", "chroot", root.string()};
    v.insert(v.end(), argv.begin(), argv.end());
    return run(v);
  }

  // uid:gid of a user of the installed system.
  std::string ids_of(const std::string& user) const {
    std::ifstream in{root / "etc/passwd"};
    for (std::string line; std::getline(in, line);) {
      std::vector<std::string> f;
      std::stringstream ss{line};
      for (std::string x; std::getline(ss, x, ':');)
        f.push_back(x);
      if (f.size() > 3 && f[0] == user)
        return f[2] + ":" + f[3];
    }
    return "";
  }
};

package_env* env = nullptr;
struct package_fixture {
  package_fixture() { env = new package_env; }
  ~package_fixture() { delete env; }
};
BOOST_TEST_GLOBAL_FIXTURE(package_fixture);

}  // namespace

BOOST_AUTO_TEST_CASE(the_packages_declare_what_postroll_needs_at_run_time) {
  auto tool = env->deb.at("postroll");
  auto depends = field(tool, "Depends");
  // Every GStreamer plugin package of the elements postroll uses (the list
  // doctor checks), the models, and what dpkg-shlibdeps computed.
  std::set<std::string> wanted = {"pocketsphinx-en-us", "tesseract-ocr-eng", "adduser", "librocksdb7.8",
                                  "libcaf-core0.17", "libtesseract5"};
  for (const auto& need : postroll::needed_elements())
    wanted.insert(need.package);
  for (const auto& p : wanted)
    BOOST_TEST(std::regex_search(depends, std::regex{"(^|, )" + p + "( \\(|,|$)"}), p << " not in Depends: " << depends);
  BOOST_TEST(field(tool, "Version") == std::string{POSTROLL_VERSION} + "-1");
  auto lib = env->deb.at("libpostroll" + std::string{POSTROLL_ABI_VERSION});
  BOOST_TEST(field(env->deb.at("libpostroll-dev"), "Depends") == "libpostroll" POSTROLL_ABI_VERSION " (= " +
                                                                     std::string{POSTROLL_VERSION} + "-1)");
  auto shlibs = run({"dpkg-deb", "-I", lib.string(), "shlibs"});
  BOOST_TEST(shlibs.out == "libpostroll " POSTROLL_ABI_VERSION " libpostroll" POSTROLL_ABI_VERSION " (>= " +
                             std::string{POSTROLL_VERSION} + "-1)\n");
  // The node's config is a conffile; the maintainer scripts are there.
  auto conffiles = run({"dpkg-deb", "-I", tool.string(), "conffiles"});
  BOOST_TEST(conffiles.out == "/etc/postroll/node.toml\n");
  auto info = run({"dpkg-deb", "-I", tool.string()}).out;
  for (const auto* script : {"postinst", "prerm", "postrm"})
    BOOST_TEST(contains(info, std::string{" *  "} + script), script << " missing: " << info);
  // The changelog's newest entry is this version.
  auto changelog = read_file(source_dir() / "deploy/debian/changelog");
  BOOST_TEST(changelog.rfind("postroll (" + std::string{POSTROLL_VERSION} + "-1) ", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(lintian_finds_no_error_and_only_the_warnings_docs_explain) {
  std::vector<std::string> argv = {"lintian", "--no-tag-display-limit"};
  for (const auto& [name, file] : env->deb)
    argv.push_back(file.string());
  auto r = run(argv);
  std::set<std::string> tags;
  std::istringstream in{r.out};
  for (std::string line; std::getline(in, line);) {
    BOOST_TEST(line.rfind("E: ", 0) != 0u, line);
    std::smatch m;
    if (std::regex_search(line, m, std::regex{"^[WEIPX]: \\S+: (\\S+)"}))
      tags.insert(m[1].str());
  }
  // docs/packaging.md says why each stays.
  std::set<std::string> explained = {"initial-upload-closes-no-bugs", "maintscript-calls-ldconfig",
                                     "pkg-config-unavailable-for-cross-compilation"};
  for (const auto& tag : tags)
    BOOST_TEST(explained.count(tag) == 1u, "lintian: " << tag << "\n" << r.out);
}

BOOST_AUTO_TEST_CASE(installed_it_has_its_user_data_folder_unit_man_page_and_completion) {
  auto ids = env->ids_of("postroll");
  BOOST_REQUIRE_MESSAGE(!ids.empty(), "no postroll user");
  struct stat st {};
  BOOST_REQUIRE(::stat((env->root / "var/lib/postroll").c_str(), &st) == 0);
  BOOST_TEST(std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid) == ids);
  BOOST_TEST((st.st_mode & 0777) == 0750u);
  auto uid = std::stoi(ids.substr(0, ids.find(':')));
  BOOST_TEST(uid < 1000, "not a system user: " << ids);
  BOOST_TEST(fs::exists(env->root / "etc/postroll/node.toml"));
  BOOST_TEST(fs::exists(env->root / "usr/share/man/man1/postroll.1.gz"));
  auto unit = read_file(env->root / "lib/systemd/system/postroll.service");
  BOOST_TEST(contains(unit, "ExecStart=/usr/bin/postroll node --config /etc/postroll/node.toml"));
  BOOST_TEST(contains(unit, "User=postroll"));
  auto completion = env->in_root({"bash", "-c", "source /usr/share/bash-completion/completions/postroll && complete -p postroll"});
  BOOST_TEST(completion.out == "complete -F _postroll postroll\n", completion.out << completion.err);
  // The library links as a host would: its soname resolves.
  auto ldd = env->in_root({"sh", "-c", "ldconfig -p | grep -c 'libpostroll.so." POSTROLL_ABI_VERSION "'"});
  BOOST_TEST(ldd.out == "1\n", ldd.out << ldd.err);
}

BOOST_AUTO_TEST_CASE(version_and_doctor_run_from_the_installed_binary) {
  auto v = env->in_root({"postroll", "--version"});
  BOOST_TEST(v.exit_code == 0, v.err);
  auto here = run({postroll_binary().string(), "--version"});
  // The same build: the same version and commit line.
  BOOST_TEST(v.out.substr(0, v.out.find('\n')) == here.out.substr(0, here.out.find('\n')));
  BOOST_TEST(contains(v.out, "compress uses x264enc"), v.out);
  // Everything doctor checks came with the package's Depends.
  auto d = env->in_root({"postroll", "doctor"});
  BOOST_TEST(d.exit_code == 0, d.out << d.err);
  BOOST_TEST(contains(d.out, "This machine can run postroll."), d.out);
  BOOST_TEST(contains(d.out, "job database: /root/.local/state/postroll ($XDG_STATE_HOME/postroll)"), d.out);
}

BOOST_AUTO_TEST_CASE(the_demo_session_runs_through_the_installed_binary_with_default_settings) {
  make_demo_session(env->root / "srv/demo-cli", 12);
  auto r = env->in_root({"postroll", "process", "/srv/demo-cli"});
  BOOST_TEST(r.exit_code == 0, r.out << r.err);
  BOOST_TEST(r.out == "/srv/demo-cli/postroll/session.mp4\n", r.out);
  auto mp4 = env->root / "srv/demo-cli/postroll/session.mp4";
  BOOST_TEST(probe_codecs(mp4) == (std::vector<std::string>{"h264", "aac"}));
  BOOST_TEST(decodes_cleanly(mp4));
  for (const auto* out : {"transcript.json", "chapters.json", "summary.json", "canvas.json", "canvas.jpg"})
    BOOST_TEST(fs::exists(env->root / "srv/demo-cli/postroll/enrichment" / out), out);
  // The database went where a Linux tool keeps state.
  BOOST_TEST(fs::exists(env->root / "root/.local/state/postroll/CURRENT"));
  auto status = env->in_root({"postroll", "status"});
  BOOST_TEST(status.exit_code == 0, status.err);
  BOOST_TEST(contains(status.out, "completed 1"), status.out);
}

BOOST_AUTO_TEST_CASE(the_units_command_serves_as_the_postroll_user) {
  auto unit = read_file(env->root / "lib/systemd/system/postroll.service");
  std::smatch m;
  BOOST_REQUIRE(std::regex_search(unit, m, std::regex{"\nExecStart=([^\n]+)\n"}));
  auto exec_start = m[1].str();
  auto ids = env->ids_of("postroll");
  // The session root of /etc/postroll/node.toml, as its comment says to make it.
  BOOST_REQUIRE(env->in_root({"install", "-d", "-o", "postroll", "-g", "postroll", "-m", "2775", "/srv/postroll"}).exit_code == 0);
  make_demo_session(env->root / "srv/postroll/demo-node", 8);
  BOOST_REQUIRE(env->in_root({"chown", "-R", "postroll:postroll", "/srv/postroll/demo-node"}).exit_code == 0);

  // Its own network namespace: the unit's ports (7411, 7412) are free there.
  child_process node{{"unshare", "--net", "sh", "-c",
                      "ip link set lo up && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/var/lib/postroll chroot --userspec=" +
                        ids + " " + env->root.string() + " " + exec_start}};
  auto [host, port] = wait_for_node(node);
  BOOST_TEST(port == 7411);
  auto netns = "--net=/proc/" + std::to_string(node.pid()) + "/ns/net";
  auto client = [&](const std::vector<std::string>& args) {
    std::vector<std::string> v = {"nsenter", netns, "env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
                                  "chroot", env->root.string(), "postroll"};
    v.insert(v.end(), args.begin(), args.end());
    return run(v);
  };
  auto sub = client({"submit", "/srv/postroll/demo-node", "--wait", "--json"});
  BOOST_TEST(sub.exit_code == 0, sub.out << sub.err);
  BOOST_TEST(json::parse(sub.out)["state"] == "completed", sub.out);
  BOOST_TEST(contains(sub.err, "postroll: node 127.0.0.1:7411"), sub.err);
  // The node wrote as its user, into its data folder.
  struct stat st {};
  BOOST_REQUIRE(::stat((env->root / "srv/postroll/demo-node/postroll/session.mp4").c_str(), &st) == 0);
  BOOST_TEST(std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid) == ids);
  BOOST_TEST(fs::exists(env->root / "var/lib/postroll/CURRENT"));
  // A folder outside the session root is refused with the reason.
  auto outside = client({"submit", "/srv/demo-cli"});
  BOOST_TEST(outside.exit_code == 2);
  BOOST_TEST(contains(outside.err, "/srv/postroll"), outside.err);
  // The dashboard is served from the package's web folder.
  auto page = run({"nsenter", netns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:7412/"});
  BOOST_TEST(page.out == "200", page.out << page.err);
  node.signal(SIGTERM);
  BOOST_TEST(node.wait() == 0, node.transcript());
}

BOOST_AUTO_TEST_CASE(a_reinstall_keeps_the_admins_config_and_purge_removes_the_node_state) {
  auto conf = env->root / "etc/postroll/node.toml";
  auto edited = read_file(conf) + "# edited by the admin\n";
  write_file(conf, edited);
  auto again = env->in_root({"sh", "-c", "dpkg -i /tmp/debs/postroll_*.deb"});
  BOOST_TEST(again.exit_code == 0, again.out << again.err);
  BOOST_TEST(read_file(conf) == edited);
  auto purge = env->in_root({"apt-get", "purge", "-y", "-qq", "postroll"});
  BOOST_TEST(purge.exit_code == 0, purge.out << purge.err);
  BOOST_TEST(!fs::exists(env->root / "var/lib/postroll"));
  BOOST_TEST(!fs::exists(conf));
  BOOST_TEST(!fs::exists(env->root / "usr/bin/postroll"));
  // The recordings and their outputs are not the package's.
  BOOST_TEST(fs::exists(env->root / "srv/postroll/demo-node/postroll/session.mp4"));
}
