// api-service e2e: GetLogs (lines, since_time, until_time, several apps, follow while the app
// writes, the end of a follow when the pod stops, bad requests) and the second, independent
// client (client.py, Python stubs generated from the proto at test time).
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "e2e/api/api_fixture.h"
#include "e2e/subprocess.h"

#ifndef COMET_API_CLIENT_PY
#define COMET_API_CLIENT_PY "client.py"
#endif
// Debian's python3, which has python3-grpcio and python3-grpc-tools (not a pyenv one on PATH).
#ifndef COMET_PYTHON
#define COMET_PYTHON "/usr/bin/python3"
#endif
#ifndef COMET_PROTO_DIR
#define COMET_PROTO_DIR "proto"
#endif

namespace comet::e2e::api {
namespace {

class ApiLogsTest : public ApiTest {
 protected:
  // Every line of a non-following GetLogs; expects OK.
  std::vector<std::string> Logs(const v1alpha::GetLogsRequest& request) {
    auto context = Context();
    auto reader = stub_->GetLogs(context.get(), request);
    std::vector<std::string> lines;
    v1alpha::GetLogsResponse response;
    while (reader->Read(&response)) {
      EXPECT_GT(response.lines_size(), 0) << "an empty batch";
      lines.insert(lines.end(), response.lines().begin(), response.lines().end());
    }
    grpc::Status status = reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return lines;
  }

  grpc::Status LogsStatus(const v1alpha::GetLogsRequest& request) {
    auto context = Context();
    auto reader = stub_->GetLogs(context.get(), request);
    v1alpha::GetLogsResponse response;
    while (reader->Read(&response)) {
    }
    return reader->Finish();
  }

  static v1alpha::GetLogsRequest Request(const std::string& pod, const std::string& app = "") {
    v1alpha::GetLogsRequest request;
    request.set_pod_id(pod);
    request.set_app_name(app);
    return request;
  }

