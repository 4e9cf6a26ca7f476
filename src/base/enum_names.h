// Name tables for enums written to files and command lines: one table per enum gives both
// directions (value -> name, name -> value), so that they cannot disagree. Thread-safe (constant
// data, pure functions).
#ifndef COMET_BASE_ENUM_NAMES_H_
#define COMET_BASE_ENUM_NAMES_H_

#include <strings.h>

#include <cstddef>
#include <optional>
#include <string_view>

namespace comet {

template <class E>
struct EnumName {
  E value;
  std::string_view name;
};

// The name of `value`; the first entry's name when the table lacks it.
template <class E, size_t N>
constexpr std::string_view NameOf(const EnumName<E> (&table)[N], E value) {
  for (const EnumName<E>& entry : table) {
    if (entry.value == value) {
      return entry.name;
    }
  }
  return table[0].name;
}

enum class NameCase { kExact, kIgnore };

// The value named `name`, or nullopt.
template <class E, size_t N>
std::optional<E> ValueOf(const EnumName<E> (&table)[N], std::string_view name,
                         NameCase name_case = NameCase::kExact) {
  for (const EnumName<E>& entry : table) {
    if (name.size() != entry.name.size()) {
      continue;
    }
    if (name_case == NameCase::kExact
            ? name == entry.name
            : strncasecmp(name.data(), entry.name.data(), name.size()) == 0) {
      return entry.value;
    }
  }
  return std::nullopt;
}

}  // namespace comet

#endif  // COMET_BASE_ENUM_NAMES_H_
