// Tests of PodCatalog over a real pods directory: pods in every state, the fields rkt's clients
// read, detail, filters on the full view, the cache following changes, and a 1,000-pod timing.
#include "api/pod_catalog.h"

#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "network/attachment.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "pod/manifest.h"
#include "pod/pod_dir.h"
#include "pod/pod_networks.h"
#include "pod/pod_store.h"
#include "pod/volatile_dir.h"

namespace comet::api {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kImageId = "sha256:" + std::string(64, 'a');
constexpr const char* kCreated = "2026-11-29T10:00:00.123456789Z";
constexpr int64_t kCreatedNs = 1795946400123456789;  // date -d 2026-11-29T10:00:00Z +%s
constexpr const char* kStarted = "2026-11-29T10:00:01Z";
constexpr int64_t kStartedNs = 1795946401000000000;

pod::PodManifest Manifest(const std::string& uuid, const std::string& team) {
  pod::PodManifest m;
  m.uuid = uuid;
  m.created = kCreated;
  for (const char* name : {"web", "sidecar"}) {
    pod::App app;
    app.name = name;
    app.image = std::string("localhost:5000/") + name + ":1.2";
    app.image_id = kImageId;
    app.exec = {"/bin/sh"};
    app.annotations = {{"app", name}};
    m.apps.push_back(app);
  }
  m.annotations = {{"team", team}, {"k8s/managed", "true"}};
  return m;
}

void WriteStatus(const std::string& pod_dir, const std::string& app, pod::AppState state,
                 int exit_code) {
  pod::AppStatus status;
  status.name = app;
  status.state = state;
  status.exit_code = exit_code;
  ASSERT_TRUE(pod::WriteAppStatus(pod_dir, status));
}

// A data directory with one pod in each state (the locked ones held by Pod objects).
class PodCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_unique<pod::PodStore>(
        pod::PodStore::Open(os::JoinPath(dir_.path(), "pods")).value());
  }

  // A pod in prepare/ with its manifest; the Pod holds the lock.
  pod::Pod Preparing(const std::string& team = "a") {
    pod::Pod pod = store_->CreatePreparing().value();
    EXPECT_TRUE(pod::WriteManifest(pod.path(), Manifest(pod.uuid(), team), false));
    return pod;
  }

  std::string Prepared() {
    pod::Pod pod = Preparing();
    EXPECT_TRUE(pod.FinishPrepare());
    return pod.uuid();
  }

  // A pod in run/ whose supervisor started: pid, supervisor.json, web running, sidecar not yet.
  pod::Pod Running(const std::string& team = "a") {
    pod::Pod pod = Preparing(team);
    EXPECT_TRUE(pod.StartRunning());
    // The supervisor's volatile directory, under the test's directory instead of /run.
    EXPECT_TRUE(pod::EnsureVolatileDir(pod.path(), os::JoinPath(dir_.path(), "volatile")));
    auto pid_written = pod::WritePodPid(pod.path(), 4242);
    EXPECT_TRUE(pid_written) << pid_written.error().ToString();
    pod::SupervisorStatus supervisor;
    supervisor.pid = 4242;
    supervisor.started = kStarted;
    EXPECT_TRUE(pod::WriteSupervisorStatus(pod.path(), supervisor));
    WriteStatus(pod.path(), "web", pod::AppState::kRunning, -1);
    return pod;
  }

  // A pod in run/ whose lock is free: web exited 3, sidecar never started.
  std::string Exited(const std::string& team = "a") {
    pod::Pod pod = Running(team);
    WriteStatus(pod.path(), "web", pod::AppState::kExited, 3);
    return pod.uuid();
  }

  std::string Embryo() {
    std::string uuid = pod::NewUuid();
    EXPECT_EQ(::mkdir(os::JoinPath(store_->root(), "embryo/" + uuid).c_str(), 0750), 0);
    return uuid;
  }

  std::unique_ptr<PodCatalog> Catalog() { return std::move(PodCatalog::Open(dir_.path()).value()); }

  static const v1alpha::Pod* FindPod(const std::vector<v1alpha::Pod>& pods,
                                     const std::string& uuid) {
    auto it = std::find_if(pods.begin(), pods.end(),
                           [&](const v1alpha::Pod& p) { return p.id() == uuid; });
    return it == pods.end() ? nullptr : &*it;
  }

  // Lets the timestamps written so far age past the cache's racy window.
  static void Settle() { std::this_thread::sleep_for(milliseconds(80)); }

  os::TempDir dir_ = std::move(os::TempDir::Create("comet-api-").value());
  std::unique_ptr<pod::PodStore> store_;
};

