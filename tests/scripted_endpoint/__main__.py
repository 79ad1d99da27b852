"""Run the scripted endpoint as its own process for subprocess and editor-client tests.

Prints exactly one line, the base URL, then serves until SIGTERM or SIGINT.
"""

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType


def main(argv: list[str] | None = None) -> int:
    """Serve the rules from ``--script`` until told to stop."""
    if not __package__:
        # Started as `python tests/scripted_endpoint`: make the package importable and
        # stop its own directory shadowing top-level names such as `server`.
        sys.path[0] = str(Path(__file__).resolve().parent.parent)
    from scripted_endpoint.server import ScriptedEndpoint

    parser = argparse.ArgumentParser(prog="scripted_endpoint", description=__doc__)
    parser.add_argument("--script", type=Path, required=True, help="JSON file with the rules")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument(
        "--refuse-json-schema",
        action="store_true",
        help='answer response_format type "json_schema" with HTTP 400, like llama.cpp',
    )
    args = parser.parse_args(argv)

    done = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    endpoint = ScriptedEndpoint(port=args.port, refuse_json_schema=args.refuse_json_schema)
    endpoint.load_script(args.script)
    with endpoint:
        print(endpoint.base_url, flush=True)
        done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
