// Tests of PrepareHostPath and UndoHostPaths (host_path.cc) in a temporary directory.
#include "kube/host_path.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "os/file.h"
#include "os/temp_dir.h"
#include "os/unique_fd.h"

namespace comet::kube {
namespace {

class HostPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = os::TempDir::Create("comet-hostpath-");
    ASSERT_TRUE(dir) << dir.error().ToString();
    dir_.emplace(std::move(*dir));
  }

  std::string Path(const std::string& name) const { return dir_->path() + "/" + name; }

  static HostPathRequirement Req(std::string path, std::string type) {
    return HostPathRequirement{
        .path = std::move(path), .type = std::move(type), .field = "spec.volumes[2].hostPath"};
  }

  static mode_t Mode(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return st.st_mode;
  }

  std::optional<os::TempDir> dir_;
};

TEST_F(HostPathTest, MissingPathOfNoTypeBecomesADirectory) {
  const mode_t old_umask = ::umask(077);  // the modes do not depend on it
  std::vector<std::string> created;
  auto status = PrepareHostPath(Req(Path("does/not/exist"), ""), &created);
  ::umask(old_umask);
  ASSERT_TRUE(status) << status.error().ToString();
  EXPECT_EQ(created,
            (std::vector<std::string>{Path("does"), Path("does/not"), Path("does/not/exist")}));
  for (const std::string& dir : created) {
    EXPECT_TRUE(S_ISDIR(Mode(dir)));
    EXPECT_EQ(Mode(dir) & 07777, 0755u) << dir;
  }
  // Again: it exists now, nothing is created.
  std::vector<std::string> again;
  ASSERT_TRUE(PrepareHostPath(Req(Path("does/not/exist"), ""), &again));
  EXPECT_TRUE(again.empty());

  UndoHostPaths(created);
  EXPECT_FALSE(os::Exists(Path("does")));
}

TEST_F(HostPathTest, DirectoryOrCreate) {
  std::vector<std::string> created;
  ASSERT_TRUE(PrepareHostPath(Req(Path("d"), "DirectoryOrCreate"), &created));
  EXPECT_EQ(created, (std::vector<std::string>{Path("d")}));
  EXPECT_TRUE(os::IsDirectory(Path("d")));

  ASSERT_TRUE(os::WriteFile(Path("file"), "x"));
  created.clear();
  auto status = PrepareHostPath(Req(Path("file"), "DirectoryOrCreate"), &created);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message(),
            "spec.volumes[2].hostPath: " + Path("file") + ": not a directory");
  // "" accepts whatever exists.
  EXPECT_TRUE(PrepareHostPath(Req(Path("file"), ""), &created));
  EXPECT_TRUE(created.empty());
  // A file in the way of a parent.
  status = PrepareHostPath(Req(Path("file/sub"), "DirectoryOrCreate"), &created);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message(),
            "spec.volumes[2].hostPath: " + Path("file") + ": not a directory");
}

TEST_F(HostPathTest, FileOrCreate) {
  const mode_t old_umask = ::umask(077);
  std::vector<std::string> created;
  auto status = PrepareHostPath(Req(Path("etc/app/config"), "FileOrCreate"), &created);
  ::umask(old_umask);
  ASSERT_TRUE(status) << status.error().ToString();
  EXPECT_EQ(created,
            (std::vector<std::string>{Path("etc"), Path("etc/app"), Path("etc/app/config")}));
  EXPECT_TRUE(S_ISREG(Mode(Path("etc/app/config"))));
  EXPECT_EQ(Mode(Path("etc/app/config")) & 07777, 0644u);
  EXPECT_EQ(Mode(Path("etc/app")) & 07777, 0755u);
  auto content = os::ReadFile(Path("etc/app/config"));
  ASSERT_TRUE(content);
  EXPECT_EQ(*content, "");

  // Existing file: kept as it is.
  ASSERT_TRUE(os::WriteFile(Path("etc/app/config"), "keep"));
  std::vector<std::string> again;
  ASSERT_TRUE(PrepareHostPath(Req(Path("etc/app/config"), "FileOrCreate"), &again));
  EXPECT_TRUE(again.empty());
  EXPECT_EQ(*os::ReadFile(Path("etc/app/config")), "keep");

  status = PrepareHostPath(Req(Path("etc"), "FileOrCreate"), &again);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message(), "spec.volumes[2].hostPath: " + Path("etc") + ": not a file");

  UndoHostPaths(created);
  EXPECT_FALSE(os::Exists(Path("etc")));
}

