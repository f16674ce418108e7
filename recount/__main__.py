"""`python3 -m recount DIR`: see cli.main."""

import sys

from .cli import main

sys.exit(main())
