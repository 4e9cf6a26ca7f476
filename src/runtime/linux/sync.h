// The channel between the runtime and the container's setup processes: fixed-size messages over
// a SOCK_SEQPACKET socketpair, optionally carrying one fd (SCM_RIGHTS). Both ends are
// async-signal-safe and allocation-free, so the child side can use them between fork and exec.
#ifndef COMET_RUNTIME_LINUX_SYNC_H_
#define COMET_RUNTIME_LINUX_SYNC_H_

#include <sys/types.h>

#include "runtime/linux/child_report.h"

namespace comet::runtime {

enum class SyncType : int {
  kUsernsReady = 1,   // intermediate: unshared its user ns; parent writes the id maps
  kGo,                // parent: maps written, cgroups joined; carry on
  kInitPid,           // intermediate: `value` is the container init's pid
  kRuntimeHooks,      // init: mounts are done; parent runs prestart/createRuntime hooks
  kRuntimeHooksDone,  // parent: hooks ran; carries a memfd with the state JSON for the
                      // createContainer hooks; `value` 1 when kStartState follows
  kStartState,        // parent: carries a memfd with the state for startContainer hooks
  kConsole,           // init: carries the pty master
  kCreated,           // init: ready; now waiting on the exec fifo
  kListener,          // init: carries the seccomp notify listener fd
  kListenerDone,      // parent: listener fd forwarded
  kError,             // either: `report` says what failed
};

struct SyncMessage {
  SyncType type = SyncType::kError;
  int value = 0;
  ChildReport report;
};

// Returns 0, or -errno. `fd` < 0 sends no fd.
int SyncSend(int sock, SyncType type, int value, int fd) noexcept;
int SyncSendError(int sock, const ChildReport& report) noexcept;
// Receives one message (blocking). `*fd` gets a passed fd or -1 (pass nullptr to close any).
// Returns 0, -errno, or -EPIPE at end of stream.
int SyncReceive(int sock, SyncMessage* message, int* fd) noexcept;

}  // namespace comet::runtime

#endif  // COMET_RUNTIME_LINUX_SYNC_H_
