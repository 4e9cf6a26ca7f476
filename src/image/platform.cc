// Platforms: the host's, parsing --platform, and picking an index entry for one, with the
// variant compatibility rules of containerd's platform matcher. Pure functions; thread-safe.
#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "image/manifest.h"
#include "image/manifest_json.h"

namespace comet::image {
namespace {

constexpr size_t kMaxPlatformText = 128;

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

bool IsPlatformWord(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  });
}

// "v7" -> 7; nullopt for anything else. An empty variant means `empty_as`.
std::optional<int> VariantLevel(std::string_view variant, int empty_as) {
  if (variant.empty()) {
    return empty_as;
  }
  if (variant.size() < 2 || variant.size() > 3 || variant[0] != 'v') {
    return std::nullopt;
  }
  int level = 0;
  for (char c : variant.substr(1)) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    level = level * 10 + (c - '0');
  }
  return level;
}

// How well an entry's variant serves the wanted one: nullopt when it cannot run, higher is
// better. Exact matches beat compatible ones.
std::optional<int> VariantScore(const std::string& architecture, const std::string& want,
                                const std::string& have) {
  constexpr int kExact = 1000;
  if (want == have) {
    return kExact;
  }
  if (architecture == "arm64") {
    // arm64 is v8 unless it says otherwise; later variants run v8 code.
    auto want_level = VariantLevel(want, 8);
    auto have_level = VariantLevel(have, 8);
    if (want_level && have_level && *have_level <= *want_level) {
      return 500 + *have_level;
    }
    return std::nullopt;
  }
  if (architecture == "amd64" && want.empty()) {
    // No wanted level: any entry will do, the lowest (most widely runnable) first.
    auto have_level = VariantLevel(have, 1);
    return have_level ? 200 - *have_level : 1;
  }
  if (architecture == "arm" || architecture == "amd64") {
    // A vN CPU runs code for every variant up to N (arm v5..v8, amd64 v1..v4), so take the
    // highest that is not above N. arm without a variant means v7, amd64 without one v1.
    int baseline = architecture == "arm" ? 7 : 1;
    auto want_level = VariantLevel(want, baseline);
    auto have_level = VariantLevel(have, baseline);
    if (want_level && have_level && *have_level <= *want_level) {
      return 100 + *have_level;
    }
    return std::nullopt;
  }
  // Other architectures: without a wanted variant any entry will do, one without preferred.
  if (want.empty()) {
    return have.empty() ? 2 : 1;
  }
  return std::nullopt;
}

}  // namespace

std::string Platform::ToString() const {
  if (variant.empty()) {
    return fmt::format("{}/{}", os, architecture);
  }
  return fmt::format("{}/{}/{}", os, architecture, variant);
}

Platform HostPlatform() {
  Platform out;
  out.os = "linux";
#if defined(__x86_64__)
  out.architecture = "amd64";
#elif defined(__i386__)
  out.architecture = "386";
#elif defined(__aarch64__)
  out.architecture = "arm64";
  out.variant = "v8";
#elif defined(__arm__)
  out.architecture = "arm";
#if defined(__ARM_ARCH) && __ARM_ARCH >= 7
  out.variant = "v7";
#elif defined(__ARM_ARCH) && __ARM_ARCH == 6
  out.variant = "v6";
#else
  out.variant = "v5";
#endif
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
  out.architecture = "ppc64le";
#elif defined(__powerpc64__)
  out.architecture = "ppc64";
#elif defined(__s390x__)
  out.architecture = "s390x";
#elif defined(__riscv) && defined(__riscv_xlen) && __riscv_xlen == 64
  out.architecture = "riscv64";
#elif defined(__loongarch64)
  out.architecture = "loong64";
#elif defined(__mips64) && defined(__MIPSEL__)
  out.architecture = "mips64le";
#elif defined(__mips64)
  out.architecture = "mips64";
#else
#error "unknown architecture: add its GOARCH name to HostPlatform"
#endif
  return out;
}

Result<Platform> ParsePlatform(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return Error::Invalid(
        fmt::format("invalid platform \"{}\": {}", internal::Printable(text), why));
  };
  if (text.size() > kMaxPlatformText) {
    return Err(invalid("too long"));
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    parts.push_back(Lower(text.substr(start, slash - start)));
    if (slash == std::string_view::npos) {
      break;
    }
    start = slash + 1;
  }
  if (parts.size() > 3) {
    return Err(invalid("want os/arch[/variant]"));
  }
  if (!std::all_of(parts.begin(), parts.end(), IsPlatformWord)) {
    return Err(invalid("empty or malformed component"));
  }
  if (parts.size() == 1) {
    parts.insert(parts.begin(), "linux");
  }
  Platform out;
  out.os = parts[0];
  out.architecture = parts[1];
  if (parts.size() == 3) {
    out.variant = parts[2];
  }
  // The names uname(1) and Debian use, as containerd accepts them.
  if (out.architecture == "x86_64" || out.architecture == "x86-64") {
    out.architecture = "amd64";
  } else if (out.architecture == "aarch64") {
    out.architecture = "arm64";
  } else if (out.architecture == "i386" || out.architecture == "i686") {
    out.architecture = "386";
  } else if (out.architecture == "armhf" && out.variant.empty()) {
    out.architecture = "arm";
    out.variant = "v7";
  } else if (out.architecture == "armel" && out.variant.empty()) {
    out.architecture = "arm";
    out.variant = "v6";
  }
  if ((out.architecture == "arm" || out.architecture == "arm64") && out.variant.size() == 1 &&
      out.variant[0] >= '5' && out.variant[0] <= '9') {
    out.variant = "v" + out.variant;  // "linux/arm/7" as docker accepts it
  }
  return out;
}

std::optional<size_t> SelectPlatform(const Index& index, const Platform& want) {
  std::optional<size_t> best;
  int best_score = 0;
  for (size_t i = 0; i < index.manifests.size(); ++i) {
    const auto& platform = index.manifests[i].platform;
    if (!platform || platform->os != want.os || platform->architecture != want.architecture) {
      continue;
    }
    auto score = VariantScore(want.architecture, want.variant, platform->variant);
    if (score && *score > best_score) {
      best = i;
      best_score = *score;
    }
  }
  return best;
}

}  // namespace comet::image