std::vector<std::string> Ids(const std::vector<v1alpha::Pod>& pods) {
  std::vector<std::string> ids;
  ids.reserve(pods.size());
  for (const v1alpha::Pod& pod : pods) {
    ids.push_back(pod.id());
  }
  return ids;
}

TEST_F(PodCatalogTest, EveryState) {
  const std::string embryo = Embryo();
  pod::Pod preparing = Preparing();
  const std::string prepared = Prepared();
  pod::Pod running = Running();
  const std::string aborted = Preparing().uuid();  // lock released: an aborted prepare
  const std::string exited = Exited();
  const std::string exited_garbage = Exited();
  ASSERT_TRUE(store_->MarkExited(exited_garbage));
  const std::string garbage = Prepared();
  ASSERT_TRUE(store_->MarkGarbage(garbage));

  auto pods = Catalog()->List({}, /*detail=*/true);
  ASSERT_TRUE(pods) << pods.error().ToString();
  ASSERT_EQ(pods->size(), 8u);
  EXPECT_TRUE(std::is_sorted(pods->begin(), pods->end(),
                             [](const auto& a, const auto& b) { return a.id() < b.id(); }));
  auto state_of = [&](const std::string& uuid) { return FindPod(*pods, uuid)->state(); };
  EXPECT_EQ(state_of(embryo), v1alpha::POD_STATE_EMBRYO);
  EXPECT_EQ(state_of(preparing.uuid()), v1alpha::POD_STATE_PREPARING);
  EXPECT_EQ(state_of(prepared), v1alpha::POD_STATE_PREPARED);
  EXPECT_EQ(state_of(running.uuid()), v1alpha::POD_STATE_RUNNING);
  EXPECT_EQ(state_of(aborted), v1alpha::POD_STATE_ABORTED_PREPARE);
  EXPECT_EQ(state_of(exited), v1alpha::POD_STATE_EXITED);
  EXPECT_EQ(state_of(exited_garbage), v1alpha::POD_STATE_EXITED);
  EXPECT_EQ(state_of(garbage), v1alpha::POD_STATE_GARBAGE);

  // Embryo, preparing and aborted prepare: id and state only.
  for (const std::string& uuid : {embryo, preparing.uuid(), aborted}) {
    v1alpha::Pod basic;
    basic.set_id(uuid);
    basic.set_state(state_of(uuid));
    EXPECT_EQ(FindPod(*pods, uuid)->SerializeAsString(), basic.SerializeAsString()) << uuid;
  }
}

// Pod.networks of a running pod: its recorded networks that were attached, with their addresses
// (a record still without a result — ADD not done — is not shown); none once the pod ended.
TEST_F(PodCatalogTest, RunningPodNetworksFromTheRecords) {
  pod::Pod running = Running("net");
  network::NetworkAttachment attached;
  attached.network = "default";
  attached.invocation.container_id = running.uuid();
  attached.invocation.ifname = "eth0";
  attached.invocation.netns = pod::NetnsPinPath(running.uuid());
  attached.config = {
      {"cniVersion", "1.0.0"}, {"name", "default"}, {"plugins", {{{"type", "bridge"}}}}};
  attached.result = nlohmann::json::object();
  attached.ipv4 = "172.16.28.7/24";
  attached.ipv6 = "fd00::7/64";
  network::NetworkAttachment planned = attached;
  planned.network = "backend";
  planned.invocation.ifname = "eth1";
  planned.result.reset();
  planned.ipv4.clear();
  planned.ipv6.clear();
  ASSERT_TRUE(pod::WriteNetworkRecords(running.path(), {attached, planned}));
  auto pod = Catalog()->Inspect(running.uuid());
  ASSERT_TRUE(pod) << pod.error().ToString();
  ASSERT_EQ(pod->networks_size(), 1);
  EXPECT_EQ(pod->networks(0).name(), "default");
  EXPECT_EQ(pod->networks(0).ipv4(), "172.16.28.7");
  EXPECT_EQ(pod->networks(0).ipv6(), "fd00::7");
}

