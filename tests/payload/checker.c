/* checker: a static probe that runs inside a test container and prints what it sees as
 * `key=value` lines, one subcommand per invocation (`checker caps`, `checker write /x`, ...).
 * The end-to-end tests parse its output. Single-threaded; plain C, no dependencies. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static const char* ErrName(int err) {
  switch (err) {
    case 0:
      return "OK";
    case EPERM:
      return "EPERM";
    case ENOENT:
      return "ENOENT";
    case EACCES:
      return "EACCES";
    case EEXIST:
      return "EEXIST";
    case EROFS:
      return "EROFS";
    case ENOSYS:
      return "ENOSYS";
    case EINVAL:
      return "EINVAL";
    case ENOTDIR:
      return "ENOTDIR";
    case EISDIR:
      return "EISDIR";
    case ENOSPC:
      return "ENOSPC";
    case ENXIO:
      return "ENXIO";
    case ENODEV:
      return "ENODEV";
    default:
      return "E?";
  }
}

/* Prints `errno=N` and `errname=NAME` for the result of an operation (0 on success). */
static void PrintErrno(int err) {
  printf("errno=%d\nerrname=%s\n", err, ErrName(err));
}

/* Copies the value of "Key:\t..." from /proc/self/status into out; returns 0 on success. */
static int StatusField(const char* key, char* out, size_t out_len) {
  FILE* f = fopen("/proc/self/status", "re");
  if (f == NULL)
    return -1;
  char line[512];
  size_t key_len = strlen(key);
  int rc = -1;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, key, key_len) == 0 && line[key_len] == ':') {
      char* v = line + key_len + 1;
      while (*v == ' ' || *v == '\t')
        v++;
      v[strcspn(v, "\n")] = '\0';
      snprintf(out, out_len, "%s", v);
      rc = 0;
      break;
    }
  }
  fclose(f);
  return rc;
}

/* Reads a small file into buf without the trailing newline; returns 0 on success. */
static int ReadSmall(const char* path, char* buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read(fd, buf, len - 1);
  int saved = errno;
  close(fd);
  if (n < 0) {
    errno = saved;
    return -1;
  }
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = '\0';
  return 0;
}

static int CmdIds(void) {
  printf("uid=%u\ngid=%u\neuid=%u\negid=%u\n", getuid(), getgid(), geteuid(), getegid());
  gid_t groups[256];
  int n = getgroups(256, groups);
  printf("groups=");
  for (int i = 0; i < n; i++)
    printf("%s%u", i ? "," : "", groups[i]);
  printf("\n");
  mode_t mask = umask(0);
  umask(mask);
  printf("umask=%04o\n", (unsigned)mask);
  return 0;
}

static int CmdStatusKeys(const char* const* keys) {
  char value[256];
  for (; *keys != NULL; keys++) {
    if (StatusField(*keys, value, sizeof value) == 0)
      printf("%s=%s\n", *keys, value);
  }
  return 0;
}

static int CmdNs(void) {
  static const char* const kNames[] = {"cgroup",           "ipc",  "mnt",  "net", "pid",
                                       "pid_for_children", "time", "user", "uts", NULL};
  for (const char* const* n = kNames; *n != NULL; n++) {
    char path[64], target[128];
    snprintf(path, sizeof path, "/proc/self/ns/%s", *n);
    ssize_t len = readlink(path, target, sizeof target - 1);
    if (len < 0)
      continue;
    target[len] = '\0';
    char* open_bracket = strchr(target, '[');
    char* close_bracket = strchr(target, ']');
    if (open_bracket == NULL || close_bracket == NULL)
      continue;
    *close_bracket = '\0';
    printf("%s=%s\n", *n, open_bracket + 1);
  }
  return 0;
}

/* mount=<target> <fstype> <mount options> <super options> <propagation> (one line per mount;
 * propagation is "private" when mountinfo lists no optional fields). */
static int CmdMounts(void) {
  FILE* f = fopen("/proc/self/mountinfo", "re");
  if (f == NULL) {
    PrintErrno(errno);
    return 1;
  }
  char line[4096];
  while (fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    char* fields[32];
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(line, " ", &save); tok != NULL && n < 32;
         tok = strtok_r(NULL, " ", &save)) {
      fields[n++] = tok;
    }
    int sep = 6;
    while (sep < n && strcmp(fields[sep], "-") != 0)
      sep++;
    if (sep + 3 >= n)
      continue;
    char propagation[256] = "";
    for (int i = 6; i < sep; i++) {
      if (propagation[0] != '\0')
        strncat(propagation, ",", sizeof propagation - strlen(propagation) - 1);
      strncat(propagation, fields[i], sizeof propagation - strlen(propagation) - 1);
    }
    printf("mount=%s %s %s %s %s\n", fields[4], fields[sep + 1], fields[5], fields[sep + 3],
           propagation[0] ? propagation : "private");
  }
  fclose(f);
  return 0;
}

