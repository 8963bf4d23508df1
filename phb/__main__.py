"""`python -m phb`: see phb.cli."""

import sys

from phb.cli import main

sys.exit(main())
