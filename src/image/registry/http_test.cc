// HttpClient against a tiny python3 http.server on 127.0.0.1: redirects of POST bodies (a token
// request's refresh token must never reach another host), endless error bodies, request
// deadlines; and CheckRedirect's rules.
#include "image/registry/http.h"

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "image/registry/client_test_fixture.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "testing/registry_server.h"

namespace comet::image::registry {
namespace {

// /r/<status>/<same|other>: redirects to /echo on 127.0.0.1 (same authority) or localhost
// (another one); /echo answers {"method", "body"}; /endless: a 404 whose chunked body goes on
// for 10 s; /trickle: a 200 that sends 2 KiB a second for 10 s (never "stalled").
constexpr std::string_view kServer = R"PY(
import http.server, json, sys, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args): pass
    def reply(self, code, text, extra=()):
        data = text.encode()
        self.send_response(code)
        for k, v in extra: self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def chunk(self, data):
        self.wfile.write(b"%x\r\n" % len(data) + data + b"\r\n")
        self.wfile.flush()
    def serve(self, method):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        port = self.server.server_address[1]
        parts = self.path.split("?")[0].split("/")
        try:
            if parts[1] == "r":
                host = "127.0.0.1" if parts[3] == "same" else "localhost"
                self.reply(int(parts[2]), "", [("Location", "http://%s:%d/echo" % (host, port))])
            elif parts[1] == "echo":
                self.reply(200, json.dumps({"method": method, "body": body}))
            elif parts[1] in ("endless", "trickle"):
                self.send_response(404 if parts[1] == "endless" else 200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                if parts[1] == "endless":
                    self.chunk(b"e" * (70 << 10))
                end = time.time() + 10
                while time.time() < end:
                    self.chunk(b"x" * 2048 if parts[1] == "trickle" else b"e" * 1024)
                    time.sleep(1 if parts[1] == "trickle" else 0.05)
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
    def do_GET(self): self.serve("GET")
    def do_POST(self): self.serve("POST")
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
)PY";

constexpr std::string_view kSecretBody = "grant_type=refresh_token&refresh_token=secret";

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-http-test-");
    ASSERT_TRUE(dir);
    tmp_ = std::make_unique<os::TempDir>(std::move(*dir));
    std::string script = os::JoinPath(tmp_->path(), "server.py");
    std::string log = os::JoinPath(tmp_->path(), "server.log");
    ASSERT_OK(os::WriteFile(script, kServer));
    auto port = testing::FreeLoopbackPort();
    ASSERT_OK(port);
    port_ = *port;
    auto pid = testing::SpawnDaemon({"python3", script, std::to_string(port_)}, log);
    ASSERT_OK(pid);
    pid_ = *pid;
    ASSERT_OK(testing::WaitForLoopbackPort(port_, pid_, "http test server", log));
  }
  void TearDown() override { testing::StopDaemon(pid_, true); }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  static HttpRequest Post(std::string url) {
    HttpRequest request;
    request.method = "POST";
    request.url = std::move(url);
    request.body = kSecretBody;
    return request;
  }

  std::unique_ptr<os::TempDir> tmp_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST_F(HttpTest, Post302BecomesGetWithoutBody) {
  HttpClient http({});
  for (const char* path : {"/r/301/other", "/r/302/same", "/r/303/other"}) {
    auto response = http.Send(Post(Url(path)));
    ASSERT_OK(response);
    EXPECT_EQ(response->status, 200) << path;
    auto echo = Json(response->body);
    EXPECT_EQ(echo["method"], "GET") << path;
    EXPECT_EQ(echo["body"], "") << path;
  }
}

TEST_F(HttpTest, Post307KeepsBodyOnSameOrigin) {
  HttpClient http({});
  for (const char* path : {"/r/307/same", "/r/308/same"}) {
    auto response = http.Send(Post(Url(path)));
    ASSERT_OK(response);
    auto echo = Json(response->body);
    EXPECT_EQ(echo["method"], "POST") << path;
    EXPECT_EQ(echo["body"], kSecretBody) << path;
  }
}

TEST_F(HttpTest, Post307NeverResendsBodyToAnotherHost) {
  HttpClient http({});
  for (const char* path : {"/r/307/other", "/r/308/other"}) {
    auto response = http.Send(Post(Url(path)));
    ASSERT_FALSE(response) << path << " followed: " << response->body;
    EXPECT_NE(response.error().ToString().find("refusing to resend credentials to localhost:" +
                                               std::to_string(port_)),
              std::string::npos)
        << response.error().ToString();
  }
  HttpRequest get;  // without a body, a cross-host 307 is fine
  get.url = Url("/r/307/other");
  auto response = http.Send(get);
  ASSERT_OK(response);
  EXPECT_EQ(Json(response->body)["method"], "GET");
}

TEST_F(HttpTest, EndlessErrorBodyStopsAtCap) {
  HttpClient http({});
  HttpRequest request;
  request.url = Url("/endless");
  auto start = std::chrono::steady_clock::now();
  auto response = http.Send(request);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_OK(response);
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->body.size(), 64U << 10U);
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST_F(HttpTest, DocumentRequestsHaveADeadline) {
  HttpClientOptions options;
  options.request_timeout = std::chrono::seconds(2);
  HttpClient http(options);
  HttpRequest request;
  request.url = Url("/trickle");
  auto start = std::chrono::steady_clock::now();
  auto response = http.Send(request);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(response);
  EXPECT_EQ(response.error().code(), ETIMEDOUT) << response.error().ToString();
  EXPECT_LT(took, std::chrono::seconds(6));
}

UrlParts Parts(const std::string& url) {
  auto parts = ParseHttpUrl(url);
  EXPECT_TRUE(parts) << url;
  return parts ? *parts : UrlParts{};
}

TEST(CheckRedirectTest, Rules) {
  auto remote = Parts("https://registry.example.com/v2/");
  EXPECT_TRUE(CheckRedirect(remote, Parts("https://cdn.example.com/blob"), false));
  EXPECT_FALSE(CheckRedirect(remote, Parts("http://cdn.example.com/blob"), false));
  // A remote registry must not point us at our own loopback.
  EXPECT_FALSE(CheckRedirect(remote, Parts("http://127.0.0.1:5000/x"), false));
  EXPECT_FALSE(CheckRedirect(remote, Parts("http://localhost/x"), false));
  EXPECT_FALSE(
      CheckRedirect(Parts("http://registry.example.com/"), Parts("http://[::1]:80/x"), false));
  auto local = Parts("http://127.0.0.1:5000/v2/");
  EXPECT_TRUE(CheckRedirect(local, Parts("http://localhost:5001/x"), false));
  EXPECT_TRUE(
      CheckRedirect(Parts("https://localhost:5000/"), Parts("http://localhost:5000/"), false));
  // Bodies stay on their origin.
  EXPECT_TRUE(CheckRedirect(remote, Parts("https://registry.example.com/token2"), true));
  EXPECT_FALSE(CheckRedirect(remote, Parts("https://auth.example.com/token"), true));
  EXPECT_FALSE(CheckRedirect(remote, Parts("https://registry.example.com:444/token"), true));
  EXPECT_FALSE(CheckRedirect(local, Parts("https://127.0.0.1:5000/token"), true));
}

}  // namespace
}  // namespace comet::image::registry