static void PrintLimit(const char* name, int resource) {
  struct rlimit rl;
  if (getrlimit(resource, &rl) != 0)
    return;
  printf("%s=", name);
  if (rl.rlim_cur == RLIM_INFINITY)
    printf("unlimited:");
  else
    printf("%llu:", (unsigned long long)rl.rlim_cur);
  if (rl.rlim_max == RLIM_INFINITY)
    printf("unlimited\n");
  else
    printf("%llu\n", (unsigned long long)rl.rlim_max);
}

static int CmdRlimits(void) {
  PrintLimit("RLIMIT_NOFILE", RLIMIT_NOFILE);
  PrintLimit("RLIMIT_NPROC", RLIMIT_NPROC);
  PrintLimit("RLIMIT_CORE", RLIMIT_CORE);
  PrintLimit("RLIMIT_STACK", RLIMIT_STACK);
  PrintLimit("RLIMIT_AS", RLIMIT_AS);
  PrintLimit("RLIMIT_CPU", RLIMIT_CPU);
  PrintLimit("RLIMIT_MEMLOCK", RLIMIT_MEMLOCK);
  PrintLimit("RLIMIT_FSIZE", RLIMIT_FSIZE);
  return 0;
}

/* Finds this process's path in the v1 hierarchy that has `controller`, from /proc/self/cgroup. */
static void OwnV1Path(const char* controller, char* out, size_t len) {
  snprintf(out, len, "/");
  FILE* f = fopen("/proc/self/cgroup", "re");
  if (f == NULL)
    return;
  char line[1024];
  while (fgets(line, sizeof line, f) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    char* c1 = strchr(line, ':');
    char* c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (c2 == NULL)
      continue;
    *c2 = '\0';
    for (char *save = NULL, *tok = strtok_r(c1 + 1, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
      if (strcmp(tok, controller) == 0) {
        snprintf(out, len, "%s", c2 + 1);
        fclose(f);
        return;
      }
    }
  }
  fclose(f);
}

/* Prints controller/file, trying the own-cgroup path first (no cgroup namespace), then the root
 * of the mount (cgroup namespace or the runtime bind-mounting the container's group). */
static void PrintV1(const char* controller, const char* file) {
  char own[1024], path[2048], value[256];
  OwnV1Path(controller, own, sizeof own);
  snprintf(path, sizeof path, "/sys/fs/cgroup/%s%s/%s", controller, own, file);
  if (ReadSmall(path, value, sizeof value) != 0) {
    snprintf(path, sizeof path, "/sys/fs/cgroup/%s/%s", controller, file);
    if (ReadSmall(path, value, sizeof value) != 0)
      return;
  }
  printf("%s=%s\n", file, value);
}

static int CmdCgroup(void) {
  char value[256];
  if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
    static const char* const kFiles[] = {"memory.max",  "pids.max",    "cpu.max", "cpu.weight",
                                         "cpuset.cpus", "cpuset.mems", NULL};
    printf("cgroup.version=2\n");
    for (const char* const* f = kFiles; *f; f++) {
      char path[256];
      snprintf(path, sizeof path, "/sys/fs/cgroup/%s", *f);
      if (ReadSmall(path, value, sizeof value) == 0)
        printf("%s=%s\n", *f, value);
    }
    return 0;
  }
  printf("cgroup.version=1\n");
  PrintV1("memory", "memory.limit_in_bytes");
  PrintV1("memory", "memory.memsw.limit_in_bytes");
  PrintV1("pids", "pids.max");
  PrintV1("cpu", "cpu.shares");
  PrintV1("cpu", "cpu.cfs_quota_us");
  PrintV1("cpu", "cpu.cfs_period_us");
  PrintV1("cpuset", "cpuset.cpus");
  PrintV1("cpuset", "cpuset.mems");
  return 0;
}

