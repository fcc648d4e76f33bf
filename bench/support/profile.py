"""Summarise py-spy's collapsed stacks (`--format raw`): the share of samples in which each of our
functions, or each library, is on the stack (inclusive) and at the top (self).

    python bench/support/profile.py bench/results/profile-end-to-end-*.txt [--top 30]
"""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

FRAME = re.compile(r"^(?P<function>[^ ]+) \((?P<file>[^:]+)(?::\d+)?\)$")


def _where(frame: str) -> str:
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    file = match["file"]
    for marker in ("site-packages/", "/lib/python3"):
        if marker in file:
            return f"{file.split(marker, 1)[1].split('/', 1)[0]}: {match['function']}"
    return f"{file.rsplit('fabrikam/', 1)[-1]}: {match['function']}"


def summarise(paths: list[Path], top: int) -> str:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for path in paths:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames = [_where(f) for f in stack.split(";")]
            n = int(count)
            total += n
            for frame in set(frames):
                inclusive[frame] += n
            own[frames[-1]] += n
    lines = [f"{total} samples", "inclusive  self  where"]
    for frame, n in inclusive.most_common(top):
        lines.append(f"{100 * n / total:8.1f}% {100 * own[frame] / total:5.1f}%  {frame}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    print(summarise(args.paths, args.top))


if __name__ == "__main__":
    main()
