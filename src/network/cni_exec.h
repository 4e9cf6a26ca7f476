// ADD, DEL and CHECK of one network = its plugin chain (CNI spec 1.0 §3): ADD in order, each
// plugin getting the previous one's result; DEL in reverse with the ADD result (0.4.0+), going
// on past failures so that every plugin releases what it holds; CHECK in order. Thread-safe.
#ifndef COMET_NETWORK_CNI_EXEC_H_
#define COMET_NETWORK_CNI_EXEC_H_

#include <functional>

#include "base/json.h"
#include "base/result.h"
#include "network/cni_config.h"
#include "network/cni_plugin.h"

namespace comet::network {

// Called after each plugin's ADD with the chain's result so far, so the caller can record it:
// DEL needs it (the firewall plugin finds its rules by the addresses in prevResult). An error
// stops the chain like a plugin failure.
using ResultCheckpoint = std::function<Status(const json::Json& result_so_far)>;

// Returns the chain's final result. A failure leaves whatever the plugins before the failing
// one did: the caller runs DelNetwork (as the spec asks of runtimes after a failed ADD).
[[nodiscard]] Result<json::Json> AddNetwork(const NetworkConfig& network,
                                            const CniInvocation& invocation,
                                            const CniRuntimeOptions& options,
                                            const ResultCheckpoint& checkpoint = nullptr);

// `add_result` is the ADD's result when known (nullptr after a failed or unrecorded ADD).
// Plugins tolerate missing state, so a DEL of what was never added succeeds. Returns the
// first failure after running every plugin.
[[nodiscard]] Status DelNetwork(const NetworkConfig& network, const CniInvocation& invocation,
                                const json::Json* add_result, const CniRuntimeOptions& options);

// Asks each plugin whether the attachment is as ADD left it (cniVersion 0.4.0+; a network with
// disableCheck passes).
[[nodiscard]] Status CheckNetwork(const NetworkConfig& network, const CniInvocation& invocation,
                                  const json::Json& add_result, const CniRuntimeOptions& options);

}  // namespace comet::network

#endif  // COMET_NETWORK_CNI_EXEC_H_