/* Tries one syscall with harmless arguments and prints its errno (0 = allowed). */
static int CmdSeccomp(const char* name) {
  long rc = -1;
  errno = 0;
  if (strcmp(name, "getcwd") == 0) {
    char buf[256];
    rc = syscall(SYS_getcwd, buf, sizeof buf);
  } else if (strcmp(name, "mkdir") == 0) {
    rc = syscall(SYS_mkdirat, AT_FDCWD, "/tmp/.checker-probe", 0700);
    if (rc == 0 || errno == EEXIST) {
      rmdir("/tmp/.checker-probe");
      rc = 0;
      errno = 0;
    }
  } else if (strcmp(name, "uname") == 0) {
    struct utsname u;
    rc = syscall(SYS_uname, &u);
  } else if (strcmp(name, "getppid") == 0) {
    rc = syscall(SYS_getppid);
  } else if (strcmp(name, "chdir") == 0) {
    rc = syscall(SYS_chdir, "/");
  } else if (strcmp(name, "sync") == 0) {
    rc = syscall(SYS_sync);
  } else if (strcmp(name, "socket") == 0) {
    rc = syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rc >= 0)
      close((int)rc);
  } else if (strcmp(name, "personality") == 0) {
    rc = syscall(SYS_personality, 0xffffffffUL);
  } else {
    fprintf(stderr, "checker: unknown seccomp probe %s\n", name);
    return 2;
  }
  PrintErrno(rc < 0 ? errno : 0);
  return 0;
}

static int CmdTty(void) {
  printf("stdin_tty=%d\nstdout_tty=%d\nstderr_tty=%d\n", isatty(0), isatty(1), isatty(2));
  const char* name = ttyname(0);
  printf("ttyname=%s\n", name ? name : "none");
  struct winsize ws;
  int fd = isatty(1) ? 1 : 0;
  if (ioctl(fd, TIOCGWINSZ, &ws) == 0)
    printf("rows=%u\ncols=%u\n", ws.ws_row, ws.ws_col);
  return 0;
}

static int CmdWrite(const char* path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0) {
    if (write(fd, "x\n", 2) < 0)
      err = errno;
    close(fd);
  }
  PrintErrno(err);
  return 0;
}

static int CmdOpen(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  PrintErrno(fd < 0 ? errno : 0);
  if (fd >= 0)
    close(fd);
  return 0;
}

static int CmdStat(const char* path) {
  struct stat st;
  if (lstat(path, &st) != 0) {
    PrintErrno(errno);
    return 0;
  }
  const char* type = S_ISREG(st.st_mode)    ? "reg"
                     : S_ISDIR(st.st_mode)  ? "dir"
                     : S_ISCHR(st.st_mode)  ? "chr"
                     : S_ISBLK(st.st_mode)  ? "blk"
                     : S_ISLNK(st.st_mode)  ? "lnk"
                     : S_ISFIFO(st.st_mode) ? "fifo"
                                            : "sock";
  printf("errno=0\ntype=%s\nmode=%04o\nuid=%u\ngid=%u\nrdev=%u:%u\n", type,
         (unsigned)(st.st_mode & 07777), st.st_uid, st.st_gid, major(st.st_rdev),
         minor(st.st_rdev));
  if (S_ISLNK(st.st_mode)) {
    char target[1024];
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n >= 0) {
      target[n] = '\0';
      printf("link=%s\n", target);
    }
  }
  return 0;
}

static int CmdSysctl(const char* name) {
  char path[512], value[512];
  snprintf(path, sizeof path, "/proc/sys/%s", name);
  for (char* p = path + strlen("/proc/sys/"); *p; p++) {
    if (*p == '.')
      *p = '/';
  }
  if (ReadSmall(path, value, sizeof value) != 0) {
    PrintErrno(errno);
    return 0;
  }
  printf("value=%s\n", value);
  return 0;
}

static int CmdAlloc(long mib) {
  for (long i = 0; i < mib; i++) {
    char* chunk = malloc(1 << 20);
    if (chunk == NULL) {
      printf("allocated=%ld\n", i);
      return 3;
    }
    memset(chunk, 0x5a, 1 << 20);
  }
  printf("allocated=%ld\n", mib);
  return 0;
}

static int CmdFds(void) {
  DIR* d = opendir("/proc/self/fd");
  if (d == NULL) {
    PrintErrno(errno);
    return 1;
  }
  int self = dirfd(d);
  int fds[1024];
  int n = 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL && n < 1024) {
    if (e->d_name[0] == '.')
      continue;
    int fd = atoi(e->d_name);
    if (fd != self)
      fds[n++] = fd;
  }
  closedir(d);
  for (int i = 0; i < n; i++) { /* readdir order is ascending in procfs, but sort anyway */
    for (int j = i + 1; j < n; j++) {
      if (fds[j] < fds[i]) {
        int t = fds[i];
        fds[i] = fds[j];
        fds[j] = t;
      }
    }
  }
  printf("fds=");
  for (int i = 0; i < n; i++)
    printf("%s%d", i ? "," : "", fds[i]);
  printf("\n");
  return 0;
}

