"""`python -m simulator` runs the same CLI as the `mailsim` command."""

from simulator.cli import main

raise SystemExit(main())
