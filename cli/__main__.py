"""``python -m cli``: the ``caseload`` command."""

import sys

from cli.main import main

sys.exit(main())
