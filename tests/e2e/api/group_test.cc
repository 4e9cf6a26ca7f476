// api-service e2e, issue 5 "read-only by construction": comet-api-service running as an
// unprivileged member of the `comet` group (as the systemd unit in docs/api-service.md runs it)
// reads a data directory that root's `comet` made while the group existed, with every method;
// without the group it is refused with a clear error and stays up. The suite creates the group
// when missing (and deletes it at the end only then) and makes comet-test a member.
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "e2e/api/api_fixture.h"
#include "e2e/subprocess.h"
#include "os/file.h"

#ifndef COMET_PROTO_DIR
#define COMET_PROTO_DIR "proto"
#endif

namespace comet::e2e::api {
namespace {

constexpr const char* kGroup = "comet";
constexpr const char* kUser = "comet-test";

// What the suite changed on the machine, to undo exactly that.
struct MachineSetup {
  bool created_group = false;
  bool added_member = false;
  gid_t gid = 0;
  std::string error;
};
MachineSetup g_setup;

std::optional<gid_t> GroupId(const char* name) {
  const ProcResult result = Exec({"getent", "group", name});
  if (!result.ok()) {
    return std::nullopt;
  }
  // name:x:gid:members
  const std::vector<std::string> fields = [&] {
    std::vector<std::string> out;
    std::string field;
    for (char c : Trim(result.out) + ":") {
      if (c == ':') {
        out.push_back(field);
        field.clear();
      } else {
        field += c;
      }
    }
    return out;
  }();
  if (fields.size() < 4) {
    return std::nullopt;
  }
  return static_cast<gid_t>(std::stoul(fields[2]));
}

bool IsMember(const char* user, const char* group) {
  const ProcResult result = Exec({"id", "-nG", user});
  for (const std::string& name : Lines(result.out)) {
    for (size_t start = 0; start <= name.size();) {
      const size_t end = std::min(name.find(' ', start), name.size());
      if (name.substr(start, end - start) == group) {
        return true;
      }
      start = end + 1;
    }
  }
  return false;
}

struct stat StatOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

// The "Uid:" line's real uid of `pid`, and its CapEff.
std::string StatusField(pid_t pid, const std::string& field) {
  for (const std::string& line : Lines(ReadFileOrEmpty(fmt::format("/proc/{}/status", pid)))) {
    if (line.rfind(field + ":", 0) == 0) {
      return Trim(line.substr(field.size() + 1));
    }
  }
  return "";
}

class ApiGroupTest : public ApiTest {
 public:
  static void SetUpTestSuite() {
    if (::geteuid() != 0) {
      return;
    }
    if (::getpwnam(kUser) == nullptr) {  // NOLINT(concurrency-mt-unsafe): one thread here
      const ProcResult made =
          Exec({std::string(COMET_PROTO_DIR) + "/../scripts/ensure-test-user.sh", kUser});
      if (!made.ok()) {
        g_setup.error = "creating the test user: " + made.Describe();
        return;
      }
    }
    if (!GroupId(kGroup)) {
      const ProcResult made = Exec({"groupadd", "--system", kGroup});
      if (!made.ok()) {
        g_setup.error = "groupadd: " + made.Describe();
        return;
      }
      g_setup.created_group = true;
    }
    g_setup.gid = GroupId(kGroup).value_or(0);
    if (!IsMember(kUser, kGroup)) {
      const ProcResult added = Exec({"gpasswd", "--add", kUser, kGroup});
      if (!added.ok()) {
        g_setup.error = "gpasswd --add: " + added.Describe();
        return;
      }
      g_setup.added_member = true;
    }
  }

  static void TearDownTestSuite() {
    if (g_setup.added_member) {
      (void)Exec({"gpasswd", "--delete", kUser, kGroup});
    }
    if (g_setup.created_group) {
      (void)Exec({"groupdel", kGroup});
    }
    g_setup = MachineSetup{};
  }

 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "needs root: groupadd, and the pods run as root";
    }
    ASSERT_TRUE(g_setup.error.empty()) << g_setup.error;
    ASSERT_NE(g_setup.gid, 0u);
    ApiTest::SetUp();  // the data dir is made now, while the group exists
  }

  // comet-api-service as kUser through setpriv(1): with the groups /etc/group gives it (as
  // systemd's User= does), or with none. Returns whether it got ready.
  bool StartAsUser(bool with_groups) {
    std::vector<std::string> argv = {"/usr/bin/setpriv",
                                     std::string("--reuid=") + kUser,
                                     std::string("--regid=") + kUser,
                                     with_groups ? "--init-groups" : "--clear-groups",
                                     "--",
                                     ApiServiceBinary(),
                                     "--dir=" + data(),
                                     "--listen=127.0.0.1:0"};
    service_ = std::make_unique<ServiceProcess>(
        argv, tmp() + (with_groups ? "/api-member.log" : "/api-stranger.log"));
    if (!service_->WaitReady()) {
      return false;
    }
    stub_ = v1alpha::PublicAPI::NewStub(Channel(service_->Address()));
    return true;
  }

