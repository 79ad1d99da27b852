"""Repository index benchmark on the standard library of the running interpreter.

The standard library (without `test/` and `site-packages/`) is copied to a temporary git
repository. Printed, each as a whole process of `sopls index --budget 1024`: cold (no cache),
warm (cache present), after one file is edited; then the in-process map time after a one-file
`update`, and peak RSS (the largest process, workers included). Targets: cold <= 3.5 s,
warm <= 1.0 s, after an edit <= 1.1 s, in process <= 150 ms and fresh, peak RSS <= 200 MB.

    .venv/bin/python bench/repo_index.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

# This file is named like the package it measures: import the package, not this script.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "elapsed = time.perf_counter() - t\n"
    "if done.returncode: sys.exit(done.stderr)\n"
    "print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)
EDIT = "\n\ndef benchmark_marker_function(value: int) -> int:\n    return value + 1\n"


def copy_stdlib(into: Path) -> tuple[int, int, int]:
    source = Path(sysconfig.get_paths()["stdlib"])
    shutil.copytree(
        source,
        into,
        ignore=shutil.ignore_patterns("test", "site-packages", "__pycache__", "*.pyc"),
        symlinks=True,
    )
    files = [p for p in into.rglob("*.py") if p.is_file()]
    lines = sum(p.read_bytes().count(b"\n") for p in files)
    size = sum(p.stat().st_size for p in files)
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    subprocess.run(["git", "init", "-q"], cwd=into, check=True)
    subprocess.run(["git", "add", "-A"], cwd=into, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "stdlib"], cwd=into, check=True)
    return len(files), lines, size


def timed_index(root: Path) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one `sopls index` process."""
    command = [sys.executable, "-m", "server", "index", str(root), "--budget", "1024"]
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *command], capture_output=True, text=True, check=True
    )
    seconds, rss_kb = done.stdout.split()
    return float(seconds), int(rss_kb) / 1024


def in_process_update(root: Path, edited: Path) -> tuple[float, bool]:
    from repo_index.index import RepoIndex

    index = RepoIndex(root)
    index.context(budget=1024)
    relative = edited.relative_to(root).as_posix()
    edited.write_text(edited.read_text() + EDIT.replace("benchmark_marker", "in_process_marker"))
    started = time.perf_counter()
    index.update([relative])
    text = index.context("in_process_marker_function", focus=[], budget=1024)
    elapsed = time.perf_counter() - started
    index.close()
    return elapsed, "in_process_marker_function" in text


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="sopls-bench-") as area:
        root = Path(area) / "stdlib"
        files, lines, size = copy_stdlib(root)
        print(f"corpus: {files} .py files, {lines} lines, {size / 1e6:.1f} MB", flush=True)
        cold, cold_rss = timed_index(root)
        warm, warm_rss = timed_index(root)
        edited = root / "json" / "decoder.py"
        edited.write_text(edited.read_text() + EDIT)
        after_edit, edit_rss = timed_index(root)
        in_process, fresh = in_process_update(root, edited)
        peak = max(cold_rss, warm_rss, edit_rss)
        print(f"cold (no cache)          {cold:6.2f} s   (target <= 3.5 s)")
        print(f"warm (cache, new process){warm:6.2f} s   (target <= 1.0 s)")
        print(f"after one edit           {after_edit:6.2f} s   (target <= 1.1 s)")
        print(
            f"in process after update  {in_process * 1000:6.0f} ms  (target <= 150 ms), "
            f"fresh: {fresh}"
        )
        print(f"peak RSS                 {peak:6.0f} MB  (target <= 200 MB)")


if __name__ == "__main__":
    main()
