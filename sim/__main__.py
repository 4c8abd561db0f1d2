"""`python -m sim` is `icsim`."""

from .cli import main

main()
