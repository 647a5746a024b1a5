"""`python -m openstation` runs the command line."""

from __future__ import annotations

from openstation.cli import main

main()