TEST_F(PodCatalogTest, RunningPodFields) {
  pod::Pod running = Running("blue");
  auto pod = Catalog()->Inspect(running.uuid());
  ASSERT_TRUE(pod) << pod.error().ToString();
  EXPECT_EQ(pod->id(), running.uuid());
  EXPECT_EQ(pod->state(), v1alpha::POD_STATE_RUNNING);
  EXPECT_EQ(pod->pid(), 4242);
  EXPECT_EQ(pod->created_at(), kCreatedNs);
  EXPECT_EQ(pod->started_at(), kStartedNs);
  EXPECT_EQ(pod->gc_marked_at(), 0);
  EXPECT_EQ(pod->cgroup(), pod::PodCgroupPath(running.uuid()));
  EXPECT_EQ(pod->networks_size(), 0);
  // rkt's clients decode an appc PodManifest, with the pod's annotations in it.
  const nlohmann::json appc = nlohmann::json::parse(pod->manifest(), nullptr, false);
  ASSERT_TRUE(appc.is_object()) << pod->manifest();
  EXPECT_EQ(appc.value("acKind", ""), "PodManifest");
  EXPECT_EQ(appc.value("acVersion", ""), "0.8.11");
  ASSERT_TRUE(appc.contains("apps") && appc["apps"].is_array());
  EXPECT_EQ(appc["apps"].size(), static_cast<size_t>(pod->apps_size()));
  EXPECT_NE(pod->manifest().find("\"team\""), std::string::npos);
  ASSERT_EQ(pod->annotations_size(), 2);  // sorted by key
  EXPECT_EQ(pod->annotations(0).key(), "k8s/managed");
  EXPECT_EQ(pod->annotations(1).key(), "team");
  EXPECT_EQ(pod->annotations(1).value(), "blue");

  ASSERT_EQ(pod->apps_size(), 2);
  const v1alpha::App& web = pod->apps(0);
  EXPECT_EQ(web.name(), "web");
  EXPECT_EQ(web.state(), v1alpha::APP_STATE_RUNNING);
  EXPECT_EQ(web.image().id(), kImageId);
  EXPECT_EQ(web.image().name(), "localhost:5000/web");
  EXPECT_EQ(web.image().version(), "1.2");
  EXPECT_EQ(web.image().base_format().type(), v1alpha::IMAGE_TYPE_OCI);
  EXPECT_TRUE(web.image().manifest().empty());
  // The app's own annotations, then comet's from its status file (sorted by key).
  ASSERT_EQ(web.annotations_size(), 3);
  EXPECT_EQ(web.annotations(0).key(), "app");
  EXPECT_EQ(web.annotations(0).value(), "web");
  EXPECT_EQ(web.annotations(1).key(), "comet.dev/restarts");
  EXPECT_EQ(web.annotations(1).value(), "0");
  EXPECT_EQ(web.annotations(2).key(), "comet.dev/state");
  EXPECT_EQ(web.annotations(2).value(), "running");
  EXPECT_EQ(pod->apps(1).name(), "sidecar");
  EXPECT_EQ(pod->apps(1).state(), v1alpha::APP_STATE_UNDEFINED);  // never started
  ASSERT_EQ(pod->apps(1).annotations_size(), 1);                  // no status file: nothing to add
}

std::map<std::string, std::string> AnnotationsOf(const v1alpha::App& app) {
  std::map<std::string, std::string> out;
  for (const v1alpha::KeyValue& kv : app.annotations()) {
    out[kv.key()] = kv.value();
  }
  return out;
}

