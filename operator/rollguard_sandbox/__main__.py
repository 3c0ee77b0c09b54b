"""`python -m rollguard_sandbox`: the release story on this machine (what `make demo` runs)."""

import sys

from rollguard_sandbox.cli import main

sys.exit(main())
