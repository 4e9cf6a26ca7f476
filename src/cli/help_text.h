// Help text layout shared by comet's and comet-runtime's command lines. Pure, thread-safe.
#ifndef COMET_CLI_HELP_TEXT_H_
#define COMET_CLI_HELP_TEXT_H_

#include <string>

namespace comet::cli {

// Word-wraps `text` at 96 columns, keeping its explicit line breaks (CLI11 does not wrap). Lines
// that fit are kept as written. A wrapped line's continuation lines are indented as the line is,
// or, for a flag line ("  --flag=X    description"), to its description's column.
std::string WrapHelp(const std::string& text);

}  // namespace comet::cli

#endif  // COMET_CLI_HELP_TEXT_H_