TEST_F(PodCatalogTest, AppAnnotationsFollowTheStatusFile) {
  pod::Pod running = Running();
  auto catalog = Catalog();
  auto pod = catalog->Inspect(running.uuid());
  ASSERT_TRUE(pod);
  EXPECT_EQ(AnnotationsOf(pod->apps(0))["comet.dev/restarts"], "0");
  // The supervisor restarts web after a crash: the next call sees it.
  pod::AppStatus status;
  status.name = "web";
  status.state = pod::AppState::kBackOff;
  status.exit_code = 2;
  status.restarts = 3;
  status.reason = "Error";
  status.message = "back-off 40000 ms restarting the app";
  status.started = "2026-11-29T10:00:05Z";
  status.finished = "2026-11-29T10:00:06Z";
  status.attempts = {{"2026-11-29T10:00:02Z", "2026-11-29T10:00:03Z", 1},
                     {status.started, status.finished, 2}};
  ASSERT_TRUE(pod::WriteAppStatus(running.path(), status));
  Settle();
  pod = catalog->Inspect(running.uuid());
  ASSERT_TRUE(pod);
  EXPECT_EQ(pod->apps(0).exit_code(), 2);
  std::map<std::string, std::string> web = AnnotationsOf(pod->apps(0));
  EXPECT_EQ(web["comet.dev/state"], "backoff");
  EXPECT_EQ(web["comet.dev/restarts"], "3");
  EXPECT_EQ(web["comet.dev/reason"], "Error");
  EXPECT_EQ(web["comet.dev/message"], "back-off 40000 ms restarting the app");
  EXPECT_EQ(web["comet.dev/started-at"], "2026-11-29T10:00:05Z");
  EXPECT_EQ(web["comet.dev/finished-at"], "2026-11-29T10:00:06Z");
  EXPECT_EQ(web["comet.dev/previous-exit-code"], "1");
  EXPECT_EQ(web["app"], "web");
  EXPECT_FALSE(web.contains("comet.dev/init"));
}

TEST_F(PodCatalogTest, ExitedAndGarbagePodFields) {
  const std::string exited = Exited();
  const std::string marked = Exited();
  ASSERT_TRUE(store_->MarkExited(marked));
  auto catalog = Catalog();
  auto pod = catalog->Inspect(exited);
  ASSERT_TRUE(pod) << pod.error().ToString();
  EXPECT_EQ(pod->pid(), 4242);
  EXPECT_TRUE(pod->cgroup().empty());
  EXPECT_EQ(pod->gc_marked_at(), 0);
  EXPECT_EQ(pod->apps(0).state(), v1alpha::APP_STATE_EXITED);
  EXPECT_EQ(pod->apps(0).exit_code(), 3);
  EXPECT_EQ(pod->apps(1).state(), v1alpha::APP_STATE_UNDEFINED);

  pod = catalog->Inspect(marked);
  ASSERT_TRUE(pod);
  EXPECT_EQ(pod->state(), v1alpha::POD_STATE_EXITED);
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  EXPECT_GT(pod->gc_marked_at(), now - 60'000'000'000);
  EXPECT_LE(pod->gc_marked_at(), now);
}

TEST_F(PodCatalogTest, AppRunningOnlyWhileThePodRuns) {
  // The status says running but the supervisor is gone (killed): not running, no exit status.
  pod::Pod pod = Running();
  WriteStatus(pod.path(), "sidecar", pod::AppState::kBackOff, 1);
  const std::string uuid = pod.uuid();
  auto catalog = Catalog();
  auto view = catalog->Inspect(uuid);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->apps(1).state(), v1alpha::APP_STATE_RUNNING);  // backoff counts as running
  { pod::Pod released = std::move(pod); }
  view = catalog->Inspect(uuid);
  ASSERT_TRUE(view);
  EXPECT_EQ(view->state(), v1alpha::POD_STATE_EXITED);
  EXPECT_EQ(view->apps(0).state(), v1alpha::APP_STATE_UNDEFINED);
  EXPECT_EQ(view->apps(1).state(), v1alpha::APP_STATE_EXITED);
  EXPECT_EQ(view->apps(1).exit_code(), 1);
}

TEST_F(PodCatalogTest, DetailOff) {
  pod::Pod running = Running();
  auto pods = Catalog()->List({}, /*detail=*/false);
  ASSERT_TRUE(pods);
  ASSERT_EQ(pods->size(), 1u);
  const v1alpha::Pod& pod = pods->front();
  EXPECT_TRUE(pod.manifest().empty());
  EXPECT_EQ(pod.apps_size(), 0);
  EXPECT_EQ(pod.pid(), 4242);
  EXPECT_EQ(pod.annotations_size(), 2);
  EXPECT_FALSE(pod.cgroup().empty());
}

