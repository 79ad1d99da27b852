"""Language-server responsiveness while a run is going.

Starts `sopls serve` and the scripted endpoint (0.5 s per call), starts a generateProject run,
then sends 200 `sopls.listRuns` requests one after another while the run works. Prints p50, p95
and p99 of their latency and the time from `workspace/executeCommand` to the first progress
`begin`. Targets: p50 <= 20 ms, p99 <= 50 ms, first begin <= 200 ms.

    .venv/bin/python bench/lsp_latency.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# bench/repo_index.py is named like the package: the repository root replaces this folder.
sys.path[0] = str(Path(__file__).resolve().parent.parent)
sys.path.insert(1, str(Path(__file__).resolve().parent.parent / "tests"))

from company_script import script_company
from lsprotocol import types
from pygls.lsp.client import LanguageClient
from scripted_endpoint import ScriptedEndpoint

REQUESTS = 200
TOKEN = "bench-run"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def measure() -> dict[str, Any]:
    with ScriptedEndpoint() as endpoint, tempfile.TemporaryDirectory() as area:
        script_company(endpoint, delay=0.5)
        client = LanguageClient("bench", "1")
        began = asyncio.get_running_loop().create_future()

        @client.feature(types.PROGRESS)
        def progress(params: types.ProgressParams) -> None:
            value = params.value
            kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
            if kind == "begin" and not began.done():
                began.set_result(time.perf_counter())

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            return types.ApplyWorkspaceEditResult(applied=True)

        @client.feature(types.WINDOW_LOG_MESSAGE)
        def log_message(params: types.LogMessageParams) -> None:
            return None

        @client.feature("sopls/runEvent")
        def run_event(params: Any) -> None:
            return None

        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SOPLS_"))}
        await client.start_io(sys.executable, "-m", "server", "serve", env=env, cwd=area)
        capabilities = types.ClientCapabilities(
            workspace=types.WorkspaceClientCapabilities(apply_edit=True),
            window=types.WindowClientCapabilities(work_done_progress=True),
        )
        await client.initialize_async(
            types.InitializeParams(
                capabilities=capabilities,
                root_uri=Path(area).as_uri(),
                initialization_options={"llm": {"baseUrl": endpoint.base_url, "apiKey": "bench"}},
            )
        )
        client.initialized(types.InitializedParams())

        sent = time.perf_counter()
        run = asyncio.ensure_future(
            client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="sopls.generateProject",
                    arguments=[{"idea": "a word-frequency CLI", "apply": "none"}],
                    work_done_token=TOKEN,
                )
            )
        )
        first_begin = await asyncio.wait_for(began, 10) - sent

        latencies = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            await client.workspace_execute_command_async(
                types.ExecuteCommandParams(command="sopls.listRuns", arguments=[{}])
            )
            latencies.append(time.perf_counter() - started)
        still_running = not run.done()
        result = await run
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
        return {
            "latencies": latencies,
            "first_begin": first_begin,
            "overlapped": still_running,
            "status": result["status"],
        }


def main() -> None:
    figures = asyncio.run(measure())
    latencies = [x * 1000 for x in figures["latencies"]]
    print(
        f"{REQUESTS} sopls.listRuns during a run (run still going at the end: "
        f"{figures['overlapped']}; run {figures['status']})"
    )
    print(
        f"latency ms: p50 {statistics.median(latencies):.1f}  "
        f"p95 {percentile(latencies, 0.95):.1f}  p99 {percentile(latencies, 0.99):.1f}  "
        f"max {max(latencies):.1f}   (targets: p50 <= 20, p99 <= 50)"
    )
    print(
        f"executeCommand -> first progress begin: {figures['first_begin'] * 1000:.1f} ms "
        "(target <= 200)"
    )


if __name__ == "__main__":
    main()
