"""``python -m generec_desktop.cli``: the ``generec`` command."""

import sys

from generec_desktop.cli import main

sys.exit(main())
