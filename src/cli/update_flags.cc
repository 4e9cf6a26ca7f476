// Flag values of `update` to oci::Resources. Units follow runc (and docker): binary multiples.
#include "cli/update_flags.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include <fmt/format.h>

#include "base/strings.h"

namespace comet::cli {
namespace {

Error InvalidFlag(std::string_view flag, std::string_view value, std::string_view why) {
  return Error::Invalid(fmt::format("invalid value \"{}\" for --{}: {}", value, flag, why));
}

// Multiplier of a unit suffix ("", "k", "kb", "kib", ... case-insensitive); 0 when unknown.
int64_t UnitMultiplier(std::string_view unit) {
  std::string lower;
  for (char c : unit) {
    lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  if (lower.empty() || lower == "b") {
    return 1;
  }
  if ((lower.size() == 3 && lower.substr(1) == "ib") || (lower.size() == 2 && lower[1] == 'b')) {
    lower.resize(1);  // "kib" and "kb" both mean 1024, as in docker's units
  }
  constexpr std::string_view kUnits = "kmgtp";
  size_t index = lower.size() == 1 ? kUnits.find(lower[0]) : std::string_view::npos;
  if (index == std::string_view::npos) {
    return 0;
  }
  return int64_t{1} << (10 * (index + 1));
}

Result<uint64_t> ParseUnsignedFlag(std::string_view flag, const std::string& value) {
  std::optional<unsigned long long> number = ParseUint(value);
  if (!number) {
    return Err(InvalidFlag(flag, value, "expected an unsigned integer"));
  }
  return static_cast<uint64_t>(*number);
}

Result<int64_t> ParseSignedFlag(std::string_view flag, const std::string& value) {
  std::optional<long long> number = ParseInt(value);
  if (!number) {
    return Err(InvalidFlag(flag, value, "expected an integer"));
  }
  return static_cast<int64_t>(*number);
}

Result<int64_t> ParseMemoryFlag(std::string_view flag, const std::string& value) {
  Result<int64_t> bytes = ParseMemoryBytes(value);
  if (!bytes) {
    return Err(InvalidFlag(flag, value, bytes.error().message()));
  }
  return bytes;
}

Status ApplyMemoryFlags(const UpdateFlags& flags, oci::Resources& resources) {
  if (!flags.memory && !flags.memory_reservation && !flags.memory_swap) {
    return Ok();
  }
  oci::MemoryResources& memory = resources.memory ? *resources.memory : resources.memory.emplace();
  if (flags.memory) {
    ASSIGN_OR_RETURN(memory.limit, ParseMemoryFlag("memory", *flags.memory));
  }
  if (flags.memory_reservation) {
    ASSIGN_OR_RETURN(memory.reservation,
                     ParseMemoryFlag("memory-reservation", *flags.memory_reservation));
  }
  if (flags.memory_swap) {
    ASSIGN_OR_RETURN(memory.swap, ParseMemoryFlag("memory-swap", *flags.memory_swap));
  }
  return Ok();
}

Status ApplyCpuFlags(const UpdateFlags& flags, oci::Resources& resources) {
  if (!flags.cpu_shares && !flags.cpu_quota && !flags.cpu_period && !flags.cpuset_cpus &&
      !flags.cpuset_mems) {
    return Ok();
  }
  oci::CpuResources& cpu = resources.cpu ? *resources.cpu : resources.cpu.emplace();
  if (flags.cpu_shares) {
    ASSIGN_OR_RETURN(cpu.shares, ParseUnsignedFlag("cpu-shares", *flags.cpu_shares));
  }
  if (flags.cpu_quota) {
    ASSIGN_OR_RETURN(cpu.quota, ParseSignedFlag("cpu-quota", *flags.cpu_quota));
  }
  if (flags.cpu_period) {
    ASSIGN_OR_RETURN(cpu.period, ParseUnsignedFlag("cpu-period", *flags.cpu_period));
  }
  if (flags.cpuset_cpus) {
    cpu.cpus = *flags.cpuset_cpus;
  }
  if (flags.cpuset_mems) {
    cpu.mems = *flags.cpuset_mems;
  }
  return Ok();
}

Status ApplyBlkioWeight(const std::string& value, oci::Resources& resources) {
  std::optional<unsigned long long> weight = ParseUint(value);
  // blkio.weight's range (Documentation/admin-guide/cgroup-v1/blkio-controller.rst).
  if (!weight || *weight < 10 || *weight > 1000) {
    return Err(InvalidFlag("blkio-weight", value, "expected a number from 10 to 1000"));
  }
  oci::BlockIoResources& block_io =
      resources.block_io ? *resources.block_io : resources.block_io.emplace();
  block_io.weight = static_cast<uint16_t>(*weight);
  return Ok();
}

}  // namespace

bool UpdateFlags::Empty() const {
  return !memory && !memory_reservation && !memory_swap && !cpu_shares && !cpu_quota &&
         !cpu_period && !cpuset_cpus && !cpuset_mems && !pids_limit && !blkio_weight;
}

Result<int64_t> ParseMemoryBytes(std::string_view text) {
  if (text == "-1") {
    return -1;
  }
  size_t digits_end = text.find_first_not_of("0123456789.");
  std::string_view number = text.substr(0, digits_end);
  std::string_view unit = digits_end == std::string_view::npos ? "" : text.substr(digits_end);
  int64_t multiplier = UnitMultiplier(unit);
  if (number.empty() || number.front() == '.' || number.back() == '.' ||
      number.find('.') != number.rfind('.') || multiplier == 0) {
    return Err(Error::Invalid("expected a size like 512m, 1.5g or -1"));
  }
  size_t dot = number.find('.');
  std::optional<unsigned long long> whole = ParseUint(number.substr(0, dot));
  if (!whole) {
    return Err(Error::Invalid("expected a size like 512m, 1.5g or -1"));
  }
  auto bytes = static_cast<long double>(*whole);
  if (dot != std::string_view::npos) {
    // A fraction is only meaningful with a unit ("1.5g"); it is rounded down to whole bytes.
    std::string fraction = fmt::format("0{}", number.substr(dot));
    bytes += std::strtold(fraction.c_str(), nullptr);
  }
  bytes *= static_cast<long double>(multiplier);
  if (bytes >= static_cast<long double>(std::numeric_limits<int64_t>::max())) {
    return Err(Error::Invalid("size too large"));
  }
  return static_cast<int64_t>(std::floor(bytes));
}

Status ApplyUpdateFlags(const UpdateFlags& flags, oci::Resources& resources) {
  RETURN_IF_ERROR(ApplyMemoryFlags(flags, resources));
  RETURN_IF_ERROR(ApplyCpuFlags(flags, resources));
  if (flags.pids_limit) {
    ASSIGN_OR_RETURN(int64_t limit, ParseSignedFlag("pids-limit", *flags.pids_limit));
    resources.pids = oci::PidsResources{.limit = limit};
  }
  if (flags.blkio_weight) {
    RETURN_IF_ERROR(ApplyBlkioWeight(*flags.blkio_weight, resources));
  }
  return Ok();
}

}  // namespace comet::cli