/* Writes an increasing counter to `path` every 20 ms, forever: a frozen process stops counting.
 * Each value goes to a temp file renamed over `path`, so that a reader never sees a torn or
 * empty file, even when the process is frozen mid-update. */
static int CmdCounter(const char* path) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  for (unsigned long i = 0;; i++) {
    char buf[32];
    int len = snprintf(buf, sizeof buf, "%lu\n", i);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      return 1;
    }
    if (write(fd, buf, (size_t)len) < 0) {
      return 1;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
      return 1;
    }
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

static int Usage(void) {
  fprintf(stderr,
          "usage: checker ids|caps|ns|mounts|rlimits|cgroup|oom|hostname|env|cwd|nnp|tty|"
          "personality|pid|fds\n"
          "       checker seccomp <probe>|write <path>|open <path>|stat <path>|sysctl <name>|"
          "exit <n>|sleep <secs>|alloc <MiB>|counter <path>\n");
  return 2;
}

int main(int argc, char** argv) {
  if (argc < 2)
    return Usage();
  const char* cmd = argv[1];
  const char* arg = argc > 2 ? argv[2] : NULL;
  int rc;
  if (strcmp(cmd, "ids") == 0) {
    rc = CmdIds();
  } else if (strcmp(cmd, "caps") == 0) {
    static const char* const kKeys[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", NULL};
    rc = CmdStatusKeys(kKeys);
  } else if (strcmp(cmd, "nnp") == 0) {
    static const char* const kKeys[] = {"NoNewPrivs", "Seccomp", NULL};
    rc = CmdStatusKeys(kKeys);
  } else if (strcmp(cmd, "ns") == 0) {
    rc = CmdNs();
  } else if (strcmp(cmd, "mounts") == 0) {
    rc = CmdMounts();
  } else if (strcmp(cmd, "rlimits") == 0) {
    rc = CmdRlimits();
  } else if (strcmp(cmd, "cgroup") == 0) {
    rc = CmdCgroup();
  } else if (strcmp(cmd, "oom") == 0) {
    char v[64] = "?";
    ReadSmall("/proc/self/oom_score_adj", v, sizeof v);
    printf("oom_score_adj=%s\n", v);
    rc = 0;
  } else if (strcmp(cmd, "hostname") == 0) {
    struct utsname u;
    uname(&u);
    printf("hostname=%s\ndomainname=%s\n", u.nodename, u.domainname);
    rc = 0;
  } else if (strcmp(cmd, "env") == 0) {
    for (char** e = environ; *e != NULL; e++)
      printf("%s\n", *e);
    rc = 0;
  } else if (strcmp(cmd, "cwd") == 0) {
    char buf[4096];
    printf("cwd=%s\n", getcwd(buf, sizeof buf) ? buf : "?");
    rc = 0;
  } else if (strcmp(cmd, "tty") == 0) {
    rc = CmdTty();
  } else if (strcmp(cmd, "personality") == 0) {
    struct utsname u;
    uname(&u);
    printf("personality=0x%x\nmachine=%s\n", (unsigned)personality(0xffffffffUL), u.machine);
    rc = 0;
  } else if (strcmp(cmd, "pid") == 0) {
    printf("pid=%d\nppid=%d\n", getpid(), getppid());
    rc = 0;
  } else if (strcmp(cmd, "fds") == 0) {
    rc = CmdFds();
  } else if (arg == NULL) {
    return Usage();
  } else if (strcmp(cmd, "seccomp") == 0) {
    rc = CmdSeccomp(arg);
  } else if (strcmp(cmd, "write") == 0) {
    rc = CmdWrite(arg);
  } else if (strcmp(cmd, "open") == 0) {
    rc = CmdOpen(arg);
  } else if (strcmp(cmd, "stat") == 0) {
    rc = CmdStat(arg);
  } else if (strcmp(cmd, "sysctl") == 0) {
    rc = CmdSysctl(arg);
  } else if (strcmp(cmd, "exit") == 0) {
    return atoi(arg);
  } else if (strcmp(cmd, "sleep") == 0) {
    fflush(stdout);
    sleep((unsigned)atoi(arg));
    rc = 0;
  } else if (strcmp(cmd, "alloc") == 0) {
    rc = CmdAlloc(atol(arg));
  } else if (strcmp(cmd, "counter") == 0) {
    rc = CmdCounter(arg);
  } else {
    return Usage();
  }
  fflush(stdout);
  return rc;
}
