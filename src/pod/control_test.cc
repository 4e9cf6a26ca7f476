#include "pod/control.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"
#include "pod/pod_dir.h"

namespace comet::pod {
namespace {

struct SocketPair {
  os::UniqueFd a;
  os::UniqueFd b;
};

SocketPair MakePair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {os::UniqueFd(fds[0]), os::UniqueFd(fds[1])};
}

TEST(ControlFrame, RoundTripWithFds) {
  SocketPair pair = MakePair();
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  os::UniqueFd read_end(pipe_fds[0]);
  os::UniqueFd write_end(pipe_fds[1]);
  ASSERT_TRUE(WriteFrame(pair.a.get(), FrameType::kRequest, "hello",
                         {read_end.get(), write_end.get(), read_end.get()}));
  ASSERT_TRUE(WriteFrame(pair.a.get(), FrameType::kStdin, ""));
  auto frame = ReadFrame(pair.b.get());
  ASSERT_TRUE(frame) << frame.error().ToString();
  EXPECT_EQ(frame->type, FrameType::kRequest);
  EXPECT_EQ(frame->payload, "hello");
  ASSERT_EQ(frame->fds.size(), 3u);
  for (const os::UniqueFd& fd : frame->fds) {
    EXPECT_EQ(::fcntl(fd.get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  }
  // The received write end works.
  ASSERT_EQ(::write(frame->fds[1].get(), "x", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(read_end.get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
  auto empty = ReadFrame(pair.b.get());
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->type, FrameType::kStdin);
  EXPECT_TRUE(empty->payload.empty());
  EXPECT_TRUE(empty->fds.empty());
}

TEST(ControlFrame, LargePayloadAcrossManyReads) {
  SocketPair pair = MakePair();
  std::string big(kMaxFramePayload, 'z');
  std::thread writer([&] { ASSERT_TRUE(WriteFrame(pair.a.get(), FrameType::kStdout, big)); });
  auto frame = ReadFrame(pair.b.get());
  writer.join();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->payload, big);
  EXPECT_FALSE(WriteFrame(pair.a.get(), FrameType::kStdout, big + "!"));
}

TEST(ControlFrame, MalformedInput) {
  {
    SocketPair pair = MakePair();
    ASSERT_EQ(::write(pair.a.get(), "Z\0\0\0\0", 5), 5);
    auto frame = ReadFrame(pair.b.get());
    ASSERT_FALSE(frame);
    EXPECT_EQ(frame.error().code(), EPROTO);
  }
  {
    SocketPair pair = MakePair();
    ASSERT_EQ(::write(pair.a.get(), "R\x7f\xff\xff\xff", 5), 5);
    auto frame = ReadFrame(pair.b.get());
    ASSERT_FALSE(frame);
    EXPECT_EQ(frame.error().code(), EPROTO);
  }
  {
    SocketPair pair = MakePair();
    ASSERT_EQ(::write(pair.a.get(), "R\0\0\0\x09partial", 12), 12);
    pair.a.Reset();
    auto frame = ReadFrame(pair.b.get());
    ASSERT_FALSE(frame);
    EXPECT_EQ(frame.error().code(), ECONNRESET);
  }
  {
    SocketPair pair = MakePair();
    pair.a.Reset();
    auto frame = ReadFrame(pair.b.get());
    ASSERT_FALSE(frame);
    EXPECT_EQ(frame.error().code(), ECONNRESET);
  }
}

TEST(ControlFrame, DecoderByteByByte) {
  std::string bytes = EncodeFrame(FrameType::kStdout, "abc") + EncodeFrame(FrameType::kExit, "{}");
  FrameDecoder decoder;
  std::vector<Frame> frames;
  for (char c : bytes) {
    decoder.Feed(std::string_view(&c, 1));
    while (true) {
      auto next = decoder.Next();
      ASSERT_TRUE(next);
      if (!*next) {
        break;
      }
      frames.push_back(std::move(**next));
    }
  }
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].type, FrameType::kStdout);
  EXPECT_EQ(frames[0].payload, "abc");
  EXPECT_EQ(frames[1].type, FrameType::kExit);
  EXPECT_EQ(frames[1].payload, "{}");
}

TEST(ControlFrame, DecoderRejectsGarbage) {
  FrameDecoder decoder;
  decoder.Feed("Q1234");
  auto next = decoder.Next();
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().code(), EPROTO);
  FrameDecoder oversized;
  oversized.Feed(std::string_view("I\xff\xff\xff\xff", 5));
  EXPECT_FALSE(oversized.Next());
}

TEST(ControlCodec, RequestRoundTrip) {
  ControlRequest request;
  request.op = ControlOp::kExec;
  request.app = "web";
  request.grace = std::chrono::milliseconds(2500);
  request.exec.args = {"/bin/sh", "-c", "echo \xff"};
  request.exec.env = {"A=1"};
  request.exec.cwd = "/tmp";
  request.exec.user = "1000:1000";
  request.exec.tty = true;
  request.exec.interactive = true;
  request.exec.rows = 24;
  request.exec.cols = 80;
  auto decoded = DecodeRequest(EncodeRequest(request));
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  EXPECT_EQ(decoded->op, ControlOp::kExec);
  EXPECT_EQ(decoded->app, "web");
  EXPECT_EQ(decoded->grace.count(), 2500);
  EXPECT_EQ(decoded->exec.args.size(), 3u);
  EXPECT_EQ(decoded->exec.env, request.exec.env);
  EXPECT_EQ(decoded->exec.cwd, "/tmp");
  EXPECT_EQ(decoded->exec.user, "1000:1000");
  EXPECT_TRUE(decoded->exec.tty);
  EXPECT_TRUE(decoded->exec.interactive);
  EXPECT_EQ(decoded->exec.rows, 24);
  EXPECT_EQ(decoded->exec.cols, 80);
}

TEST(ControlCodec, AppAddRoundTrip) {
  App app;
  app.name = "db";
  app.image = "busybox";
  app.image_id = "sha256:" + std::string(64, 'a');
  app.exec = {"/bin/sleep", "1"};
  app.env = {"PATH=/bin"};
  app.supplementary_gids = {10, 20};
  app.caps_remove = {"CAP_NET_RAW"};
  app.resources.memory_bytes = 1 << 20;
  app.resources.oom_score_adj = -5;
  app.mounts.push_back({"data", "/data", true, ""});
  app.restart = RestartPolicy::kOnFailure;
  app.stdin = true;
  app.tty = true;
  app.annotations["k"] = "v";
  ControlRequest request;
  request.op = ControlOp::kAppAdd;
  request.new_app = app;
  auto decoded = DecodeRequest(EncodeRequest(request));
  ASSERT_TRUE(decoded) << decoded.error().ToString();
  ASSERT_TRUE(decoded->new_app);
  const App& got = *decoded->new_app;
  EXPECT_EQ(got.name, "db");
  EXPECT_EQ(got.image_id, app.image_id);
  EXPECT_EQ(got.exec, app.exec);
  EXPECT_EQ(got.supplementary_gids, app.supplementary_gids);
  EXPECT_EQ(got.caps_remove, app.caps_remove);
  EXPECT_EQ(got.resources.memory_bytes, 1 << 20);
  EXPECT_EQ(got.resources.oom_score_adj, -5);
  ASSERT_EQ(got.mounts.size(), 1u);
  EXPECT_EQ(got.mounts[0].target, "/data");
  EXPECT_TRUE(got.mounts[0].read_only);
  EXPECT_EQ(got.restart, RestartPolicy::kOnFailure);
  EXPECT_TRUE(got.stdin);
  EXPECT_TRUE(got.tty);
  EXPECT_EQ(got.annotations.at("k"), "v");
  EXPECT_EQ(decoded->grace.count(), -1);
}

TEST(ControlCodec, RejectsBadRequests) {
  for (const char* text : {
           "",
           "[]",
           "{",
           R"({"op":"dance"})",
           R"({"op":"app-start"})",
           R"({"op":"app-start","app":7})",
           R"({"op":"exec","app":"a"})",
           R"({"op":"exec","app":"a","exec":{"args":[]}})",
           R"({"op":"exec","app":"a","exec":{"args":["x"],"rows":70000}})",
           R"({"op":"app-add"})",
           R"({"op":"app-add","new_app":{"restart":"Sometimes"}})",
           R"({"op":"stop","grace_ms":"soon"})",
       }) {
    EXPECT_FALSE(DecodeRequest(text)) << text;
  }
  EXPECT_TRUE(DecodeRequest(R"({"op":"stop","future_field":1})"));
}

TEST(ControlCodec, ReplyExitResize) {
  ControlReply reply;
  reply.ok = false;
  reply.error = "no app \"x\"";
  reply.code = ENOENT;
  auto decoded = DecodeReply(EncodeReply(reply));
  ASSERT_TRUE(decoded);
  EXPECT_FALSE(decoded->ok);
  EXPECT_EQ(decoded->error, reply.error);
  EXPECT_EQ(decoded->code, ENOENT);
  ControlReply good;
  good.ok = true;
  good.pid = 42;
  good.tty = true;
  decoded = DecodeReply(EncodeReply(good));
  ASSERT_TRUE(decoded);
  EXPECT_TRUE(decoded->ok);
  EXPECT_EQ(decoded->pid, 42);
  EXPECT_TRUE(decoded->tty);

  EXPECT_EQ(*DecodeExit(EncodeExit(137)), 137);
  EXPECT_FALSE(DecodeExit("{}"));
  EXPECT_FALSE(DecodeExit(R"({"exit_code":-3})"));
  auto size = DecodeResize(EncodeResize({24, 80}));
  ASSERT_TRUE(size);
  EXPECT_EQ(size->rows, 24);
  EXPECT_EQ(size->cols, 80);
  EXPECT_FALSE(DecodeResize("24"));
  EXPECT_FALSE(DecodeResize("24 x"));
  EXPECT_FALSE(DecodeResize("24 99999"));
}

TEST(ControlCodec, DetachKeys) {
  EXPECT_EQ(*ParseDetachKeys("ctrl-p,ctrl-q"), std::string("\x10\x11"));
  EXPECT_EQ(*ParseDetachKeys("a,ctrl-@,ctrl-["), std::string("a\0\x1b", 3));
  EXPECT_EQ(*ParseDetachKeys(""), "");
  EXPECT_FALSE(ParseDetachKeys("ctrl-"));
  EXPECT_FALSE(ParseDetachKeys("ctrl-1"));
  EXPECT_FALSE(ParseDetachKeys("ab"));
}

// A tiny server on <dir>/state/ctl answering one request.
TEST(ControlClient, CallControlOverRealSocket) {
  auto dir = os::TempDir::Create("comet-ctl-");
  ASSERT_TRUE(dir);
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  os::UniqueFd listen_fd(listener);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_TRUE(os::MkdirAll(dir->path() + "/state"));  // the volatile directory's link, made real
  std::string path = dir->path() + "/" + kControlSocket;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  std::thread server([&] {
    for (int i = 0; i < 2; ++i) {
      os::UniqueFd conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
      auto frame = ReadFrame(conn.get());
      ASSERT_TRUE(frame);
      auto request = DecodeRequest(frame->payload);
      ASSERT_TRUE(request);
      ControlReply reply;
      reply.ok = request->app == "good";
      reply.error = "no such app";
      reply.code = ENOENT;
      ASSERT_TRUE(WriteFrame(conn.get(), FrameType::kReply, EncodeReply(reply)));
    }
  });
  ControlRequest request;
  request.op = ControlOp::kAppStart;
  request.app = "good";
  auto reply = CallControl(dir->path(), request);
  EXPECT_TRUE(reply) << reply.error().ToString();
  request.app = "bad";
  reply = CallControl(dir->path(), request);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().code(), ENOENT);
  EXPECT_NE(reply.error().ToString().find("no such app"), std::string::npos);
  server.join();

