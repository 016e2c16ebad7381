"""`python -m bot ...` works like the `citebot` command."""

import sys

from bot.cli import main

sys.exit(main())