  // The Unix second of the log record whose content is `content` in the pod's log of `app`.
  int64_t RecordSecond(const std::string& uuid, const std::string& app,
                       const std::string& content) {
    for (const std::string& line : Lines(ReadFileOrEmpty(LogFile(uuid, app)))) {
      // <RFC3339Nano> <stream> <P|F> <content>
      const size_t last = line.find(' ', line.find(' ', line.find(' ') + 1) + 1);
      if (last != std::string::npos && line.substr(last + 1) == content) {
        return pod::ParseRfc3339Nanos(line.substr(0, line.find(' '))) / 1000000000;
      }
    }
    ADD_FAILURE() << "no record " << content << " in the log of " << app;
    return 0;
  }
};

using Strings = std::vector<std::string>;

TEST_F(ApiLogsTest, LinesSinceUntilAndEmptyLinesLeftOut) {
  const std::string uuid_file = tmp() + "/uuid";
  (void)Ok(
      Concat({{"run", "--uuid-file-save=" + uuid_file},
              ShellApp("talker", "echo one; echo; echo two; echo three; sleep 2.2; echo late")}));
  const std::string uuid = Trim(ReadFileOrEmpty(uuid_file));
  ASSERT_FALSE(uuid.empty());
  ASSERT_NO_FATAL_FAILURE(StartService());
  EXPECT_EQ(Logs(Request(uuid)), (Strings{"one", "two", "three", "late"}));
  EXPECT_EQ(Logs(Request(uuid, "talker")), (Strings{"one", "two", "three", "late"}));
  v1alpha::GetLogsRequest tail = Request(uuid);
  tail.set_lines(2);
  EXPECT_EQ(Logs(tail), (Strings{"three", "late"}));

  const int64_t three = RecordSecond(uuid, "talker", "three");
  const int64_t late = RecordSecond(uuid, "talker", "late");
  ASSERT_GT(late, three);
  v1alpha::GetLogsRequest since = Request(uuid);
  since.set_since_time(late);
  EXPECT_EQ(Logs(since), Strings{"late"});
  v1alpha::GetLogsRequest until = Request(uuid);
  until.set_until_time(three + 1);  // before "late" (2 s later), after "three"
  EXPECT_EQ(Logs(until), (Strings{"one", "two", "three"}));
  until.set_lines(1);
  EXPECT_EQ(Logs(until), Strings{"three"});
  v1alpha::GetLogsRequest future = Request(uuid);
  future.set_since_time(::time(nullptr) + 3600);
  EXPECT_EQ(Logs(future), Strings{});
}

TEST_F(ApiLogsTest, EveryAppOfThePodInterleavedByTime) {
  const std::string uuid_file = tmp() + "/uuid";
  (void)Ok(Concat({{"run", "--uuid-file-save=" + uuid_file},
                   ShellApp("first", "echo a1; sleep 1; echo a2"),
                   {"---"},
                   ShellApp("second", "sleep 0.5; echo b1; sleep 1; echo b2")}));
  const std::string uuid = Trim(ReadFileOrEmpty(uuid_file));
  ASSERT_FALSE(uuid.empty());
  ASSERT_NO_FATAL_FAILURE(StartService());
  EXPECT_EQ(Logs(Request(uuid)), (Strings{"a1", "b1", "a2", "b2"}));
  EXPECT_EQ(Logs(Request(uuid, "second")), (Strings{"b1", "b2"}));
  v1alpha::GetLogsRequest tail = Request(uuid);
  tail.set_lines(3);
  EXPECT_EQ(Logs(tail), (Strings{"b1", "a2", "b2"}));
}

TEST_F(ApiLogsTest, BadRequestsGetStatusCodes) {
  const std::string uuid = RunDetached(ShellApp("sleeper", kSleeper));
  ASSERT_FALSE(uuid.empty());
  ASSERT_NO_FATAL_FAILURE(StartService());
  for (const int lines : {-1, 100001}) {
    v1alpha::GetLogsRequest request = Request(uuid);
    request.set_lines(lines);
    const grpc::Status status = LogsStatus(request);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << lines;
    EXPECT_NE(status.error_message().find("out of range"), std::string::npos)
        << status.error_message();
  }
  EXPECT_EQ(LogsStatus(Request(uuid, "nosuchapp")).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(LogsStatus(Request("01234567-89ab-cdef-0123-456789abcdef")).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(LogsStatus(Request("nope")).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(LogsStatus(Request("")).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1alpha::GetLogsRequest backwards = Request(uuid);
  backwards.set_since_time(2000000000);
  backwards.set_until_time(1000000000);
  EXPECT_EQ(LogsStatus(backwards).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1alpha::GetInfoResponse info;
  EXPECT_TRUE(stub_->GetInfo(Context().get(), {}, &info).ok()) << "the service went down";
}

TEST_F(ApiLogsTest, FollowSeesNewLinesWhileTheAppWritesAndEndsWhenThePodStops) {
  const std::string uuid = RunDetached(ShellApp(
      "ticker",
      "trap 'exit 0' TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done"));
  ASSERT_FALSE(uuid.empty());
  ASSERT_TRUE(
      WaitUntil([&] { return Contains(ReadFileOrEmpty(LogFile(uuid, "ticker")), "tick 3"); }));
  ASSERT_NO_FATAL_FAILURE(StartService());
  v1alpha::GetLogsRequest request = Request(uuid);
  request.set_follow(true);
  request.set_lines(2);
  auto context = Context(60s);
  auto reader = stub_->GetLogs(context.get(), request);
  v1alpha::GetLogsResponse response;
  ASSERT_TRUE(reader->Read(&response));
  ASSERT_GT(response.lines_size(), 0);
  // The backlog is tailed: at most 2 lines in the first batch.
  EXPECT_LE(response.lines_size(), 2);
  auto number = [](const std::string& line) { return std::stoi(line.substr(line.find(' ') + 1)); };
  const int start = number(response.lines(0));
  int last = number(response.lines(response.lines_size() - 1));
  EXPECT_EQ(last, start + response.lines_size() - 1);
  int batches = 1;
  // New lines keep coming, in order, without gaps.
  while (last < start + 15 && reader->Read(&response)) {
    ++batches;
    for (const std::string& line : response.lines()) {
      EXPECT_EQ(line.rfind("tick ", 0), 0U) << line;
      const int n = number(line);
      EXPECT_EQ(n, last + 1) << "a line went missing";
      last = n;
    }
  }
  EXPECT_GE(last, start + 15);
  EXPECT_GT(batches, 2) << "new lines should arrive as they are written";
  // The pod stops: the stream ends by itself, OK.
  const auto stopping = std::chrono::steady_clock::now();
  (void)Ok({"stop", uuid});
  while (reader->Read(&response)) {
  }
  const grpc::Status status = reader->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, 20s);
}

TEST_F(ApiLogsTest, FollowEndsWhenTheClientCancels) {
  const std::string uuid = RunDetached(ShellApp("sleeper", "echo hello; " + std::string(kSleeper)));
  ASSERT_FALSE(uuid.empty());
  ASSERT_NO_FATAL_FAILURE(StartService());
  v1alpha::GetLogsRequest request = Request(uuid);
  request.set_follow(true);
  auto context = Context(60s);
  auto reader = stub_->GetLogs(context.get(), request);
  v1alpha::GetLogsResponse response;
  ASSERT_TRUE(reader->Read(&response));
  EXPECT_EQ(response.lines(0), "hello");
  context->TryCancel();
  while (reader->Read(&response)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The service let go of the follow and still answers.
  v1alpha::GetLogsRequest again = Request(uuid);
  EXPECT_EQ(Logs(again), Strings{"hello"});
}

TEST_F(ApiLogsTest, FollowsAreBounded) {
  const std::string uuid = RunDetached(ShellApp("sleeper", "echo hello; " + std::string(kSleeper)));
  ASSERT_FALSE(uuid.empty());
  ASSERT_NO_FATAL_FAILURE(StartService({"--listen=127.0.0.1:0", "--max-follows=1"}));
  v1alpha::GetLogsRequest request = Request(uuid);
  request.set_follow(true);
  auto first_context = Context(60s);
  auto first = stub_->GetLogs(first_context.get(), request);
  v1alpha::GetLogsResponse response;
  ASSERT_TRUE(first->Read(&response));
  const grpc::Status second = LogsStatus(request);
  EXPECT_EQ(second.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << second.error_message();
  EXPECT_EQ(Logs(Request(uuid)), Strings{"hello"}) << "reading without follow is not bounded";
  first_context->TryCancel();
  while (first->Read(&response)) {
  }
  (void)first->Finish();
  // The slot is free again once the first follow ended.
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto context = Context(10s);
        auto reader = stub_->GetLogs(context.get(), request);
        v1alpha::GetLogsResponse got;
        const bool read = reader->Read(&got);
        context->TryCancel();
        while (reader->Read(&got)) {
        }
        (void)reader->Finish();
        return read;
      },
      10s));
}

TEST_F(ApiLogsTest, PythonClientReadsListPodsAndGetLogs) {
  const std::string uuid_file = tmp() + "/uuid";
  (void)Ok(Concat({{"run", "--uuid-file-save=" + uuid_file},
                   ShellApp("talker", "echo from-python-1; echo; echo from-python-2")}));
  const std::string uuid = Trim(ReadFileOrEmpty(uuid_file));
  ASSERT_FALSE(uuid.empty());
  ASSERT_NO_FATAL_FAILURE(StartService());
  ProcResult result = Exec({COMET_PYTHON, COMET_API_CLIENT_PY, "--proto-dir", COMET_PROTO_DIR,
                            "--address", address(), "--pod", uuid},
                           {.timeout = 120s});
  ASSERT_EQ(result.exit_code, 0) << result.Describe();
  const std::vector<std::string> lines = Lines(result.out);
  EXPECT_NE(std::find(lines.begin(), lines.end(), "pod " + uuid + " POD_STATE_EXITED talker"),
            lines.end())
      << result.out;
  EXPECT_NE(std::find(lines.begin(), lines.end(), "log from-python-1"), lines.end()) << result.out;
  EXPECT_NE(std::find(lines.begin(), lines.end(), "log from-python-2"), lines.end()) << result.out;
  EXPECT_EQ(std::count(lines.begin(), lines.end(), "log "), 0) << "an empty line was sent";
}

}  // namespace
}  // namespace comet::e2e::api
