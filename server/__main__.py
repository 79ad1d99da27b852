"""`python -m server` runs the `sopls` command line."""

from server.cli import main

main()
