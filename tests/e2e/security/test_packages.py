"""Model-chosen requirements: anything but a plain name from the index is refused, and no
package's own code runs while its environment is built (wheels only).
"""

from __future__ import annotations

import asyncio
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from agents.edits.proposal import Proposal
from agents.execution.project_env import ensure_project_env, normalise_requirements
from agents.execution.resource_limits import SandboxLimits
from agents.execution.test_runner import run_project_tests

SETUP_PY = "import pathlib; pathlib.Path({marker!r}).write_text('setup.py ran')\n"


def local_project(folder: Path, marker: Path) -> Path:
    """A source project whose setup.py leaves `marker` behind when anything runs it."""
    folder.mkdir()
    (folder / "setup.py").write_text(SETUP_PY.format(marker=str(marker)))
    return folder


def sdist(folder: Path, name: str, marker: Path) -> None:
    """`name`-1.0.tar.gz in `folder`: an sdist only, whose setup.py would leave `marker`."""
    files = {
        "setup.py": SETUP_PY.format(marker=str(marker)),
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
    }
    with tarfile.open(folder / f"{name}-1.0.tar.gz", "w:gz") as archive:
        for file, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}-1.0/{file}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def wheel(folder: Path, name: str) -> None:
    """A minimal pure-Python wheel `name`-1.0, made by hand."""
    info = f"{name}-1.0.dist-info"
    files = {
        f"{name}/__init__.py": "VALUE = 1\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{path},,\n" for path in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(folder / f"{name}-1.0-py3-none-any.whl", "w") as archive:
        for path, text in {**files, f"{info}/RECORD": record}.items():
            archive.writestr(path, text)


@pytest.mark.parametrize(
    "requirement",
    [
        "evil @ file://{project}",
        "file://{project}",
        "{project}",
        "./evil",
        "-e {project}",
        "--index-url https://packages.example/simple evil",
        "-i https://packages.example/simple",
        "evil @ https://packages.example/evil-1.0.tar.gz",
        "https://packages.example/evil-1.0.tar.gz",
        "git+https://packages.example/evil.git",
        "evil==1.0 --hash=sha256:00",
        "evil; python_version > '3'",
        "-r requirements.txt",
    ],
)
async def test_a_requirement_that_is_not_a_plain_name_is_refused_and_never_runs(
    tmp_path: Path, requirement: str
) -> None:
    marker = tmp_path / "setup-py-ran"
    project = local_project(tmp_path / "evil", marker)
    text = requirement.format(project=project)
    envs = tmp_path / "envs"
    proposal = Proposal()
    proposal.put("tests/test_x.py", "def test_x():\n    pass\n")

    report = await run_project_tests(
        proposal, ["six", text], limits=SandboxLimits(), envs_root=envs
    )

    assert report.after.refused_packages == (text,)
    assert not report.after.passed
    assert text in report.summary()
    assert "refused" in report.summary()
    assert not await asyncio.to_thread(marker.exists)
    assert not await asyncio.to_thread(envs.exists)  # nothing was downloaded or built


async def test_an_sdist_only_package_is_never_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "setup-py-ran"
    index = tmp_path / "index"
    index.mkdir()
    sdist(index, "evil", marker)
    wheel(index, "tiny")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(index))

    env = await ensure_project_env(["tiny", "evil"], root=tmp_path / "envs", timeout=120)

    assert "evil" in env.missing
    assert "tiny" not in env.missing  # the local index works: tiny's wheel was found
    assert "evil" in env.log
    assert not await asyncio.to_thread(marker.exists)
    assert not await asyncio.to_thread(env.python.exists)


async def test_the_environment_is_named_by_the_requirement_set_only(tmp_path: Path) -> None:
    wanted = normalise_requirements(["six"])
    env = await ensure_project_env(["six"], root=tmp_path / "envs", timeout=240)
    assert env.missing == []
    assert env.python.parent.parent == tmp_path / "envs" / wanted.key
    assert sorted(await asyncio.to_thread(os.listdir, tmp_path / "envs")) == [
        wanted.key,
        f"{wanted.key}.json",
        f"{wanted.key}.lock",
    ]