  listen_fd.Reset();
  ::unlink(path.c_str());
  auto missing = ConnectControl(dir->path());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().ToString().find("not running"), std::string::npos);
}

// A wedged supervisor: its socket exists and the kernel queues connections, but nobody accepts,
// reads or replies. The client gives up after its timeout instead of hanging (`comet stop`).
TEST(ControlClient, CallControlTimesOutOnAWedgedSupervisor) {
  auto dir = os::TempDir::Create("comet-ctl-");
  ASSERT_TRUE(dir);
  os::UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_TRUE(os::MkdirAll(dir->path() + "/state"));  // the volatile directory's link, made real
  std::string path = dir->path() + "/" + kControlSocket;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener.get(), 0), 0);
  ControlRequest request;
  request.op = ControlOp::kStop;
  // Fills the backlog too, so that later connects would block in connect(2) itself.
  for (int i = 0; i < 4; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto reply = CallControl(dir->path(), request, std::chrono::milliseconds(200));
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(reply);
    EXPECT_EQ(reply.error().code(), ETIMEDOUT) << reply.error().ToString();
    EXPECT_LT(took, std::chrono::seconds(3));
  }
  auto reply = CallControl(dir->path(), request, std::chrono::milliseconds(200));
  ASSERT_FALSE(reply);
  EXPECT_NE(reply.error().ToString().find("supervisor"), std::string::npos)
      << reply.error().ToString();
}

}  // namespace
}  // namespace comet::pod
