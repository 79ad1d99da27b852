"""The `sopls` command line. stdout carries results; logs go to stderr."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from importlib.metadata import version

from agents import write_default_config
from agents.errors import SoplsError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sopls",
        description="An AI software company: PRD, design, tasks, reviewed code and tests.",
    )
    parser.add_argument("--version", action="version", version=f"sopls {version('sopls')}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more logging on stderr (-vv: debug)"
    )
    parser.add_argument(
        "--init-config",
        action="store_true",
        help="write a commented ~/.sopls/config.yaml with every setting at its default",
    )
    return parser


def _configure_logging(verbosity: int) -> None:
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )
    if verbosity < 3:
        # The HTTP stack's debug output is noise unless asked for explicitly.
        for noisy in ("httpx", "httpx2", "httpcore", "httpcore2", "openai"):
            logging.getLogger(noisy).setLevel(max(level, logging.INFO))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        if args.init_config:
            path = write_default_config()
            print(
                f"Wrote {path}; put your model and endpoint there (the API key is best kept in "
                "OPENAI_API_KEY)."
            )
            return 0
        parser.print_help()
        return 2
    except SoplsError as exc:
        print(f"sopls: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
