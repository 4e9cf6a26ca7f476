// Output of `comet-runtime list`: runc's aligned table, its JSON array, or bare ids (--quiet).
// Pure functions, thread-safe.
#ifndef COMET_CLI_LIST_FORMAT_H_
#define COMET_CLI_LIST_FORMAT_H_

#include <string>
#include <vector>

#include "runtime/runtime.h"

namespace comet::cli {

// Columns ID PID STATUS BUNDLE CREATED OWNER, each padded to its widest cell plus three spaces
// and at least 12 wide (the layout of runc's tabwriter), the last one unpadded; one line each,
// newline-terminated.
std::string FormatListTable(const std::vector<runtime::ContainerInfo>& containers);

// One id per line.
std::string FormatListQuiet(const std::vector<runtime::ContainerInfo>& containers);

// A one-line JSON array of
// {"ociVersion","id","pid","status","bundle","created","owner"[,"annotations"]} objects plus a
// newline. runc prints `null` for no containers; we print `[]`, which every JSON reader accepts
// where it accepts null for a list.
std::string FormatListJson(const std::vector<runtime::ContainerInfo>& containers);

// Aligns rows of cells like FormatListTable (exposed for `ps`-style tables and tests).
std::string AlignColumns(const std::vector<std::vector<std::string>>& rows);

}  // namespace comet::cli

#endif  // COMET_CLI_LIST_FORMAT_H_
