// The v2 device program, run by a small interpreter of the instructions it uses (the kernel
// path is in privileged_test.cc).
#include "cgroup/devices.h"

#include <cstdint>

#include <gtest/gtest.h>

namespace comet::cgroup {
namespace {

// Runs `prog` on bpf_cgroup_dev_ctx {access << 16 | type, major, minor}; returns r0.
int64_t Exec(const std::vector<bpf_insn>& prog, uint32_t type, uint32_t access, uint32_t major,
             uint32_t minor) {
  const uint32_t ctx[3] = {access << 16 | type, major, minor};
  uint64_t reg[11] = {};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const bpf_insn& i = prog[pc];
    uint8_t cls = i.code & 0x07;
    uint8_t op = i.code & 0xf0;
    bool is_k = (i.code & 0x08) == BPF_K;
    uint64_t src = is_k ? static_cast<uint64_t>(static_cast<int64_t>(i.imm)) : reg[i.src_reg];
    if (cls == BPF_LDX) {
      reg[i.dst_reg] = ctx[i.off / 4];
    } else if (cls == BPF_ALU || cls == BPF_ALU64) {
      uint64_t& d = reg[i.dst_reg];
      if (op == BPF_MOV) {
        d = src;
      } else if (op == BPF_AND) {
        d &= src;
      } else if (op == BPF_RSH) {
        d >>= src;
      } else {
        ADD_FAILURE() << "unexpected alu op " << int(op);
      }
      if (cls == BPF_ALU) {
        d &= 0xffffffff;
      }
    } else if (cls == BPF_JMP && op == BPF_EXIT) {
      return static_cast<int64_t>(reg[0]);
    } else if (cls == BPF_JMP32) {
      auto a = static_cast<uint32_t>(reg[i.dst_reg]);
      auto b = static_cast<uint32_t>(src);
      bool jump = op == BPF_JNE ? a != b : op == BPF_JEQ ? a == b : false;
      if (jump) {
        pc += static_cast<size_t>(i.off);
      }
    } else {
      ADD_FAILURE() << "unexpected instruction class " << int(cls);
      return -1;
    }
  }
  ADD_FAILURE() << "ran off the end";
  return -1;
}

constexpr uint32_t kChar = BPF_DEVCG_DEV_CHAR, kBlock = BPF_DEVCG_DEV_BLOCK;
constexpr uint32_t kR = BPF_DEVCG_ACC_READ, kW = BPF_DEVCG_ACC_WRITE, kM = BPF_DEVCG_ACC_MKNOD;

TEST(DeviceProgramTest, DefaultDenyAndAllowList) {
  auto prog = BuildDeviceProgram({
      {false, "", std::nullopt, std::nullopt, "rwm"},
      {true, "c", 1, 3, "rwm"},
      {true, "c", 136, std::nullopt, "rw"},
      {true, "", std::nullopt, std::nullopt, "m"},
  });
  ASSERT_TRUE(prog);
  EXPECT_EQ(Exec(*prog, kChar, kR | kW, 1, 3), 1);    // /dev/null
  EXPECT_EQ(Exec(*prog, kChar, kR, 1, 5), 0);         // /dev/zero
  EXPECT_EQ(Exec(*prog, kChar, kR | kW, 136, 7), 1);  // a pty
  EXPECT_EQ(Exec(*prog, kChar, kR | kM, 136, 7), 0);  // no rule covers both
  EXPECT_EQ(Exec(*prog, kChar, kM, 136, 7), 1);
  EXPECT_EQ(Exec(*prog, kBlock, kM, 8, 0), 1);
  EXPECT_EQ(Exec(*prog, kBlock, kR, 8, 0), 0);
}

TEST(DeviceProgramTest, LaterRulesOverride) {
  auto prog = BuildDeviceProgram({
      {true, "a", std::nullopt, std::nullopt, "rwm"},
      {false, "c", 1, std::nullopt, "w"},
      {true, "c", 1, 3, "w"},
  });
  ASSERT_TRUE(prog);
  EXPECT_EQ(Exec(*prog, kBlock, kR | kW, 8, 0), 1);
  EXPECT_EQ(Exec(*prog, kChar, kW, 1, 5), 0);       // denied by the second rule
  EXPECT_EQ(Exec(*prog, kChar, kR | kW, 1, 5), 0);  // a deny matches any overlap
  EXPECT_EQ(Exec(*prog, kChar, kR, 1, 5), 1);       // read is not in the deny
  EXPECT_EQ(Exec(*prog, kChar, kW, 1, 3), 1);       // re-allowed by the last rule
}

TEST(DeviceProgramTest, NoRulesDenyEverything) {
  auto prog = BuildDeviceProgram({});
  ASSERT_TRUE(prog);
  EXPECT_EQ(Exec(*prog, kChar, kR, 1, 3), 0);
}

TEST(DeviceProgramTest, RejectsBadRules) {
  EXPECT_FALSE(BuildDeviceProgram({{true, "z", 1, 1, "r"}}));
  EXPECT_FALSE(BuildDeviceProgram({{true, "c", -5, 1, "r"}}));
}

}  // namespace
}  // namespace comet::cgroup