// ListWire's pieces, concatenated, are the serialized ListPodsResponse that ListInto builds.
TEST_F(PodCatalogTest, WireFormIsTheListPodsResponse) {
  pod::Pod running = Running("a");
  const std::string exited = Exited("b");
  (void)Prepared();
  (void)Embryo();
  auto catalog = Catalog();
  PodFilters by_team;
  v1alpha::KeyValue* kv = by_team.Add()->add_annotations();
  kv->set_key("team");
  kv->set_value("b");
  for (const PodFilters& filters : {PodFilters{}, by_team}) {
    for (bool detail : {false, true}) {
      v1alpha::ListPodsResponse typed;
      ASSERT_TRUE(catalog->ListInto(filters, detail, typed.mutable_pods()));
      auto wire = catalog->ListWire(filters, detail);
      ASSERT_TRUE(wire) << wire.error().ToString();
      std::string bytes;
      for (std::string_view piece : wire->pieces) {
        bytes.append(piece);
      }
      EXPECT_EQ(bytes.size(), wire->bytes);
      if (filters.empty()) {
        EXPECT_EQ(wire->pieces.size(), 1u);  // encoded once per change, not per call
      }
      v1alpha::ListPodsResponse parsed;
      ASSERT_TRUE(parsed.ParseFromString(bytes));
      EXPECT_EQ(parsed.pods_size(), filters.empty() ? 4 : 1);
      EXPECT_EQ(parsed.SerializeAsString(), typed.SerializeAsString()) << detail;
    }
  }
  PodFilters bad;
  bad.Add()->add_states(static_cast<v1alpha::PodState>(99));
  EXPECT_FALSE(catalog->ListWire(bad, false));
}

TEST_F(PodCatalogTest, Filters) {
  pod::Pod running = Running("a");
  const std::string exited = Exited("b");
  const std::string prepared = Prepared();
  auto catalog = Catalog();
  auto list = [&](const std::function<void(v1alpha::PodFilter&)>& fill, bool detail = true) {
    PodFilters filters;
    fill(*filters.Add());
    auto pods = catalog->List(filters, detail);
    EXPECT_TRUE(pods) << pods.error().ToString();
    return pods ? Ids(*pods) : std::vector<std::string>{};
  };
  EXPECT_THAT(list([&](auto& f) { f.add_ids(exited); }), ElementsAre(exited));
  EXPECT_THAT(list([&](auto& f) { f.add_states(v1alpha::POD_STATE_RUNNING); }),
              ElementsAre(running.uuid()));
  EXPECT_THAT(list([&](auto& f) {
                f.add_states(v1alpha::POD_STATE_PREPARED);
                f.add_states(v1alpha::POD_STATE_EXITED);
              }).size(),
              2u);
  EXPECT_EQ(list([&](auto& f) { f.add_app_names("web"); }).size(), 3u);
  EXPECT_EQ(list([&](auto& f) { f.add_app_names("db"); }).size(), 0u);
  // Apps are matched on the full view even when the answer leaves them out.
  EXPECT_EQ(list([&](auto& f) { f.add_app_names("web"); }, /*detail=*/false).size(), 3u);
  EXPECT_EQ(list([&](auto& f) { f.add_image_ids(kImageId); }, false).size(), 3u);
  EXPECT_EQ(list([&](auto& f) { f.add_network_names("default"); }).size(), 0u);
  EXPECT_THAT(list([&](auto& f) {
                v1alpha::KeyValue* kv = f.add_annotations();
                kv->set_key("team");
                kv->set_value("b");
              }),
              ElementsAre(exited));
  EXPECT_THAT(list([&](auto& f) { f.add_cgroups(pod::PodCgroupPath(running.uuid())); }),
              ElementsAre(running.uuid()));
  EXPECT_THAT(
      list([&](auto& f) { f.add_pod_sub_cgroups(pod::AppCgroupPath(running.uuid(), "web")); }),
      ElementsAre(running.uuid()));
  // Two filters: OR.
  PodFilters two;
  two.Add()->add_ids(exited);
  two.Add()->add_ids(prepared);
  auto pods = catalog->List(two, false);
  ASSERT_TRUE(pods);
  EXPECT_EQ(pods->size(), 2u);

  // Only ids in every filter: the pods are looked up, not listed; unknown ones are no error.
  PodFilters by_ids;
  by_ids.Add()->add_ids(exited);
  by_ids.Add()->add_ids(pod::NewUuid());
  v1alpha::PodFilter* running_only = by_ids.Add();
  running_only->add_ids(prepared);
  running_only->add_states(v1alpha::POD_STATE_RUNNING);
  pods = catalog->List(by_ids, true);
  ASSERT_TRUE(pods) << pods.error().ToString();
  EXPECT_THAT(Ids(*pods), ElementsAre(exited));

  PodFilters bad;
  bad.Add()->add_ids("not-a-uuid");
  auto error = catalog->List(bad, false);
  ASSERT_FALSE(error);
  EXPECT_EQ(error.error().code(), EINVAL);
  EXPECT_THAT(error.error().message(), HasSubstr("filters[0].ids[0]"));
}

