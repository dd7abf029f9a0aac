"""``python -m fastlin``: the same as the ``fastlin`` command."""

import sys

from .cli import main

sys.exit(main())
