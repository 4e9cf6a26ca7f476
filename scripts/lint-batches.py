#!/usr/bin/env python3
"""Runs clang-tidy-14 over comet's sources in batches; scripts/lint.sh is the entry point.

clang-tidy-14 spends most of its time on the system headers each file includes (it matches its
checks over their whole AST), not on comet's own code. Files compiled with the same flags are
therefore linted together: a batch is one generated translation unit that #includes up to
BATCH_SIZE of them, so the standard library, fmt, json and gtest are parsed and matched once per
batch instead of once per file. Findings in the included files are reported through the header
filter, which here also matches .cc files under src/ and tests/.

Files that could change what a name means to each other never share a batch (BatchView): one
that defines a name (a helper in its anonymous namespace, `main`, a using-declaration) that the
other defines or sees in its headers differently, or one that adds a `testing` namespace to a
file that says `testing::` unqualified. This is a rough, conservative reading of the sources.

A batch is only trusted when it is clean. A batch that still does not compile (a macro defined
twice) or that reports anything is split in halves, each linted again, down to single files
linted as their own translation units; only those runs report findings: batching can make a lint
run faster, never add a finding.

usage: lint-batches.py --build DIR --jobs N --tidy PATH --root DIR [--plan] FILE...
"""

import argparse
import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time

BATCH_SIZE = 20
FINDING = re.compile(r"(warning|error):")
SKIPPED_LINE_STARTS = ("namespace", "using namespace", "extern", "template", "static_assert",
                       "return", "TEST", "INSTANTIATE")
# The checks and header filter of .clang-tidy, widened to the .cc files a batch includes.
# bugprone-suspicious-include would flag the batch's own #include of a .cc file.
BATCH_HEADER_FILTER = r".*/(src|tests|bench|fuzz)/[^/].*\.(h|cc)$"


def compile_args(entry):
    """The compile command without CMake's precompiled header: clang cannot read g++'s, and a
    file that relies on it for an #include it lacks should fail here."""
    args = list(entry["arguments"]) if "arguments" in entry else shlex.split(entry["command"])
    cleaned = []
    i = 0
    while i < len(args):
        if args[i] == "-include" and i + 1 < len(args) and args[i + 1].endswith("cmake_pch.hxx"):
            i += 2
            continue
        if args[i] != "-Winvalid-pch":
            cleaned.append(args[i])
        i += 1
    return cleaned


def split_defines_and_includes(args):
    """(the other arguments, the -D/-I/-isystem arguments as (flag, value) pairs)."""
    rest, extra = [], []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-D", "-I", "-isystem") and i + 1 < len(args):
            extra.append((arg, args[i + 1]))
            i += 2
            continue
        if arg.startswith(("-D", "-I")) and len(arg) > 2:
            extra.append((arg[:2], arg[2:]))
        else:
            rest.append(arg)
        i += 1
    return rest, extra


