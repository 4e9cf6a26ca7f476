// Shared fixture of the registry client's tests: a temp dir, isolated RegistryOptions, clients
// for a RegistryServer. Not thread-safe.
#ifndef COMET_IMAGE_REGISTRY_CLIENT_TEST_FIXTURE_H_
#define COMET_IMAGE_REGISTRY_CLIENT_TEST_FIXTURE_H_

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "image/registry/client.h"
#include "os/file.h"
#include "os/temp_dir.h"
#include "testing/registry_server.h"
#include "testing/test_images.h"

namespace comet::image::registry {

using testing::ImageSpec;
using testing::PushOptions;
using testing::RegistryServer;
using testing::RegistryServerOptions;

// NOLINTBEGIN(cppcoreguidelines-macro-usage): gtest-style assertion
#define ASSERT_OK(expr)                                              \
  do {                                                               \
    const auto& status_ = (expr);                                    \
    ASSERT_TRUE(status_) << status_.error().ToString(); /* NOLINT */ \
  } while (false)
// NOLINTEND(cppcoreguidelines-macro-usage)

inline std::unique_ptr<RegistryServer> StartServer(RegistryServerOptions options = {}) {
  auto server = RegistryServer::Start(std::move(options));
  EXPECT_TRUE(server) << server.error().ToString();
  return server ? std::move(*server) : nullptr;
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-client-test-");
    ASSERT_TRUE(dir);
    tmp_ = std::make_unique<os::TempDir>(std::move(*dir));
    empty_auth_ = os::JoinPath(tmp_->path(), "empty-auth.json");
    ASSERT_OK(os::WriteFile(empty_auth_, "{}"));
  }

  // Options isolated from the machine: no system certs.d, an empty auth file.
  RegistryOptions Options() const {
    RegistryOptions options;
    options.certs_dirs.clear();
    options.auth_file = empty_auth_;
    options.stall_timeout = std::chrono::seconds(10);
    return options;
  }

  static std::unique_ptr<RegistryClient> Client(const RegistryServer& server,
                                                const std::string& repo, RegistryOptions options) {
    auto client = RegistryClient::Create(server.host_port(), repo, std::move(options));
    EXPECT_TRUE(client) << client.error().ToString();
    return client ? std::move(*client) : nullptr;
  }

  std::unique_ptr<os::TempDir> tmp_;
  std::string empty_auth_;
};

inline nlohmann::json Json(const std::string& text) {
  return nlohmann::json::parse(text);
}

}  // namespace comet::image::registry

#endif  // COMET_IMAGE_REGISTRY_CLIENT_TEST_FIXTURE_H_