TEST_F(PodCatalogTest, InspectAndPodDir) {
  const std::string exited = Exited();
  auto catalog = Catalog();
  std::string upper = exited;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  auto pod = catalog->Inspect(upper);
  ASSERT_TRUE(pod) << pod.error().ToString();
  EXPECT_EQ(pod->id(), exited);
  EXPECT_FALSE(pod->manifest().empty());  // always with detail

  auto missing = catalog->Inspect(pod::NewUuid());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ENOENT);
  auto malformed = catalog->Inspect("../../etc");
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code(), EINVAL);

  auto path = catalog->PodDir(exited);
  ASSERT_TRUE(path);
  EXPECT_EQ(*path, os::JoinPath(store_->root(), "run/" + exited));
  EXPECT_FALSE(catalog->PodDir(pod::NewUuid()));
}

TEST_F(PodCatalogTest, CacheFollowsChanges) {
  pod::Pod running = Running();
  const std::string exited = Exited();
  Settle();
  auto catalog = Catalog();
  ASSERT_TRUE(catalog->List({}, true));
  EXPECT_EQ(catalog->pod_reads(), 2u);
  ASSERT_TRUE(catalog->List({}, true));
  EXPECT_EQ(catalog->pod_reads(), 2u);  // nothing changed: nothing read again

  // A rewritten app status (a rename in the app's directory, not the pod's).
  WriteStatus(os::JoinPath(store_->root(), "run/" + exited), "web", pod::AppState::kExited, 7);
  auto pods = catalog->List({}, true);
  ASSERT_TRUE(pods);
  EXPECT_EQ(FindPod(*pods, exited)->apps(0).exit_code(), 7);
  EXPECT_EQ(catalog->pod_reads(), 3u);

  // The supervisor exits: only the lock changes.
  const std::string uuid = running.uuid();
  { pod::Pod released = std::move(running); }
  pods = catalog->List({}, true);
  ASSERT_TRUE(pods);
  EXPECT_EQ(FindPod(*pods, uuid)->state(), v1alpha::POD_STATE_EXITED);
  EXPECT_TRUE(FindPod(*pods, uuid)->cgroup().empty());

  // gc marks it: a rename to exited-garbage/.
  ASSERT_TRUE(store_->MarkExited(uuid));
  auto pod = catalog->Inspect(uuid);
  ASSERT_TRUE(pod);
  EXPECT_GT(pod->gc_marked_at(), 0);

  // A new pid file (a rename into the pod directory).
  Settle();
  ASSERT_TRUE(catalog->List({}, true));
  ASSERT_TRUE(pod::WritePodPid(os::JoinPath(store_->root(), "run/" + exited), 99));
  pod = catalog->Inspect(exited);
  ASSERT_TRUE(pod);
  EXPECT_EQ(pod->pid(), 99);
}

TEST_F(PodCatalogTest, VanishedPodIsDropped) {
  const std::string a = Exited();
  const std::string b = Exited();
  auto catalog = Catalog();
  ASSERT_TRUE(catalog->List({}, false));
  EXPECT_EQ(catalog->cached_pods(), 2u);
  ASSERT_TRUE(os::RemoveAll(os::JoinPath(store_->root(), "run/" + a)));
  auto pods = catalog->List({}, false);
  ASSERT_TRUE(pods);
  EXPECT_THAT(Ids(*pods), ElementsAre(b));
  EXPECT_EQ(catalog->cached_pods(), 1u);
  EXPECT_FALSE(catalog->Inspect(a));
}

