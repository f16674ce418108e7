"""Command line: `python3 -m recount DIR [--fingerprint]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from . import fingerprint, recount, render
from .model import RecountError


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    parser = argparse.ArgumentParser(
        prog="python3 -m recount", description="重新计票: 按公开的选票明细文件重算结果"
    )
    parser.add_argument("directory", help="manifest.json 与 ballots.jsonl/ballots.csv 所在目录")
    parser.add_argument("--fingerprint", action="store_true", help="只输出计票指纹")
    args = parser.parse_args(argv)
    try:
        if args.fingerprint:
            digest, notes = fingerprint(args.directory)
            print(f"fingerprint: {digest}", file=err)
            for note in notes:
                print(note, file=err)
            out.write(digest + "\n")
            return 0
        outcome = recount(args.directory)
    except RecountError as exc:
        # Nothing on standard output: a partial or unverified result must not be mistaken
        # for the published one.
        print(f"recount: {exc.message}", file=err)
        return exc.code
    print(f"fingerprint: {outcome.fingerprint}", file=err)
    for line in outcome.notes + outcome.disagreements:
        print(line, file=err)
    out.write(render(outcome.result))
    return 0