  // Every method, on the pods of MakeThreePods, as the service started by StartAsUser.
  void ExpectReadsEverything(const ThreePods& pods);

  v1alpha::Pod Inspect(const std::string& uuid) {
    v1alpha::InspectPodRequest request;
    request.set_id(uuid);
    v1alpha::InspectPodResponse response;
    const grpc::Status status = stub_->InspectPod(Context().get(), request, &response);
    EXPECT_TRUE(status.ok()) << uuid << ": " << status.error_message();
    return response.pod();
  }
};

TEST_F(ApiGroupTest, RootsDataDirIsSharedWithTheGroupButNotWhatAppsOwn) {
  // It writes a line first: its log is made with its first output.
  const std::string running =
      RunDetached(ShellApp("sleeper", std::string("echo started; ") + kSleeper));
  ASSERT_FALSE(running.empty());
  const struct stat data_dir = StatOf(data());
  EXPECT_EQ(data_dir.st_gid, g_setup.gid);
  EXPECT_EQ(data_dir.st_mode & 07777, 02750u);
  const std::string pod = PodPath(running);
  ASSERT_TRUE(WaitUntil([&] { return os::Exists(pod + "/logs/sleeper.log"); }));
  for (const std::string& shared :
       {data() + "/pods", data() + "/pods/run", pod, pod + "/logs", data() + "/images",
        data() + "/images/images", data() + "/images/blobs/sha256", data() + "/events",
        pod + "/state/"}) {  // the volatile directory, through the link
    const struct stat st = StatOf(shared);
    EXPECT_EQ(st.st_gid, g_setup.gid) << shared;
    EXPECT_EQ(st.st_mode & 02050, 02050u) << shared << " is not group-readable and setgid";
  }
  for (const std::string& file : {pod + "/pod", pod + "/state/apps/sleeper/status.json",
                                  pod + "/logs/sleeper.log", data() + "/events/log"}) {
    const struct stat st = StatOf(file);
    EXPECT_EQ(st.st_gid, g_setup.gid) << file;
    EXPECT_NE(st.st_mode & 0040, 0u) << file << " is not group-readable";
  }
  // Not for the group: the apps' root filesystems and volumes, the store's layer trees and
  // leases, the files bind-mounted into the apps.
  for (const std::string& own :
       {pod + "/apps", pod + "/volumes", data() + "/images/layers", data() + "/images/ingest",
        data() + "/images/leases", pod + "/state/etc", pod + "/state/runtime"}) {
    const struct stat st = StatOf(own);
    EXPECT_NE(st.st_gid, g_setup.gid) << own;
    EXPECT_EQ(st.st_mode & S_ISGID, 0u) << own;
  }
  // ... nor for anyone else: the group may pass through the pod directory to them (the
  // runtime's exec.fifo is writable by its group, volumes hold the apps' data).
  for (const std::string& own : {pod + "/apps", pod + "/volumes", pod + "/state/runtime"}) {
    EXPECT_EQ(StatOf(own).st_mode & 0007, 0u) << own << " is open to others";
  }
  const std::string root_gid =
      Trim(Ok({"enter", running, "/bin/sh", "-c", "stat -c %g / /etc/hosts | sort -u"}));
  EXPECT_EQ(root_gid, "0") << "the app sees the group";
}

TEST_F(ApiGroupTest, AMemberOfTheGroupReadsEverything) {
  const ThreePods pods = MakeThreePods();
  ASSERT_TRUE(StartAsUser(/*with_groups=*/true)) << service_->Output();
  const std::string uid = StatusField(service_->pid(), "Uid");
  const passwd* user = ::getpwnam(kUser);  // NOLINT(concurrency-mt-unsafe): one thread here
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(uid.substr(0, uid.find_first_of(" \t")), std::to_string(user->pw_uid));
  EXPECT_EQ(StatusField(service_->pid(), "CapEff"), "0000000000000000");
  ExpectReadsEverything(pods);
}

