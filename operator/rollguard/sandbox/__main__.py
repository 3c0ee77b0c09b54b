"""`python -m rollguard.sandbox`, the same as `rollguard sandbox`."""

import sys

from rollguard.sandbox.cli import main

sys.exit(main())