def flags_key(entry, args):
    """The flags of a compile command without its input and output files, its macro definitions
    and include directories: files that differ only in those are compiled alike, with all of
    them (comet's macros are distinct names, and no two of its include directories hold the same
    relative path)."""
    kept = []
    skip = False
    for arg in split_defines_and_includes(args)[0]:
        if skip:
            skip = False
            continue
        if arg in ("-o", "-c", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        kept.append(arg)
    kept = [a for a in kept if os.path.normpath(os.path.join(entry["directory"], a)) != entry["path"]]
    return (entry["directory"], tuple(kept))


def batch_args(first, members_args, source):
    """The compile command for a batch: the first member's, compiling `source`, with every
    member's macro definitions and include directories."""
    rest, extra = split_defines_and_includes(members_args[0])
    for args in members_args[1:]:
        for pair in split_defines_and_includes(args)[1]:
            if pair not in extra:
                extra.append(pair)
    flattened = [part for pair in extra for part in pair]
    rest = [source if a in (first["path"], first["file"]) else a for a in rest]
    return [rest[0], *flattened, *rest[1:]]


ATTRIBUTES = re.compile(r"^(\[\[[^\]]*\]\]\s*)+")
QUOTED_INCLUDE = re.compile(r'^#include "([^"]+)"', re.M)
NAMESPACE = re.compile(r"^namespace ([\w:]+) \{", re.M)
# `testing::X` not preceded by `::` or a name: which namespace it means depends on the
# `testing` namespaces declared before it in the translation unit (gtest's ::testing,
# comet::testing, comet::image::testing).
UNQUALIFIED_TESTING = re.compile(r"(?<![\w:])testing::")


class SourceFacts:
    """What one file (a .cc or a header) says about itself, without following its includes."""

    def __init__(self, path):
        with open(path, errors="replace") as source:
            text = source.read()
        self.names = top_level_names(text)
        self.includes = QUOTED_INCLUDE.findall(text)
        self.testing_namespaces = {ns for ns in NAMESPACE.findall(text)
                                   if ns.split("::")[-1] == "testing"}
        self.uses_testing = bool(UNQUALIFIED_TESTING.search(text))


def top_level_names(text):
    """The unqualified names a file defines or declares at namespace level (clang-format puts
    them in column 0, after any [[attributes]]), each with what it stands for when two files may
    say it alike: `using ::testing::HasSubstr;` and `using Clock = std::chrono::steady_clock;`
    name the same thing wherever they are written; anything else is the file's own (None). A
    rough reading that may see too many names, which only makes batches smaller."""
    names = {}
    for line in text.splitlines():
        line = ATTRIBUTES.sub("", line)
        if line.startswith("int main("):
            names["main"] = None
            continue
        if not line[:1].isalpha() or line.startswith(SKIPPED_LINE_STARTS):
            continue
        declared = re.match(r"using\s+(?:::)?([\w:]*::(\w+))\s*;", line)
        if declared:
            names[declared.group(2)] = "using " + declared.group(1)
            continue
        alias = re.match(r"using\s+(\w+)\s*=\s*(?:::)?([^;]+);", line)
        if alias:
            names[alias.group(1)] = "alias " + alias.group(2).strip()
            continue
        kind = re.match(r"(?:struct|class|enum(?:\s+class)?|union|using)\s+(\w+)", line)
        if kind:
            names[kind.group(1)] = None
            continue
        end = re.search(r"[(={\[;]", line)
        if not end:
            continue
        name = re.search(r"(::)?\b([A-Za-z_]\w*)\s*$", line[:end.start()])
        if name and not name.group(1) and not name.group(2).isupper():
            names[name.group(2)] = None
    return names


class BatchView:
    """What a file brings into a batch: its own and its project headers' names (each with the
    file that declares it: x.h and x.cc count as one), the `testing` namespaces they declare, and
    whether any of them names `testing::` unqualified."""

    def __init__(self, path, include_dirs, facts_cache):
        self.own_names = {}  # the names the file itself declares: name -> origin or meaning
        self.names = {}  # every name seen: name -> set of origins (path without extension)
        self.testing_namespaces = set()
        self.uses_testing = False
        seen = set()
        pending = [path]
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            facts = facts_cache.get(current)
            if facts is None:
                facts = facts_cache[current] = SourceFacts(current)
            origin = os.path.splitext(current)[0]
            for name, meaning in facts.names.items():
                self.names.setdefault(name, set()).add(meaning or origin)
                if current == path:
                    self.own_names[name] = meaning or origin
            self.testing_namespaces |= facts.testing_namespaces
            self.uses_testing |= facts.uses_testing
            for include in facts.includes:
                for base in [os.path.dirname(current), *include_dirs]:
                    candidate = os.path.normpath(os.path.join(base, include))
                    if os.path.isfile(candidate):
                        pending.append(candidate)
                        break

    def clashes_with(self, other):
        """Whether sharing a translation unit could change what a name means to either file:
        a name one file defines (in its anonymous namespace, say) that the other defines or
        sees in a header of its own (headers are written to live together, .cc files are not),
        or a `testing` namespace one of them does not expect when it says `testing::`."""
        for mine, theirs in ((self, other), (other, self)):
            for name, meaning in mine.own_names.items():
                origins = theirs.names.get(name)
                if origins and origins != {meaning}:
                    return True
            if mine.uses_testing and not theirs.testing_namespaces <= mine.testing_namespaces:
                return True
        return False


def include_dirs_of(entry, args):
    """The -I directories of a compile command (our own headers; -isystem ones are not ours)."""
    return [os.path.normpath(os.path.join(entry["directory"], value))
            for flag, value in split_defines_and_includes(args)[1] if flag == "-I"]


def make_batches(members, views):
    """`members` in batches of up to BATCH_SIZE files, in order, no two of a batch clashing."""
    batches = []
    for rel in members:
        for files in batches:
            if len(files) < BATCH_SIZE and not any(views[rel].clashes_with(views[f]) for f in files):
                files.append(rel)
                break
        else:
            batches.append([rel])
    return batches


def run_tidy(tidy, build, source, extra):
    start = time.monotonic()
    proc = subprocess.run(
        [tidy, "-p", build, "--quiet", "--extra-arg=-Wno-error", *extra, source],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    findings = [line for line in proc.stdout.splitlines() if FINDING.search(line)]
    clean = proc.returncode == 0 and not findings
    return clean, proc.stdout, time.monotonic() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--tidy", required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--plan", action="store_true", help="print the batches, lint nothing")
    parser.add_argument("files", nargs="+")
    opts = parser.parse_args()
    root = os.path.realpath(opts.root)
    build = os.path.realpath(opts.build)

    entries = {}
    for entry in json.load(open(os.path.join(build, "compile_commands.json"))):
        entry["path"] = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
        entries[os.path.relpath(entry["path"], root)] = entry

    # A source two targets compile is listed twice (and linted once).
    opts.files = list(dict.fromkeys(opts.files))
    groups = {}
    for rel in opts.files:
        entry = entries[rel]
        groups.setdefault(flags_key(entry, compile_args(entry)), []).append(rel)

    work = tempfile.mkdtemp(prefix="comet-lint-")
    # Each file's own command (for runs of one file); each batch gets a directory of its own.
    with open(os.path.join(work, "compile_commands.json"), "w") as out:
        json.dump([{"directory": entries[rel]["directory"], "file": entries[rel]["path"],
                    "arguments": compile_args(entries[rel])} for rel in opts.files], out)
    batch_ids = iter(range(1 << 30))
    batch_extra = [f"--config-file={os.path.join(root, '.clang-tidy')}",
                   "--checks=-bugprone-suspicious-include",
                   f"--header-filter={BATCH_HEADER_FILTER}"]

    def lint_one(rel):
        clean, output, seconds = run_tidy(opts.tidy, work, entries[rel]["path"], [])
        print(f"lint: {'ok' if clean else 'FAIL':5} {rel:60} {seconds:4.0f}s", flush=True)
        return [(rel, clean, output)]

    def lint_batch(members):
        """Lints `members` (compiled alike) as one translation unit; when that is not clean,
        each half again, down to single files, whose runs are the ones reported."""
        if len(members) == 1:
            return lint_one(members[0])
        batch_dir = os.path.join(work, f"batch-{next(batch_ids)}")
        os.mkdir(batch_dir)
        source = os.path.join(batch_dir, "batch.cc")
        with open(source, "w") as out:
            out.write("// Generated by scripts/lint-batches.py: one clang-tidy run over these.\n")
            for rel in members:
                out.write(f'#include "{os.path.join(root, rel)}"\n')
        first = entries[members[0]]
        args = batch_args(first, [compile_args(entries[rel]) for rel in members], source)
        with open(os.path.join(batch_dir, "compile_commands.json"), "w") as out:
            json.dump([{"directory": first["directory"], "file": source, "arguments": args}], out)
        clean, output, seconds = run_tidy(opts.tidy, batch_dir, source, batch_extra)
        label = f"{len(members)} files from {os.path.dirname(members[0])}"
        if clean:
            print(f"lint: {'ok':5} {label:60} {seconds:4.0f}s", flush=True)
            return [(rel, True, "") for rel in members]
        findings = [line for line in output.splitlines() if FINDING.search(line)]
        print(f"lint: {'split':5} {label:60} {seconds:4.0f}s: not clean as a batch "
              f"({findings[0].replace(root + '/', '')[:100] if findings else 'no output'})",
              flush=True)
        half = len(members) // 2
        return lint_batch(members[:half]) + lint_batch(members[half:])

    facts_cache = {}
    views = {rel: BatchView(entries[rel]["path"], include_dirs_of(entries[rel],
                                                                 compile_args(entries[rel])),
                            facts_cache) for rel in opts.files}
    jobs = []
    for members in groups.values():
        jobs += make_batches(sorted(members), views)
    print(f"lint: clang-tidy-14 on {len(opts.files)} files in {len(jobs)} batches, "
          f"{opts.jobs} at a time", flush=True)
    if opts.plan:
        for members in jobs:
            print(f"  {len(members):2} {' '.join(members)}")
        return 0
    results = {}  # file -> (clean, output)
    # The largest batches first, so that the last ones to finish are short.
    jobs.sort(key=lambda members: -len(members))
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, opts.jobs)) as pool:
        for found in pool.map(lint_batch, jobs):
            for rel, clean, output in found:
                results[rel] = (clean, output)

    failed = 0
    seen = set()
    for rel in sorted(results):
        clean, output = results[rel]
        if clean:
            continue
        if failed == 0:
            print("lint: findings, per file:")
        failed += 1
        print(f"  {rel}")
        lines = [line for line in output.splitlines() if FINDING.search(line)]
        repeated = 0
        for line in lines:
            key = line.split(" [")[0]
            if key in seen:
                repeated += 1
                continue
            seen.add(key)
            print("    " + line.replace(root + "/", ""))
        if repeated:
            print(f"    (and {repeated} finding(s) in headers, shown above)")
        if not lines:
            for line in output.splitlines()[-20:]:
                print("    " + line)
    subprocess.run(["rm", "-rf", work], check=False)
    if failed:
        print(f"lint: {failed} of {len(results)} files have clang-tidy findings", file=sys.stderr)
        return 1
    print(f"lint: ok ({len(results)} files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
