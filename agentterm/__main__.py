"""Run agentterm with `python -m agentterm`."""

from agentterm.cli import main

raise SystemExit(main())
