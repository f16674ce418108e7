"""Run one figure in this process and print its result as JSON (with this process's peak
memory): `python -m bench.one FIGURE RUN`."""

from __future__ import annotations

import json
import os
import resource
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalsite.settings")
os.environ.setdefault("DEBUG", "0")


def main() -> None:
    import django

    django.setup()
    from bench.figures import FIGURES

    name, run = sys.argv[1], int(sys.argv[2])
    result = FIGURES[name](run)
    # Linux reports ru_maxrss in KiB: the peak resident memory of this whole process.
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
