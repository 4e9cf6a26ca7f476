// Kubernetes quantities; see quantity.h. The grammar (resource.Quantity):
//   quantity ::= [+-] number suffix,   number ::= digits | digits "." digits? | "." digits
//   suffix   ::= "" | Ki Mi Gi Ti Pi Ei | m k M G T P E | (e|E) [+-] digits
// The value is mantissa * 10^exp10 * 2^exp2, held exactly in 128-bit integers; results are
// rounded up (towards +infinity), as Quantity.ScaledValue rounds.
#include "kube/quantity.h"

#include <optional>
#include <string>

#include <fmt/format.h>

#include "base/strings.h"

namespace comet::kube {
namespace {

__extension__ using U128 = unsigned __int128;  // GCC and clang have it; -Wpedantic asks

constexpr size_t kMaxDigits = 38;      // 10^38 < 2^127: every mantissa fits a U128
constexpr int kMaxExponent = 1000;     // "1e99999999" is no quantity anyone means
constexpr size_t kMaxShownChars = 64;  // quantities are short; a hostile one is cut
constexpr int64_t kInt64Max = INT64_MAX;

struct Decimal {
  U128 mantissa = 0;
  int exp10 = 0;
  int exp2 = 0;
};

std::string Quote(std::string_view text) {
  return fmt::format("\"{}\"", Printable(text, kMaxShownChars));
}

Error Invalid(std::string_view text, std::string_view why) {
  return Error::Invalid(fmt::format("{}: {}", Quote(text), why));
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

U128 Pow10(int n) {  // n <= 38
  U128 value = 1;
  for (int i = 0; i < n; ++i) {
    value *= 10;
  }
  return value;
}

// The suffix after the number: binary and decimal SI multipliers or a decimal exponent.
Status ParseSuffix(std::string_view text, std::string_view suffix, Decimal* out) {
  static constexpr std::string_view kBinary[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  for (int i = 0; i < 6; ++i) {
    if (suffix == kBinary[i]) {
      out->exp2 = 10 * (i + 1);
      return Ok();
    }
  }
  if (suffix.size() == 1) {
    static constexpr std::string_view kDecimal = "mkMGTPE";
    static constexpr int kExp[] = {-3, 3, 6, 9, 12, 15, 18};
    size_t at = kDecimal.find(suffix[0]);
    if (at != std::string_view::npos) {
      out->exp10 += kExp[at];
      return Ok();
    }
  }
  if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string_view exponent = suffix.substr(1);
    bool negative = false;
    if (exponent[0] == '+' || exponent[0] == '-') {
      negative = exponent[0] == '-';
      exponent.remove_prefix(1);
    }
    if (exponent.empty() || exponent.size() > 6) {
      return Err(Invalid(text, exponent.empty() ? "not a valid quantity" : "too large"));
    }
    int value = 0;
    for (char c : exponent) {
      if (!IsDigit(c)) {
        return Err(Invalid(text, "not a valid quantity"));
      }
      value = value * 10 + (c - '0');
    }
    if (value > kMaxExponent) {
      return Err(Invalid(text, "too large"));
    }
    out->exp10 += negative ? -value : value;
    return Ok();
  }
  return Err(Invalid(text, "not a valid quantity"));
}

Result<Decimal> ParseDecimal(std::string_view text) {
  std::string_view rest = text;
  bool negative = false;
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
    negative = rest[0] == '-';
    rest.remove_prefix(1);
  }
  size_t int_end = 0;
  while (int_end < rest.size() && IsDigit(rest[int_end])) {
    ++int_end;
  }
  std::string_view int_digits = rest.substr(0, int_end);
  std::string_view frac_digits;
  size_t end = int_end;
  if (end < rest.size() && rest[end] == '.') {
    size_t frac_end = end + 1;
    while (frac_end < rest.size() && IsDigit(rest[frac_end])) {
      ++frac_end;
    }
    frac_digits = rest.substr(end + 1, frac_end - end - 1);
    end = frac_end;
  }
  if (int_digits.empty() && frac_digits.empty()) {
    return Err(Invalid(text, "not a valid quantity"));
  }
  while (!frac_digits.empty() && frac_digits.back() == '0') {
    frac_digits.remove_suffix(1);
  }
  std::string digits = std::string(int_digits) + std::string(frac_digits);
  Decimal out;
  out.exp10 = -static_cast<int>(frac_digits.size());
  size_t first = digits.find_first_not_of('0');
  digits.erase(0, first == std::string::npos ? digits.size() : first);
  while (!digits.empty() && digits.back() == '0') {
    digits.pop_back();
    ++out.exp10;
  }
  if (digits.size() > kMaxDigits) {
    return Err(Invalid(text, "too many digits"));
  }
  for (char c : digits) {
    out.mantissa = out.mantissa * 10 + static_cast<unsigned>(c - '0');
  }
  if (end < rest.size()) {
    RETURN_IF_ERROR(ParseSuffix(text, rest.substr(end), &out));
  }
  if (negative && out.mantissa != 0) {
    return Err(Invalid(text, "must not be negative"));
  }
  return out;
}

// ceil(num * 2^shift / 10^k) for num < 10^38, shift <= 60, 0 < k <= 38; nullopt past INT64_MAX.
std::optional<U128> DivideUp(U128 num, int shift, int k) {
  const U128 divisor = Pow10(k);
  U128 quotient = num / divisor;
  U128 remainder = num % divisor;
  for (int i = 0; i < shift; ++i) {  // long division, one bit at a time: nothing overflows
    quotient *= 2;
    remainder *= 2;  // remainder < divisor <= 10^38 < 2^127
    if (remainder >= divisor) {
      remainder -= divisor;
      ++quotient;
    }
    if (quotient > static_cast<U128>(kInt64Max)) {
      return std::nullopt;
    }
  }
  if (remainder != 0) {
    ++quotient;
  }
  if (quotient > static_cast<U128>(kInt64Max)) {
    return std::nullopt;
  }
  return quotient;
}

// The quantity in units of 10^-scale (scale 3: milli), rounded up.
Result<int64_t> Scaled(std::string_view text, int scale) {
  ASSIGN_OR_RETURN(Decimal d, ParseDecimal(text));
  if (d.mantissa == 0) {
    return 0;
  }
  const int exp10 = d.exp10 + scale;
  if (exp10 >= 0) {
    U128 value = d.mantissa;
    for (int i = 0; i < exp10 + d.exp2; ++i) {
      value *= i < exp10 ? 10 : 2;
      if (value > static_cast<U128>(kInt64Max)) {
        return Err(Invalid(text, "too large"));
      }
    }
    if (value > static_cast<U128>(kInt64Max)) {
      return Err(Invalid(text, "too large"));
    }
    return static_cast<int64_t>(value);
  }
  // Below one unit: mantissa < 10^38 and 2^exp2 <= 2^60 < 10^19, so past 10^-57 a positive value
  // rounds up to 1. Dividing in two steps is exact: ceil(ceil(x / a) / b) == ceil(x / (a * b)).
  int k = -exp10;
  if (k > static_cast<int>(kMaxDigits) + 19) {
    return 1;
  }
  const int first = k > static_cast<int>(kMaxDigits) ? static_cast<int>(kMaxDigits) : k;
  std::optional<U128> value = DivideUp(d.mantissa, d.exp2, first);
  if (value && k > first) {
    value = DivideUp(*value, 0, k - first);
  }
  if (!value) {
    return Err(Invalid(text, "too large"));
  }
  return static_cast<int64_t>(*value);
}

}  // namespace

Result<int64_t> ParseCpuMillis(std::string_view text) {
  return Scaled(text, 3);
}

Result<int64_t> ParseQuantityBytes(std::string_view text) {
  return Scaled(text, 0);
}

Result<int64_t> ParseQuantityValue(std::string_view text) {
  return Scaled(text, 0);
}

}  // namespace comet::kube
