// ScopeExit: runs a callable when leaving a scope unless dismissed; for one-off rollbacks.
// Not thread-safe; owned by one scope.
#ifndef COMET_BASE_SCOPE_EXIT_H_
#define COMET_BASE_SCOPE_EXIT_H_

#include <utility>

namespace comet {

template <class F>
class [[nodiscard]] ScopeExit {
 public:
  explicit ScopeExit(F fn) : fn_(std::move(fn)) {}
  ScopeExit(const ScopeExit&) = delete;
  ScopeExit& operator=(const ScopeExit&) = delete;
  ScopeExit(ScopeExit&&) = delete;
  ScopeExit& operator=(ScopeExit&&) = delete;
  ~ScopeExit() {
    if (active_) {
      fn_();
    }
  }
  void Dismiss() { active_ = false; }

 private:
  F fn_;
  bool active_ = true;
};

}  // namespace comet

#endif  // COMET_BASE_SCOPE_EXIT_H_
