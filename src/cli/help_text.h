// Help text layout shared by comet's and comet-runtime's command lines. Pure, thread-safe.
#ifndef COMET_CLI_HELP_TEXT_H_
#define COMET_CLI_HELP_TEXT_H_

#include <string>

namespace comet::cli {

// Word-wraps `text` at 96 columns, keeping its explicit line breaks (CLI11 does not wrap).
std::string WrapHelp(const std::string& text);

}  // namespace comet::cli

#endif  // COMET_CLI_HELP_TEXT_H_
