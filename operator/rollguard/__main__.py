"""`python -m rollguard [run options]` runs the operator; other subcommands work as with `rollguard`."""

import sys

from rollguard.cli import command_names, main

_args = sys.argv[1:]
_explicit = bool(_args) and _args[0] in {*command_names(), "-h", "--help"}
sys.exit(main(_args if _explicit else ["run", *_args]))
