// The image commands of comet (fetch, image list/inspect/cat-manifest/rm/gc/tag/import/export/
// extract/render), run from a parsed CometInvocation against the image store. Output goes to
// stdout, progress and warnings to stderr. Not thread-safe (called once from main()).
#ifndef COMET_CLI_IMAGE_COMMANDS_H_
#define COMET_CLI_IMAGE_COMMANDS_H_

#include "base/result.h"
#include "cli/comet_command_line.h"

namespace comet::cli {

// True when `command` ("fetch", "image list", ...) is one of these.
bool IsImageCommand(const std::string& command);

// Runs the command; the exit code on success (0), or the error to report.
[[nodiscard]] Result<int> RunImageCommand(const CometInvocation& invocation);

}  // namespace comet::cli

#endif  // COMET_CLI_IMAGE_COMMANDS_H_
