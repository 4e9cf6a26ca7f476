// Digest parsing and hashing with OpenSSL's EVP interface.
#include "image/digest.h"

#include <algorithm>
#include <array>
#include <cstdlib>

#include <fmt/format.h>
#include <openssl/evp.h>

namespace comet::image {
namespace {

size_t HexLength(std::string_view algorithm) {
  if (algorithm == "sha256") {
    return 64;
  }
  if (algorithm == "sha512") {
    return 128;
  }
  return 0;
}

bool IsLowerHex(std::string_view text) {
  return std::ranges::all_of(
      text, [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string ToHex(const unsigned char* bytes, size_t size) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4U];
    out[2 * i + 1] = kDigits[bytes[i] & 0xfU];
  }
  return out;
}

const EVP_MD* Algorithm(std::string_view name) {
  return name == "sha512" ? EVP_sha512() : EVP_sha256();
}

}  // namespace

Result<Digest> Digest::Parse(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Err(Error::Invalid(fmt::format("invalid digest {:?}: missing algorithm", text)));
  }
  const std::string_view algorithm = text.substr(0, colon);
  const std::string_view hex = text.substr(colon + 1);
  const size_t want = HexLength(algorithm);
  if (want == 0) {
    return Err(Error::Invalid(fmt::format("unsupported digest algorithm {:?} in {:?}",
                                          algorithm.substr(0, 32), text.substr(0, 140))));
  }
  if (hex.size() != want || !IsLowerHex(hex)) {
    return Err(Error::Invalid(fmt::format("invalid digest {:?}: want {} lowercase hex digits",
                                          text.substr(0, 140), want)));
  }
  return Digest(std::string(algorithm), std::string(hex));
}

Digest Digest::Sha256Of(std::string_view data) {
  Hasher hasher;
  hasher.Update(data);
  return hasher.Current();
}

struct Hasher::State {
  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  State(State&&) = delete;
  State& operator=(State&&) = delete;
  ~State() { EVP_MD_CTX_free(ctx); }
  EVP_MD_CTX* ctx = nullptr;
};

Hasher::Hasher(std::string_view algorithm)
    : state_(std::make_unique<State>()), algorithm_(algorithm == "sha512" ? "sha512" : "sha256") {
  state_->ctx = EVP_MD_CTX_new();
  // Allocation failure of a few hundred bytes: nothing sensible to report upward.
  if (state_->ctx == nullptr ||
      EVP_DigestInit_ex(state_->ctx, Algorithm(algorithm_), nullptr) != 1) {
    std::abort();
  }
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::Update(std::string_view data) {
  Update(data.data(), data.size());
}

void Hasher::Update(const void* data, size_t size) {
  if (size == 0) {
    return;
  }
  EVP_DigestUpdate(state_->ctx, data, size);
  size_ += size;
}

Digest Hasher::Current() const {
  EVP_MD_CTX* copy = EVP_MD_CTX_new();
  if (copy == nullptr || EVP_MD_CTX_copy_ex(copy, state_->ctx) != 1) {
    std::abort();
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int length = 0;
  EVP_DigestFinal_ex(copy, out.data(), &length);
  EVP_MD_CTX_free(copy);
  return {algorithm_, ToHex(out.data(), length)};
}

}  // namespace comet::image
