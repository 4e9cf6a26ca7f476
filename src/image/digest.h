// Content digests ("sha256:<hex>") as the OCI image-spec defines them, and a streaming hasher.
// Values are immutable; a Hasher is not thread-safe.
#ifndef COMET_IMAGE_DIGEST_H_
#define COMET_IMAGE_DIGEST_H_

#include <compare>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace comet::image {

// A validated digest: algorithm sha256 (64 lowercase hex) or sha512 (128 lowercase hex). Other
// algorithms are rejected, because a digest we cannot verify is worthless.
class Digest {
 public:
  // An empty digest (no value): only for default-constructed structs that are filled in later;
  // empty() tells it apart. Parse and the hashers never produce one.
  Digest() = default;

  // Parses "sha256:<hex>"; errors name the text that was wrong.
  [[nodiscard]] static Result<Digest> Parse(std::string_view text);
  // The sha256 digest of `data`.
  [[nodiscard]] static Digest Sha256Of(std::string_view data);

  [[nodiscard]] const std::string& algorithm() const { return algorithm_; }
  [[nodiscard]] const std::string& hex() const { return hex_; }
  // "sha256:<hex>".
  [[nodiscard]] std::string ToString() const { return algorithm_ + ":" + hex_; }
  // The first 12 hex digits, as image IDs are shown.
  [[nodiscard]] std::string Short() const { return hex_.substr(0, 12); }
  [[nodiscard]] bool empty() const { return hex_.empty(); }

  auto operator<=>(const Digest&) const =
      default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 bug

 private:
  Digest(std::string algorithm, std::string hex)
      : algorithm_(std::move(algorithm)), hex_(std::move(hex)) {}
  friend class Hasher;

  std::string algorithm_;
  std::string hex_;
};

// Incremental hashing of a stream (nettle). Move-only.
class Hasher {
 public:
  // `algorithm` is "sha256" or "sha512" (as Digest::algorithm() returns).
  explicit Hasher(std::string_view algorithm = "sha256");
  ~Hasher();
  Hasher(Hasher&& other) noexcept;
  Hasher& operator=(Hasher&& other) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void Update(std::string_view data);
  void Update(const void* data, size_t size);
  // Bytes fed so far.
  [[nodiscard]] unsigned long long size() const { return size_; }
  // The digest of everything fed so far; the hasher can keep going afterwards.
  [[nodiscard]] Digest Current() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
  std::string algorithm_;
  unsigned long long size_ = 0;
};

}  // namespace comet::image

#endif  // COMET_IMAGE_DIGEST_H_
