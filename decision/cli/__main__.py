"""``python -m decision.cli``: the ``decision`` program."""

import sys

from decision.cli import main

sys.exit(main())
