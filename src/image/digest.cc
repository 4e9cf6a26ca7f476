// Digest parsing and hashing with nettle: plain functions over a context struct, no library
// initialisation -- OpenSSL's provider setup cost every `comet run` a millisecond and a half.
#include "image/digest.h"

#include <algorithm>
#include <array>
#include <cstdlib>

#include <fmt/format.h>
#include <nettle/sha2.h>

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
  bool sha512 = false;
  sha256_ctx sha256{};
  sha512_ctx sha512_state{};
};

Hasher::Hasher(std::string_view algorithm)
    : state_(std::make_unique<State>()), algorithm_(algorithm == "sha512" ? "sha512" : "sha256") {
  state_->sha512 = algorithm_ == "sha512";
  if (state_->sha512) {
    sha512_init(&state_->sha512_state);
  } else {
    sha256_init(&state_->sha256);
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
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (state_->sha512) {
    sha512_update(&state_->sha512_state, size, bytes);
  } else {
    sha256_update(&state_->sha256, size, bytes);
  }
  size_ += size;
}

Digest Hasher::Current() const {
  // Digesting resets a nettle context: finish a copy so the hasher can keep going.
  std::array<uint8_t, SHA512_DIGEST_SIZE> out{};
  if (state_->sha512) {
    sha512_ctx copy = state_->sha512_state;
    sha512_digest(&copy, SHA512_DIGEST_SIZE, out.data());
    return {algorithm_, ToHex(out.data(), SHA512_DIGEST_SIZE)};
  }
  sha256_ctx copy = state_->sha256;
  sha256_digest(&copy, SHA256_DIGEST_SIZE, out.data());
  return {algorithm_, ToHex(out.data(), SHA256_DIGEST_SIZE)};
}

}  // namespace comet::image