TEST_F(PodCatalogTest, NoPodsDirectoryYetMeansNoPodsAndCreatesNothing) {
  auto empty = os::TempDir::Create("comet-api-").value();
  auto catalog = PodCatalog::Open(empty.path());
  ASSERT_TRUE(catalog) << catalog.error().ToString();
  auto pods = (*catalog)->List({}, /*detail=*/true);
  ASSERT_TRUE(pods) << pods.error().ToString();
  EXPECT_TRUE(pods->empty());
  auto missing = (*catalog)->Inspect("0b6c4d2e-1111-4222-8333-444455556666");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ENOENT);
  EXPECT_FALSE(os::Exists(os::JoinPath(empty.path(), "pods")));
  // Once `comet` made the pods directory, the same catalog sees its pods.
  auto store = pod::PodStore::Open(os::JoinPath(empty.path(), "pods"));
  ASSERT_TRUE(store);
  auto made = store->CreatePreparing();
  ASSERT_TRUE(made);
  pods = (*catalog)->List({}, /*detail=*/false);
  ASSERT_TRUE(pods);
  EXPECT_EQ(pods->size(), 1U);
  EXPECT_FALSE(PodCatalog::Open(os::JoinPath(empty.path(), "nowhere")));
}

double ThreadCpuMs() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// Not a benchmark with a goal (bench/api has those): prints what a List of 1,000 pods costs
// with a warm cache, so that a regression shows in the test log.
TEST_F(PodCatalogTest, ThousandPodsTiming) {
  constexpr int kPods = 1000;
  const auto setup_start = std::chrono::steady_clock::now();
  for (int i = 0; i < kPods; ++i) {
    (void)Exited(i % 10 == 0 ? "k" : "other");
  }
  const auto setup = std::chrono::steady_clock::now() - setup_start;
  Settle();
  auto catalog = Catalog();
  // Wall-clock p50/p99, and the mean CPU time of the calling thread (what the call costs on a
  // machine that is not busy with anything else).
  double cpu_ms = 0;
  auto time = [&](const std::function<void()>& call, int runs) {
    std::vector<double> ms;
    double cpu_total = 0;
    for (int i = 0; i < runs; ++i) {
      const double cpu_start = ThreadCpuMs();
      const auto start = std::chrono::steady_clock::now();
      call();
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
      cpu_total += ThreadCpuMs() - cpu_start;
    }
    cpu_ms = cpu_total / runs;
    std::sort(ms.begin(), ms.end());
    return std::pair{ms[ms.size() / 2], ms[ms.size() * 99 / 100]};
  };
  auto [cold, cold_p99] = time([&] { ASSERT_EQ(catalog->List({}, true)->size(), 1000u); }, 1);
  std::printf("1000 pods written in %.0f ms; cold List(detail) %.1f ms (cpu %.1f)\n",
              std::chrono::duration<double, std::milli>(setup).count(), cold, cpu_ms);
  auto [store_p50, store_p99] = time([&] { ASSERT_EQ(store_->List()->size(), 1000u); }, 20);
  std::printf("  PodStore::List alone: p50 %.2f p99 %.2f ms (cpu %.2f)\n", store_p50, store_p99,
              cpu_ms);
  auto [all_p50, all_p99] = time([&] { ASSERT_EQ(catalog->List({}, true)->size(), 1000u); }, 50);
  std::printf("  warm List(detail): p50 %.2f p99 %.2f ms (cpu %.2f)\n", all_p50, all_p99, cpu_ms);
  PodFilters by_annotation;
  v1alpha::KeyValue* kv = by_annotation.Add()->add_annotations();
  kv->set_key("team");
  kv->set_value("k");
  auto [filtered_p50, filtered_p99] =
      time([&] { ASSERT_EQ(catalog->List(by_annotation, true)->size(), 100u); }, 50);
  std::printf("  List(annotation filter, 100 of 1000): p50 %.2f p99 %.2f ms (cpu %.2f)\n",
              filtered_p50, filtered_p99, cpu_ms);
  const std::string one = catalog->List({}, false)->at(500).id();
  auto [inspect_p50, inspect_p99] = time([&] { ASSERT_TRUE(catalog->Inspect(one)); }, 500);
  std::printf("  Inspect: p50 %.3f p99 %.3f ms (cpu %.3f)\n", inspect_p50, inspect_p99, cpu_ms);
  (void)cold_p99;
  EXPECT_EQ(catalog->pod_reads(), 1000u);  // the warm calls read nothing again
}

}  // namespace
}  // namespace comet::api
