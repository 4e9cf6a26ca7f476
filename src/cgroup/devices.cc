// Device rules for v1 (devices.allow/deny lines) and v2 (an eBPF cgroup device program).
#include "cgroup/devices.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "base/log.h"
#include "base/strings.h"
#include "os/unique_fd.h"

namespace comet::cgroup {
namespace {

struct Rule {
  bool allow = false;
  char type = 'a';     // a c b
  int64_t major = -1;  // -1 = any
  int64_t minor = -1;
  std::string access;  // subset of "rwm", never empty
};

Result<Rule> Normalize(const oci::DeviceCgroup& in, size_t index) {
  std::string where = "linux.resources.devices[" + std::to_string(index) + "]";
  Rule r;
  r.allow = in.allow;
  if (in.type.empty() || in.type == "a") {
    r.type = 'a';
  } else if (in.type == "c" || in.type == "b") {
    r.type = in.type[0];
  } else {
    return Err(Error::Invalid(where + ".type " + JsonQuote(in.type) + " is not a, b or c"));
  }
  r.major = in.major.value_or(-1);
  r.minor = in.minor.value_or(-1);
  if (r.major < -1 || r.minor < -1 || r.major > UINT32_MAX || r.minor > UINT32_MAX) {
    return Err(Error::Invalid(where + ": major/minor out of range"));
  }
  for (char c : std::string_view("rwm")) {
    if (in.access.empty() || in.access.find(c) != std::string::npos) {
      r.access += c;
    }
  }
  if (in.access.find_first_not_of("rwm") != std::string::npos) {
    return Err(Error::Invalid(where + ".access " + JsonQuote(in.access) + " is not made of rwm"));
  }
  return r;
}

std::string Number(int64_t n) {
  return n < 0 ? "*" : std::to_string(n);
}

}  // namespace

Result<std::vector<V1DeviceWrite>> V1DeviceWrites(const std::vector<oci::DeviceCgroup>& rules) {
  std::vector<V1DeviceWrite> out = {{false, "a"}};
  for (size_t i = 0; i < rules.size(); ++i) {
    ASSIGN_OR_RETURN(Rule r, Normalize(rules[i], i));
    bool any_device = r.major < 0 && r.minor < 0;
    if (r.type == 'a' && any_device && r.access == "rwm") {
      out.push_back({r.allow, "a"});  // The kernel reads "a" as "everything" and ignores the rest.
      continue;
    }
    std::string rest = " " + Number(r.major) + ":" + Number(r.minor) + " " + r.access;
    if (r.type == 'a') {
      out.push_back({r.allow, "c" + rest});
      out.push_back({r.allow, "b" + rest});
    } else {
      out.push_back({r.allow, std::string(1, r.type) + rest});
    }
  }
  return out;
}

namespace {

bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn insn{};
  insn.code = code;
  insn.dst_reg = dst & 0xf;
  insn.src_reg = src & 0xf;
  insn.off = off;
  insn.imm = imm;
  return insn;
}

// Registers after the prologue: r2 = requested access bits, r3 = device type, r4 = major,
// r5 = minor; r1 is scratch (the context is no longer needed).
constexpr uint8_t kR0 = BPF_REG_0, kR1 = BPF_REG_1, kR2 = BPF_REG_2, kR3 = BPF_REG_3,
                  kR4 = BPF_REG_4, kR5 = BPF_REG_5;

uint8_t Code(int a, int b, int c) {
  return static_cast<uint8_t>(a | b | c);
}

// A jump to the end of the current rule's block; its offset is patched once the block is known.
bpf_insn JumpIfNot(int op, uint8_t reg, int64_t imm) {
  return Insn(Code(BPF_JMP32, op, BPF_K), reg, 0, 0, static_cast<int32_t>(imm));
}

int32_t AccessBits(const std::string& access) {
  int32_t bits = 0;
  for (char c : access) {
    bits |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
  }
  return bits;
}

std::vector<bpf_insn> RuleBlock(const Rule& r) {
  std::vector<bpf_insn> b;
  if (r.type != 'a') {
    b.push_back(JumpIfNot(BPF_JNE, kR3, r.type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
  }
  int32_t bits = AccessBits(r.access);
  if (bits != 7) {
    b.push_back(Insn(Code(BPF_ALU, BPF_MOV, BPF_X), kR1, kR2, 0, 0));
    if (r.allow) {  // Allow only when nothing outside the rule's access is requested.
      b.push_back(Insn(Code(BPF_ALU, BPF_AND, BPF_K), kR1, 0, 0, ~bits & 7));
      b.push_back(JumpIfNot(BPF_JNE, kR1, 0));
    } else {  // Deny when any of the rule's access is requested.
      b.push_back(Insn(Code(BPF_ALU, BPF_AND, BPF_K), kR1, 0, 0, bits));
      b.push_back(JumpIfNot(BPF_JEQ, kR1, 0));
    }
  }
  if (r.major >= 0) {
    b.push_back(JumpIfNot(BPF_JNE, kR4, r.major));
  }
  if (r.minor >= 0) {
    b.push_back(JumpIfNot(BPF_JNE, kR5, r.minor));
  }
  b.push_back(Insn(Code(BPF_ALU64, BPF_MOV, BPF_K), kR0, 0, 0, r.allow ? 1 : 0));
  b.push_back(Insn(Code(BPF_JMP, BPF_EXIT, 0), 0, 0, 0, 0));
  // Every conditional jump skips to the end of the block, i.e. to the next rule.
  for (size_t i = 0; i + 2 < b.size(); ++i) {
    if ((b[i].code & 0x07) == BPF_JMP32) {
      b[i].off = static_cast<int16_t>(b.size() - i - 1);
    }
  }
  return b;
}

}  // namespace

Result<std::vector<bpf_insn>> BuildDeviceProgram(const std::vector<oci::DeviceCgroup>& rules) {
  // struct bpf_cgroup_dev_ctx { u32 access_type /* access << 16 | type */; u32 major, minor; }
  std::vector<bpf_insn> prog = {
      Insn(Code(BPF_LDX, BPF_W, BPF_MEM), kR2, kR1, 0, 0),
      Insn(Code(BPF_ALU, BPF_MOV, BPF_X), kR3, kR2, 0, 0),
      Insn(Code(BPF_ALU, BPF_AND, BPF_K), kR3, 0, 0, 0xffff),
      Insn(Code(BPF_ALU, BPF_RSH, BPF_K), kR2, 0, 0, 16),
      Insn(Code(BPF_LDX, BPF_W, BPF_MEM), kR4, kR1, 4, 0),
      Insn(Code(BPF_LDX, BPF_W, BPF_MEM), kR5, kR1, 8, 0),
  };
  for (size_t i = rules.size(); i-- > 0;) {
    ASSIGN_OR_RETURN(Rule r, Normalize(rules[i], i));
    std::vector<bpf_insn> block = RuleBlock(r);
    prog.insert(prog.end(), block.begin(), block.end());
    if (block.size() == 2) {
      // A rule matching every access decides alone; the verifier rejects unreachable code, so
      // the earlier rules and the default are left out.
      for (size_t j = 0; j < i; ++j) {
        RETURN_IF_ERROR(Normalize(rules[j], j));
      }
      return prog;
    }
  }
  prog.push_back(Insn(Code(BPF_ALU64, BPF_MOV, BPF_K), kR0, 0, 0, 0));
  prog.push_back(Insn(Code(BPF_JMP, BPF_EXIT, 0), 0, 0, 0, 0));
  return prog;
}

namespace {

long Bpf(int cmd, bpf_attr* attr) {
  return ::syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

uint64_t Ptr(const void* p) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p));
}

Result<os::UniqueFd> LoadProgram(const std::vector<bpf_insn>& prog) {
  static constexpr char kLicense[] = "Apache-2.0";  // no GPL-only helpers are called
  std::string verifier_log(size_t{64} * 1024, '\0');
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = Ptr(prog.data());
  attr.insn_cnt = static_cast<uint32_t>(prog.size());
  attr.license = Ptr(kLicense);
  attr.log_buf = Ptr(verifier_log.data());
  attr.log_size = static_cast<uint32_t>(verifier_log.size());
  attr.log_level = 1;
  long fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0) {
    int saved = errno;
    // The verifier's last line says why (e.g. "invalid bpf_context access").
    verifier_log.resize(verifier_log.find('\0'));
    log::Debug("bpf verifier: {}", verifier_log);
    while (!verifier_log.empty() && verifier_log.back() == '\n') {
      verifier_log.pop_back();
    }
    std::string why = verifier_log.substr(verifier_log.rfind('\n') + 1);
    return Err(Error::FromCode(saved, "loading the cgroup device eBPF program" +
                                          (why.empty() ? "" : " (verifier: " + why + ")")));
  }
  return os::UniqueFd(static_cast<int>(fd));
}

