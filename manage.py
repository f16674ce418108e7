#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

On a development machine, private/dev.env (written by scripts/demo.sh, gitignored) holds the
demo's environment (DEBUG=1): it is read when it exists, and a variable already set in the
environment wins over it. A production server has no such file, so nothing changes there;
PINGYI_DEV_ENV=0 ignores the file (tests of production behaviour)."""

import os
import sys
from pathlib import Path

DEV_ENV = Path(__file__).resolve().parent / "private" / "dev.env"


def load_dev_env(path: Path = DEV_ENV) -> None:
    """Set the KEY=VALUE lines of `path` that are not set already (no file: nothing)."""
    if os.environ.get("PINGYI_DEV_ENV") == "0":
        return
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key, value = key.strip().removeprefix("export ").strip(), value.strip().strip("'\"")
        if key and key not in os.environ:
            os.environ[key] = value


def main() -> None:
    load_dev_env()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalsite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
