// Base64; see base64.h.
#include "base/base64.h"

#include <array>
#include <cstdint>

#include <fmt/format.h>

namespace comet {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr uint8_t kInvalid = 0xFF;

constexpr std::array<uint8_t, 256> MakeDecodeTable() {
  std::array<uint8_t, 256> table{};
  for (auto& entry : table) {
    entry = kInvalid;
  }
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<uint8_t>(i);
  }
  return table;
}

constexpr std::array<uint8_t, 256> kDecode = MakeDecodeTable();

}  // namespace

std::string Base64Encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = (static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16U) |
                 (static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8U) |
                 static_cast<uint32_t>(static_cast<unsigned char>(data[i + 2]));
    out.push_back(kAlphabet[(v >> 18U) & 63U]);
    out.push_back(kAlphabet[(v >> 12U) & 63U]);
    out.push_back(kAlphabet[(v >> 6U) & 63U]);
    out.push_back(kAlphabet[v & 63U]);
  }
  size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16U;
    if (rest == 2) {
      v |= static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8U;
    }
    out.push_back(kAlphabet[(v >> 18U) & 63U]);
    out.push_back(kAlphabet[(v >> 12U) & 63U]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6U) & 63U] : '=');
    out.push_back('=');
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t quantum = 0;  // up to four 6-bit values
  int filled = 0;        // how many of them
  int padding = 0;       // '=' seen: the quantum holding them must be the last
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r' || c == '\n') {
      continue;
    }
    if (c == '=') {
      if (filled < 2) {
        return Err(Error::Invalid(fmt::format("base64: byte {}: misplaced padding", i)));
      }
      ++padding;
      ++filled;
    } else {
      uint8_t value = kDecode[static_cast<unsigned char>(c)];
      if (value == kInvalid) {
        // Which byte, never what it is: the data may be a secret.
        return Err(Error::Invalid(fmt::format("base64: byte {}: not a base64 character", i)));
      }
      if (padding > 0) {
        return Err(Error::Invalid(fmt::format("base64: byte {}: data after padding", i)));
      }
      quantum = (quantum << 6U) | value;
      ++filled;
    }
    if (filled < 4) {
      continue;
    }
    quantum <<= 6U * static_cast<unsigned>(padding);
    const int bytes = 3 - padding;
    // The bits below the last whole byte must be zero: "QQ==" is "A", "QR==" is not base64.
    const uint32_t spare = padding == 2 ? 0xFFFFU : (padding == 1 ? 0xFFU : 0U);
    if ((quantum & spare) != 0) {
      return Err(Error::Invalid(fmt::format("base64: byte {}: non-zero padding bits", i)));
    }
    for (int b = 0; b < bytes; ++b) {
      out.push_back(static_cast<char>((quantum >> (16U - 8U * static_cast<unsigned>(b))) & 0xFFU));
    }
    quantum = 0;
    filled = 0;  // `padding` stays: after a padded quantum any character is an error
  }
  if (filled != 0) {
    return Err(Error::Invalid(
        fmt::format("base64: truncated: {} characters left over (want a multiple of 4)", filled)));
  }
  return out;
}

}  // namespace comet
