#!/usr/bin/env python3
"""Fails when the reading side (store, aa-session, traffic, aa-view) includes a
Linux-only header outside a conditional block, so that a laptop build
(-DAA_RECORDER=OFF, e.g. on macOS) breaks here rather than for a user.

Usage: check_reading_side.py SOURCE_ROOT
"""
import pathlib
import re
import sys

LINUX_ONLY = re.compile(
    r'#\s*include\s*[<"]('
    r'linux/|bpf/|liburing|sys/epoll\.h|sys/inotify\.h|sys/signalfd\.h|sys/eventfd\.h|'
    r'sys/timerfd\.h|sys/prctl\.h|sys/sendfile\.h|sys/sysmacros\.h|sys/random\.h|'
    r'sys/vfs\.h|sys/statfs\.h|malloc\.h|elf\.h|gelf\.h|libelf\.h|sys/capability\.h'
    r')')
READING_SIDE = ["schema", "store", "viewer"]
SKIP_PARTS = {"bench"}


def problems(path: pathlib.Path):
    # Nesting of #if blocks: an include inside one is assumed guarded (files here use
    # #pragma once, so no include guard wraps the whole file).
    depth = 0
    for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        s = line.strip()
        if re.match(r'#\s*if', s):
            depth += 1
        elif re.match(r'#\s*endif', s):
            depth = max(0, depth - 1)
        elif depth == 0 and LINUX_ONLY.match(s):
            yield f"{path}:{n}: Linux-only include outside #if: {s}"


def main():
    root = pathlib.Path(sys.argv[1])
    found = []
    for part in READING_SIDE:
        for p in sorted((root / part).rglob("*")):
            if p.suffix in {".h", ".hpp", ".cc", ".cpp"} and not SKIP_PARTS & set(p.parts):
                found.extend(problems(p))
    for f in found:
        print(f)
    print(f"reading side: {len(found)} Linux-only include(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
