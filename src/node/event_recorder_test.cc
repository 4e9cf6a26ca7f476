// Tests of the agent's events: kept in memory, appended to the pod's file, read back by another
// reader (describe), cut back when the file grows, forgotten with the pod; names cannot leave
// the directory.
#include "node/event_recorder.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "node/agent_pod_file.h"
#include "os/file.h"
#include "os/temp_dir.h"

namespace comet::node {
namespace {

class EventRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-node-events-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_ = std::make_unique<os::TempDir>(std::move(*dir));
  }
  std::string Dir() const { return os::JoinPath(dir_->path(), "events"); }
  std::unique_ptr<os::TempDir> dir_;
};

TEST_F(EventRecorderTest, RecordedEventsAreReadBack) {
  EventRecorder recorder(Dir());
  recorder.Record("default", "web", "Normal", "Started", "Started comet pod x");
  recorder.Record("default", "web", "Warning", "Unhealthy", "Liveness probe failed: \"quoted\"\n");
  recorder.Record("kube-system", "dns", "Normal", "Created", "other pod");
  std::vector<Event> memory = recorder.Events("default", "web");
  ASSERT_EQ(memory.size(), 2u);
  auto read = ReadEvents(Dir(), "default", "web");
  ASSERT_TRUE(read) << read.error().ToString();
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ((*read)[0].reason, "Started");
  EXPECT_EQ((*read)[1].type, "Warning");
  EXPECT_EQ((*read)[1].message, memory[1].message);
  EXPECT_EQ((*read)[1].from, kEventSource);
  EXPECT_GT((*read)[1].time_ns, 0);
  EXPECT_LE((*read)[0].time_ns, (*read)[1].time_ns);
  struct stat st {};
  ASSERT_EQ(::stat(EventsFile(Dir(), "default", "web").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  recorder.Forget("default", "web");
  EXPECT_TRUE(recorder.Events("default", "web").empty());
  auto gone = ReadEvents(Dir(), "default", "web");
  ASSERT_TRUE(gone);
  EXPECT_TRUE(gone->empty());
  EXPECT_EQ(ReadEvents(Dir(), "kube-system", "dns")->size(), 1u);
}

TEST_F(EventRecorderTest, TheFileIsCutBack) {
  EventRecorder recorder(Dir(), /*max_per_pod=*/10);
  const std::string big(1500, 'x');
  for (int i = 0; i < 600; ++i) {
    recorder.Record("default", "web", "Normal", "Spam", big + std::to_string(i));
  }
  struct stat st {};
  ASSERT_EQ(::stat(EventsFile(Dir(), "default", "web").c_str(), &st), 0);
  EXPECT_LT(st.st_size, 600 * 1024);
  auto read = ReadEvents(Dir(), "default", "web");
  ASSERT_TRUE(read);
  ASSERT_FALSE(read->empty());
  EXPECT_EQ(read->back().message, big + "599");
}

TEST(EventsFile, NamesStayInTheDirectory) {
  EXPECT_EQ(EventsFile("/d", "default", "web"), "/d/default_web.jsonl");
  EXPECT_EQ(EventsFile("/d", "..", "../../etc/passwd"), "/d/-._-.-..-etc-passwd.jsonl");
  EXPECT_EQ(EventsFile("/d", "", "a_b"), "/d/-_a-b.jsonl");
}

TEST(EventJson, RoundTripAndGarbage) {
  Event event{"Warning", "BackOff", "Back-off 10s", 42, "comet-node"};
  auto back = EventFromJsonLine(EventToJsonLine(event));
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->message, event.message);
  EXPECT_EQ(back->time_ns, 42);
  EXPECT_FALSE(EventFromJsonLine("not json"));
  EXPECT_FALSE(EventFromJsonLine("[1]"));
  EXPECT_FALSE(EventFromJsonLine(R"({"type": 3})"));
}

TEST_F(EventRecorderTest, AgentPodFileRoundTrip) {
  AgentPodFile file;
  file.pod_uuid = "0f3c2a1e-5b6d-4e7f-8a9b-0c1d2e3f4a5b";
  file.restart_policy = "OnFailure";
  file.host_network = true;
  file.readiness = {{"web", true}, {"side", false}};
  ASSERT_TRUE(WriteAgentPodFile(dir_->path(), "default", "web", file));
  auto back = ReadAgentPodFile(dir_->path(), "default", "web");
  ASSERT_TRUE(back) << back.error().ToString();
  EXPECT_EQ(back->pod_uuid, file.pod_uuid);
  EXPECT_EQ(back->restart_policy, "OnFailure");
  EXPECT_TRUE(back->host_network);
  EXPECT_FALSE(back->terminating);
  EXPECT_EQ(back->readiness, file.readiness);
  RemoveAgentPodFile(dir_->path(), "default", "web");
  EXPECT_EQ(ReadAgentPodFile(dir_->path(), "default", "web").error().code(), ENOENT);
}

}  // namespace
}  // namespace comet::node
