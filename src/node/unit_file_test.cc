// Tests of the pod unit files: names, systemd quoting of hostile arguments, render/parse round
// trips, and the atomic write. (That systemd itself reads the quoting back the same way is
// checked against a real systemd in systemd_manager_privileged_test.cc.)
#include "node/unit_file.h"

#include <sys/stat.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::node {
namespace {

constexpr const char* kUuid = "0f3c2a1e-5b6d-4e7f-8a9b-0c1d2e3f4a5b";

PodUnit SampleUnit() {
  PodUnit unit;
  unit.pod_uuid = kUuid;
  unit.exec_start = {"/usr/bin/comet", "run-prepared", "--net=default", "--hostname=web-0", kUuid};
  unit.stop_post_marker = "/var/lib/comet-node/pods/uid-1/finished-" + std::string(kUuid);
  unit.timeout_stop_sec = 30;
  unit.description = "web-0";
  unit.syslog_identifier = "web";
  unit.kubernetes = {{"PodUID", "8d9e6f1a-uid"},
                     {"PodName", "web-0"},
                     {"PodNamespace", "default"},
                     {"PodHostNetwork", "false"},
                     {"PodNetworkNamespace", "k8s_" + std::string(kUuid)}};
  return unit;
}

TEST(UnitName, RktnetesForm) {
  EXPECT_EQ(UnitName(kUuid), "k8s_0f3c2a1e-5b6d-4e7f-8a9b-0c1d2e3f4a5b.service");
  EXPECT_EQ(PodUuidFromUnitName(UnitName(kUuid)), kUuid);
}

TEST(UnitName, OtherNamesHaveNoUuid) {
  EXPECT_EQ(PodUuidFromUnitName("k8s_.service"), std::nullopt);
  EXPECT_EQ(PodUuidFromUnitName("dbus.service"), std::nullopt);
  EXPECT_EQ(PodUuidFromUnitName("k8s_0f3c2a1e-5b6d-4e7f-8a9b-0c1d2e3f4a5b.socket"), std::nullopt);
  EXPECT_EQ(PodUuidFromUnitName("k8s_0F3C2A1E-5B6D-4E7F-8A9B-0C1D2E3F4A5B.service"), std::nullopt);
  EXPECT_EQ(PodUuidFromUnitName("k8s_../../etc/passwd-xxxxxxxxxxxxxxxxxxx.service"), std::nullopt);
}

TEST(UnitName, UuidValidation) {
  EXPECT_TRUE(IsValidPodUuid(kUuid));
  EXPECT_FALSE(IsValidPodUuid(""));
  EXPECT_FALSE(IsValidPodUuid("0f3c2a1e5b6d4e7f8a9b0c1d2e3f4a5b"));
  EXPECT_FALSE(IsValidPodUuid("0f3c2a1e-5b6d-4e7f-8a9b-0c1d2e3f4a5g"));
  EXPECT_FALSE(IsValidPodUuid("0f3c2a1e-5b6d-4e7f-8a9b-0c1d2e3f4a5b0"));
}

TEST(QuoteExecArg, EscapesWhatSystemdInterprets) {
  EXPECT_EQ(QuoteExecArg("plain"), "\"plain\"");
  EXPECT_EQ(QuoteExecArg("two words"), "\"two words\"");
  EXPECT_EQ(QuoteExecArg(""), "\"\"");
  EXPECT_EQ(QuoteExecArg("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(QuoteExecArg("it's"), "\"it's\"");
  EXPECT_EQ(QuoteExecArg("back\\slash"), "\"back\\\\slash\"");
  EXPECT_EQ(QuoteExecArg("$HOME ${HOME}"), "\"$$HOME $${HOME}\"");
  EXPECT_EQ(QuoteExecArg("100% %n"), "\"100%% %%n\"");
  EXPECT_EQ(QuoteExecArg(";"), "\";\"");
}

TEST(QuoteExecArg, RejectsControlCharacters) {
  for (const char* arg : {"two\nlines", "cr\r", "tab\there", "bell\a", "del\x7f"}) {
    auto quoted = QuoteExecArg(arg);
    ASSERT_FALSE(quoted) << arg;
    EXPECT_EQ(quoted.error().code(), EINVAL);
  }
}

TEST(RenderUnit, RktnetesShape) {
  auto text = RenderUnit(SampleUnit());
  ASSERT_TRUE(text) << text.error().ToString();
  std::string marker = "/var/lib/comet-node/pods/uid-1/finished-" + std::string(kUuid);
  EXPECT_EQ(*text,
            "[Unit]\n"
            "Description=web-0\n"
            "\n"
            "[Service]\n"
            "ExecStart=\"/usr/bin/comet\" \"run-prepared\" \"--net=default\" \"--hostname=web-0\" "
            "\"0f3c2a1e-5b6d-4e7f-8a9b-0c1d2e3f4a5b\"\n"
            "ExecStopPost=\"/usr/bin/touch\" \"" +
                marker +
                "\"\n"
                "KillMode=mixed\n"
                "TimeoutStopSec=30s\n"
                "SyslogIdentifier=web\n"
                "Restart=no\n"
                "\n"
                "[X-Kubernetes]\n"
                "PodHostNetwork=false\n"
                "PodName=web-0\n"
                "PodNamespace=default\n"
                "PodNetworkNamespace=k8s_0f3c2a1e-5b6d-4e7f-8a9b-0c1d2e3f4a5b\n"
                "PodUID=8d9e6f1a-uid\n");
}

TEST(RenderUnit, TimeoutStopSecAtLeastTwo) {
  PodUnit unit = SampleUnit();
  unit.timeout_stop_sec = 0;
  auto text = RenderUnit(unit);
  ASSERT_TRUE(text) << text.error().ToString();
  EXPECT_NE(text->find("TimeoutStopSec=2s\n"), std::string::npos);
}

TEST(RenderUnit, EscapesSpecifiersInDescriptionAndIdentifier) {
  PodUnit unit = SampleUnit();
  unit.description = "100% web";
  unit.syslog_identifier = "a%b";
  auto text = RenderUnit(unit);
  ASSERT_TRUE(text) << text.error().ToString();
  EXPECT_NE(text->find("Description=100%% web\n"), std::string::npos);
  EXPECT_NE(text->find("SyslogIdentifier=a%%b\n"), std::string::npos);
  auto parsed = ParseUnit(*text);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->description, "100% web");
  EXPECT_EQ(parsed->syslog_identifier, "a%b");
}

TEST(RenderUnit, RejectsWhatSystemdWouldReadDifferently) {
  auto rejects = [](const PodUnit& unit) {
    auto text = RenderUnit(unit);
    return !text && text.error().code() == EINVAL;
  };
  PodUnit unit = SampleUnit();
  unit.exec_start = {};
  EXPECT_TRUE(rejects(unit)) << "no program";
  unit.exec_start = {"comet", "run-prepared"};
  EXPECT_TRUE(rejects(unit)) << "relative program";
  unit.exec_start = {"-/usr/bin/comet"};
  EXPECT_TRUE(rejects(unit)) << "a systemd prefix";
  unit.exec_start = {"/usr/bin/$x"};
  EXPECT_TRUE(rejects(unit)) << "$ in the program";
  unit.exec_start = {"/usr/bin/comet", "a\nExecStartPre=/bin/evil"};
  EXPECT_TRUE(rejects(unit)) << "newline in an argument";

  unit = SampleUnit();
  unit.stop_post_marker = "/tmp/x\ny";
  EXPECT_TRUE(rejects(unit)) << "newline in the marker";
  unit = SampleUnit();
  unit.description = "web\n[Service]";
  EXPECT_TRUE(rejects(unit)) << "newline in Description";
  unit.description = " web";
  EXPECT_TRUE(rejects(unit)) << "leading blank";
  unit.description = "web\\";
  EXPECT_TRUE(rejects(unit)) << "trailing backslash";
  unit = SampleUnit();
  unit.syslog_identifier = "web\t";
  EXPECT_TRUE(rejects(unit)) << "trailing tab";
  unit = SampleUnit();
  unit.kubernetes["PodName"] = "web\nExecStart=/bin/evil";
  EXPECT_TRUE(rejects(unit)) << "newline in [X-Kubernetes]";
  unit = SampleUnit();
  unit.kubernetes["Pod Name"] = "web";
  EXPECT_TRUE(rejects(unit)) << "bad key";
  unit.kubernetes.erase("Pod Name");
  unit.kubernetes["Pod=Name"] = "web";
  EXPECT_TRUE(rejects(unit)) << "'=' in a key";
  unit = SampleUnit();
  unit.pod_uuid = "../../etc/x";
  EXPECT_TRUE(rejects(unit)) << "bad uuid";
}

TEST(ParseUnit, RoundTrip) {
  PodUnit unit = SampleUnit();
  auto text = RenderUnit(unit);
  ASSERT_TRUE(text) << text.error().ToString();
  auto parsed = ParseUnit(*text);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  unit.pod_uuid.clear();  // not in the text: in the unit's name
  EXPECT_EQ(*parsed, unit);
}

TEST(ParseUnit, RoundTripOfHostileArguments) {
  PodUnit unit = SampleUnit();
  unit.exec_start = {"/usr/bin/comet", "two words",  "",          "say \"hi\"", "it's",
                     "back\\slash",    "trailing\\", "$HOME",     "${HOME}",    "$$",
                     "100%",           "%n%%",       ";",         "\\;",        "ünïcødé",
                     "'single'",       "-dash",      "  padded  "};
  unit.stop_post_marker = "/tmp/dir with space/finished-$x%y";
  auto text = RenderUnit(unit);
  ASSERT_TRUE(text) << text.error().ToString();
  auto parsed = ParseUnit(*text);
  ASSERT_TRUE(parsed) << parsed.error().ToString() << "\n" << *text;
  EXPECT_EQ(parsed->exec_start, unit.exec_start);
  EXPECT_EQ(parsed->stop_post_marker, unit.stop_post_marker);
}

TEST(ParseUnit, ReadsHandWrittenQuoting) {
  auto parsed = ParseUnit(
      "# a comment\n"
      "[Service]\n"
      "ExecStart=/usr/bin/comet 'single quoted' bare\\sword \"tab\\there\" \\\n"
      "  continued $$HOME %%\n"
      "TimeoutStopSec=45\n"
      "[X-Kubernetes]\n"
      "PodName = web-0 \n");
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(parsed->exec_start,
            (std::vector<std::string>{"/usr/bin/comet", "single quoted", "bare word", "tab\there",
                                      "continued", "$HOME", "%"}));
  EXPECT_EQ(parsed->timeout_stop_sec, 45);
  EXPECT_EQ(parsed->kubernetes.at("PodName"), "web-0");
}

TEST(ParseUnit, RejectsWhatItCannotReadBack) {
  for (const char* text : {
           "[Service]\n",                                      // no ExecStart
           "[Service]\nExecStart=relative arg\n",              // relative program
           "[Service]\nExecStart=/bin/a \"unterminated\n",     // quote
           "[Service]\nExecStart=/bin/a \"x\"y\n",             // junk after a quote
           "[Service]\nExecStart=/bin/a $HOME\n",              // variable
           "[Service]\nExecStart=/bin/a %n\n",                 // specifier
           "[Service]\nExecStart=/bin/a ; /bin/b\n",           // two commands
           "[Service]\nExecStart=/bin/a\nExecStart=/bin/b\n",  // two ExecStart
           "[Service]\nExecStart=/bin/a \\q\n",                // unknown escape
           "[Service]\nExecStart=/bin/a\nTimeoutStopSec=soon\n",
           "[Service\nExecStart=/bin/a\n",
           "[Service]\nnot a setting\n",
       }) {
    auto parsed = ParseUnit(text);
    EXPECT_FALSE(parsed) << text;
  }
}

TEST(WriteUnit, AtomicWithMode0644) {
  auto dir = os::TempDir::Create("node-unit-");
  ASSERT_TRUE(dir) << dir.error().ToString();
  mode_t old_umask = ::umask(077);
  Status st = WriteUnit(dir->path(), SampleUnit());
  ::umask(old_umask);
  ASSERT_TRUE(st) << st.error().ToString();
  std::string path = os::JoinPath(dir->path(), UnitName(kUuid));
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0644U);
  auto read = ReadUnit(dir->path(), kUuid);
  ASSERT_TRUE(read) << read.error().ToString();
  EXPECT_EQ(*read, SampleUnit());

  // Rewriting replaces it; nothing else is left in the directory.
  PodUnit changed = SampleUnit();
  changed.timeout_stop_sec = 7;
  ASSERT_TRUE(WriteUnit(dir->path(), changed));
  auto reread = ReadUnit(dir->path(), kUuid);
  ASSERT_TRUE(reread) << reread.error().ToString();
  EXPECT_EQ(reread->timeout_stop_sec, 7);
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir->path())) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1);

  ASSERT_TRUE(RemoveUnit(dir->path(), kUuid));
  EXPECT_FALSE(os::Exists(path));
  EXPECT_TRUE(RemoveUnit(dir->path(), kUuid)) << "a missing unit is fine";
}

TEST(WriteUnit, InvalidUnitWritesNothing) {
  auto dir = os::TempDir::Create("node-unit-");
  ASSERT_TRUE(dir) << dir.error().ToString();
  PodUnit unit = SampleUnit();
  unit.exec_start.emplace_back("bad\narg");
  EXPECT_FALSE(WriteUnit(dir->path(), unit));
  EXPECT_TRUE(std::filesystem::is_empty(dir->path()));
}

}  // namespace
}  // namespace comet::node