TEST_F(HostPathTest, FileOrCreateDoesNotFollowADanglingSymlink) {
  ASSERT_EQ(::symlink(Path("target").c_str(), Path("link").c_str()), 0);
  std::vector<std::string> created;
  auto status = PrepareHostPath(Req(Path("link"), "FileOrCreate"), &created);
  ASSERT_FALSE(status);
  EXPECT_FALSE(os::Exists(Path("target")));
  EXPECT_TRUE(created.empty());
}

TEST_F(HostPathTest, TypesThatMustExist) {
  ASSERT_TRUE(os::WriteFile(Path("file"), "x"));
  ASSERT_TRUE(os::MkdirAll(Path("dir")));
  // A listening unix socket.
  os::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(sock);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string sock_path = Path("sock");
  ASSERT_LT(sock_path.size(), sizeof(addr.sun_path));
  sock_path.copy(addr.sun_path, sock_path.size());
  ASSERT_EQ(::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);

  std::vector<std::string> created;
  EXPECT_TRUE(PrepareHostPath(Req(Path("dir"), "Directory"), &created));
  EXPECT_TRUE(PrepareHostPath(Req(Path("file"), "File"), &created));
  EXPECT_TRUE(PrepareHostPath(Req(Path("sock"), "Socket"), &created));
  EXPECT_TRUE(PrepareHostPath(Req("/dev/null", "CharDevice"), &created));
  EXPECT_TRUE(created.empty());

  struct Case {
    std::string path;
    const char* type;
    std::string message;
  };
  const std::string prefix = "spec.volumes[2].hostPath: ";
  for (const Case& c : std::vector<Case>{
           {Path("file"), "Directory", prefix + Path("file") + ": not a directory"},
           {Path("dir"), "File", prefix + Path("dir") + ": not a file"},
           {Path("file"), "Socket", prefix + Path("file") + ": not a socket"},
           {Path("file"), "CharDevice", prefix + Path("file") + ": not a character device"},
           {"/dev/null", "BlockDevice", prefix + "/dev/null: not a block device"},
           {Path("missing"), "Directory",
            prefix + Path("missing") + ": does not exist (type Directory)"},
           {Path("missing"), "File", prefix + Path("missing") + ": does not exist (type File)"},
       }) {
    auto status = PrepareHostPath(Req(c.path, c.type), &created);
    ASSERT_FALSE(status) << c.path << " " << c.type;
    EXPECT_EQ(status.error().message(), c.message);
  }
  EXPECT_TRUE(created.empty());
  EXPECT_FALSE(os::Exists(Path("missing")));
}

TEST_F(HostPathTest, UnknownType) {
  std::vector<std::string> created;
  auto status = PrepareHostPath(Req(Path("x"), "Fifo"), &created);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message(),
            "spec.volumes[2].hostPath.type: \"Fifo\": unknown hostPath type");
  EXPECT_TRUE(IsValidHostPathType("BlockDevice"));
  EXPECT_FALSE(IsValidHostPathType("directory"));
}

TEST_F(HostPathTest, UndoKeepsWhatSomethingElsePutThere) {
  std::vector<std::string> created;
  ASSERT_TRUE(PrepareHostPath(Req(Path("a/b"), ""), &created));
  ASSERT_TRUE(os::WriteFile(Path("a/other"), "x"));
  UndoHostPaths(created);
  EXPECT_FALSE(os::Exists(Path("a/b")));
  EXPECT_TRUE(os::Exists(Path("a/other")));
}

}  // namespace
}  // namespace comet::kube
