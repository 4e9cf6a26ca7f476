// CStringArray.
#include "runtime/linux/init_plan.h"

#include <utility>

namespace comet::runtime {

CStringArray::CStringArray(std::vector<std::string> values) : values_(std::move(values)) {
  pointers_.reserve(values_.size() + 1);
  for (std::string& value : values_) {
    pointers_.push_back(value.data());
  }
  pointers_.push_back(nullptr);
}

CStringArray& CStringArray::operator=(const CStringArray& other) {
  if (this != &other) {
    *this = CStringArray(other.values_);
  }
  return *this;
}

}  // namespace comet::runtime
