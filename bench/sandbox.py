"""Sandbox benchmark: what containment adds to one test run, and a cached package environment.

A 5-test project is run with pytest from a built package environment, 10 times each: directly
(no sandbox at all, the same interpreter and files) and through `run_sandboxed` (bubblewrap
where it runs, with its cgroup and limits). Printed: the median of each and the difference,
then the median time of `ensure_project_env` when the environment is already built. Target:
<= 150 ms added per run.

    .venv/bin/python bench/sandbox.py
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from agents.execution.project_env import ensure_project_env
from agents.execution.sandbox import containment, run_sandboxed

RUNS = 10
TESTS = "".join(f"def test_{n}():\n    assert {n} + 1 == {n + 1}\n\n\n" for n in range(5))


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def main() -> None:
    area = Path(tempfile.mkdtemp(prefix="sopls-bench-"))
    try:
        envs = area / "envs"
        env = await ensure_project_env([], root=envs)
        if env.missing:
            sys.exit(f"pytest could not be installed: {env.log}")
        project = area / "project"
        (project / "tests").mkdir(parents=True)
        (project / "tests" / "test_five.py").write_text(TESTS)
        pytest = [str(env.python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]

        bare: list[float] = []
        sandboxed: list[float] = []
        for _ in range(RUNS):
            started = time.perf_counter()
            bare_run = await asyncio.create_subprocess_exec(
                *pytest, cwd=project, stdout=asyncio.subprocess.DEVNULL
            )
            if await bare_run.wait() != 0:
                sys.exit("the tests failed without the sandbox")
            bare.append(time.perf_counter() - started)
            started = time.perf_counter()
            result = await run_sandboxed(project, pytest, python=env.python)
            sandboxed.append(time.perf_counter() - started)
            if not result.ok:
                sys.exit(result.stdout + result.stderr)

        cached: list[float] = []
        for _ in range(RUNS):
            started = time.perf_counter()
            await ensure_project_env([], root=envs)
            cached.append(time.perf_counter() - started)

        kind, reason = await containment()
        print(f"containment: {kind}{f' ({reason})' if reason else ''}")
        print(f"notes: {' '.join(result.notes)}")
        print(f"pytest, 5 tests, no sandbox:  {median_ms(bare):7.1f} ms (median of {RUNS})")
        print(f"pytest, 5 tests, sandboxed:   {median_ms(sandboxed):7.1f} ms (median of {RUNS})")
        added = median_ms(sandboxed) - median_ms(bare)
        print(f"added per run:                {added:7.1f} ms (target <= 150 ms)")
        print(f"package environment, cached:  {median_ms(cached):7.1f} ms (median of {RUNS})")
    finally:
        shutil.rmtree(area, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