void ApiGroupTest::ExpectReadsEverything(const ThreePods& pods) {
  v1alpha::ListPodsRequest list;
  list.set_detail(true);
  v1alpha::ListPodsResponse listed;
  grpc::Status status = stub_->ListPods(Context().get(), list, &listed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(listed.pods_size(), 3) << listed.DebugString();
  for (const v1alpha::Pod& pod : listed.pods()) {
    EXPECT_FALSE(pod.manifest().empty()) << pod.id();
  }

  const v1alpha::Pod running = Inspect(pods.running);
  EXPECT_EQ(running.state(), v1alpha::POD_STATE_RUNNING);
  EXPECT_GT(running.pid(), 0);
  ASSERT_EQ(running.apps_size(), 1);
  EXPECT_EQ(running.apps(0).state(), v1alpha::APP_STATE_RUNNING);
  const v1alpha::Pod exited = Inspect(pods.exited);
  EXPECT_EQ(exited.state(), v1alpha::POD_STATE_EXITED);
  ASSERT_EQ(exited.apps_size(), 1);
  EXPECT_EQ(exited.apps(0).exit_code(), 3);
  EXPECT_EQ(Inspect(pods.prepared).state(), v1alpha::POD_STATE_PREPARED);

  v1alpha::GetLogsRequest logs;
  logs.set_pod_id(pods.exited);
  auto logs_context = Context();
  auto reader = stub_->GetLogs(logs_context.get(), logs);
  std::vector<std::string> lines;
  v1alpha::GetLogsResponse batch;
  while (reader->Read(&batch)) {
    lines.insert(lines.end(), batch.lines().begin(), batch.lines().end());
  }
  status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(lines, std::vector<std::string>{"bye"});

  v1alpha::ListImagesRequest images;
  v1alpha::ListImagesResponse image_list;
  status = stub_->ListImages(Context().get(), images, &image_list);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(image_list.images_size(), 1);
  EXPECT_GT(image_list.images(0).size(), 0);

  // The events so far, replayed up to until_time, after which the stream ends by itself.
  v1alpha::ListenEventsRequest events;
  events.mutable_filter()->set_until_time(::time(nullptr) + 1);
  auto context = Context();
  auto stream = stub_->ListenEvents(context.get(), events);
  bool running_started = false;
  v1alpha::ListenEventsResponse received;
  while (stream->Read(&received)) {
    for (const v1alpha::Event& event : received.events()) {
      running_started = running_started || (event.id() == pods.running &&
                                            event.type() == v1alpha::EVENT_TYPE_POD_STARTED);
    }
  }
  status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(running_started);
}

// rkt's `rkt install`: a data directory made before the group existed (here: unshared again
// by hand, with the private modes comet gives it then) is shared by `comet install`, running
// pods included, and the apps' files stay out of it.
TEST_F(ApiGroupTest, InstallSharesADataDirMadeBeforeTheGroup) {
  const std::string unshare = fmt::format(
      "set -e; cd {0}; chgrp -R root .; find . -type d -exec chmod g-s {{}} +; "
      "chmod 0700 images images/images images/blobs images/blobs/sha256; "
      "chmod 0600 images/images/*.json",
      data());
  const ProcResult unshared = Exec({"sh", "-c", unshare});
  ASSERT_TRUE(unshared.ok()) << unshared.Describe();
  const ThreePods pods = MakeThreePods();
  EXPECT_NE(StatOf(PodPath(pods.running)).st_gid, g_setup.gid);

  const ProcResult help = Comet({"install", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help.Describe();
  EXPECT_TRUE(Contains(help.out, "--group")) << help.out;
  const ProcResult missing = Comet({"install", "--group=comet-no-such-group"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_TRUE(Contains(missing.err, "does not exist")) << missing.Describe();
  const std::string said = Ok({"install", "--group=comet"});
  EXPECT_TRUE(Contains(said, "shared with group comet")) << said;
  (void)Ok({"install"});  // idempotent; --group defaults to comet

  const std::string running = PodPath(pods.running);
  EXPECT_EQ(StatOf(running).st_gid, g_setup.gid);
  EXPECT_EQ(StatOf(running + "/state/").st_gid, g_setup.gid);
  EXPECT_NE(StatOf(running + "/apps").st_gid, g_setup.gid);
  EXPECT_NE(StatOf(data() + "/images/layers").st_gid, g_setup.gid);
  ASSERT_TRUE(StartAsUser(/*with_groups=*/true)) << service_->Output();
  ExpectReadsEverything(pods);
}

TEST_F(ApiGroupTest, WithoutTheGroupTheServiceIsRefusedClearly) {
  (void)MakeThreePods();
  // Refused at start, naming what it cannot read and why: an exit code, not a crash, and not a
  // service that answers as if there were no pods.
  ASSERT_FALSE(StartAsUser(/*with_groups=*/false)) << service_->Output();
  const int code = service_->Terminate();
  const std::string said = service_->Output();
  service_.reset();
  EXPECT_EQ(code, 254) << said;  // rkt's exit status on error
  EXPECT_TRUE(Contains(said, "cannot read " + data())) << said;
  EXPECT_TRUE(Contains(said, "Permission denied")) << said;
  EXPECT_TRUE(Contains(said, "member of the data directory's group")) << said;
}

}  // namespace
}  // namespace comet::e2e::api
