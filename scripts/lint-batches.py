#!/usr/bin/env python3
"""Runs clang-tidy-14 over comet's sources in batches; scripts/lint.sh is the entry point.

clang-tidy-14 spends most of its time on the system headers each file includes (it matches its
checks over their whole AST), not on comet's own code. Files compiled with the same flags are
therefore linted together: a batch is one generated translation unit that #includes up to
BATCH_SIZE of them, so the standard library, fmt, json and gtest are parsed and matched once per
batch instead of once per file. Findings in the included files are reported through the header
filter, which here also matches .cc files under src/ and tests/.

A batch is only trusted when it is clean. A batch that does not compile (two files defining the
same helper in their anonymous namespaces, a macro defined twice) or that reports anything is
split in halves, each linted again, down to single files linted as their own translation units;
only those runs report findings: batching can make a lint run faster, never add a finding.

usage: lint-batches.py --build DIR --jobs N --tidy PATH --root DIR FILE...
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

BATCH_SIZE = 10
FINDING = re.compile(r"(warning|error):")
SKIPPED_LINE_STARTS = ("namespace", "using namespace", "extern", "template", "static_assert",
                       "return", "TEST", "INSTANTIATE", "int main(")
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


def flags_key(entry, args):
    """The flags of a compile command without its input and output files."""
    kept = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        if arg in ("-o", "-c", "-MF", "-MT", "-MQ"):
            skip = True
            continue
        kept.append(arg)
    kept = [a for a in kept if os.path.normpath(os.path.join(entry["directory"], a)) != entry["path"]]
    return (entry["directory"], tuple(kept))


def top_level_names(path):
    """The unqualified names a file defines at namespace level (clang-format puts them in column
    0): two files defining the same one, in their anonymous namespaces say, cannot share a batch.
    A rough reading that may see too many names, which only makes batches smaller."""
    names = set()
    with open(path, errors="replace") as source:
        for line in source:
            if not line[:1].isalpha() or line.startswith(SKIPPED_LINE_STARTS):
                continue
            kind = re.match(r"(?:struct|class|enum(?:\s+class)?|union|using)\s+(\w+)", line)
            if kind:
                names.add(kind.group(1))
                continue
            end = re.search(r"[(={\[;]", line)
            if not end:
                continue
            name = re.search(r"(::)?\b([A-Za-z_]\w*)\s*$", line[:end.start()])
            if name and not name.group(1) and not name.group(2).isupper():
                names.add(name.group(2))
    return names


def make_batches(members, names):
    """`members` in batches of up to BATCH_SIZE files, in order, no two of a batch sharing a
    top-level name."""
    batches = []  # (files, names)
    for rel in members:
        for files, taken in batches:
            if len(files) < BATCH_SIZE and not (names[rel] & taken):
                files.append(rel)
                taken |= names[rel]
                break
        else:
            batches.append(([rel], set(names[rel])))
    return [files for files, _ in batches]


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
    parser.add_argument("files", nargs="+")
    opts = parser.parse_args()
    root = os.path.realpath(opts.root)
    build = os.path.realpath(opts.build)

    entries = {}
    for entry in json.load(open(os.path.join(build, "compile_commands.json"))):
        entry["path"] = os.path.normpath(os.path.join(entry["directory"], entry["file"]))
        entries[os.path.relpath(entry["path"], root)] = entry

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
        args = [source if a in (first["path"], first["file"]) else a for a in compile_args(first)]
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

    names = {rel: top_level_names(entries[rel]["path"]) for rel in opts.files}
    jobs = []
    for members in groups.values():
        jobs += make_batches(sorted(members), names)
    print(f"lint: clang-tidy-14 on {len(opts.files)} files in {len(jobs)} batches, "
          f"{opts.jobs} at a time", flush=True)
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