std::vector<uint32_t> AttachedPrograms(int cgroup_fd) {
  std::vector<uint32_t> ids(64);
  bpf_attr attr{};
  attr.query.target_fd = static_cast<uint32_t>(cgroup_fd);
  attr.query.attach_type = BPF_CGROUP_DEVICE;
  attr.query.prog_ids = Ptr(ids.data());
  attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
  if (Bpf(BPF_PROG_QUERY, &attr) != 0) {
    return {};
  }
  ids.resize(attr.query.prog_cnt);
  return ids;
}

}  // namespace

Status AttachDeviceProgram(const std::string& dir, const std::vector<bpf_insn>& prog) {
  int raw = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (raw < 0) {
    return Err(Error::FromErrno("open", dir));
  }
  os::UniqueFd cgroup(raw);
  std::vector<uint32_t> old_ids = AttachedPrograms(cgroup.get());
  ASSIGN_OR_RETURN(os::UniqueFd prog_fd, LoadProgram(prog));
  bpf_attr attr{};
  attr.target_fd = static_cast<uint32_t>(cgroup.get());
  attr.attach_bpf_fd = static_cast<uint32_t>(prog_fd.get());
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (Bpf(BPF_PROG_ATTACH, &attr) != 0) {
    return Err(Error::FromErrno("attaching the device eBPF program to", dir));
  }
  for (uint32_t id : old_ids) {
    bpf_attr get{};
    get.prog_id = id;
    long old_fd = Bpf(BPF_PROG_GET_FD_BY_ID, &get);
    if (old_fd < 0) {
      continue;  // already gone
    }
    os::UniqueFd old(static_cast<int>(old_fd));
    bpf_attr detach{};
    detach.target_fd = static_cast<uint32_t>(cgroup.get());
    detach.attach_bpf_fd = static_cast<uint32_t>(old.get());
    detach.attach_type = BPF_CGROUP_DEVICE;
    if (Bpf(BPF_PROG_DETACH, &detach) != 0 && errno != ENOENT) {
      return Err(Error::FromErrno("detaching the previous device eBPF program from", dir));
    }
  }
  return Ok();
}

}  // namespace comet::cgroup
