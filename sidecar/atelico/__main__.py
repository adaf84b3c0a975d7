"""``python -m atelico`` runs the CLI."""

import sys

from atelico.cli import main

sys.exit(main())
