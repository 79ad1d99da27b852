"""RunTests: the proposal's tests in a sandboxed copy, with the project's own environment."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from agents.action import Action, ActionContext, ActionOutput
from agents.project_env import ensure_project_env
from agents.proposal import Proposal
from agents.sandbox import SandboxLimits, run_on_copy


class TestReport(BaseModel):
    """What a test run showed; `missing_packages` means the code was not to blame."""

    __test__ = False  # not a pytest class

    passed: bool
    exit_code: int | None
    timed_out: bool = False
    network_isolated: bool = False
    missing_packages: list[str] = Field(default_factory=list)
    output: str = ""

    def to_markdown(self) -> str:
        if self.missing_packages:
            verdict = "not run: these packages could not be installed: " + ", ".join(
                self.missing_packages
            )
        elif self.timed_out:
            verdict = "stopped at the time limit"
        else:
            verdict = "passed" if self.passed else f"failed (exit code {self.exit_code})"
        isolation = "without network" if self.network_isolated else "with the host's network"
        return (
            f"# Test report\n\n**Result:** {verdict}\n\nRun {isolation}.\n\n```\n{self.output}\n```"
        )


class RunTests(Action):
    """Installs what the project needs, then runs pytest on the proposal in a sandbox."""

    description = "Run the project's tests in a sandbox."

    def __init__(self, venv_dir: Path, limits: SandboxLimits) -> None:
        self.venv_dir = venv_dir
        self.limits = limits

    async def run(self, ctx: ActionContext) -> ActionOutput:
        raise TypeError("RunTests needs the proposal: call run_tests()")

    async def run_tests(
        self, proposal: Proposal, requirements: Sequence[str], base: Path | None = None
    ) -> TestReport:
        env = await ensure_project_env(self.venv_dir, requirements)
        if env.missing:
            return TestReport(
                passed=False, exit_code=None, missing_packages=env.missing, output=env.log
            )
        pytest = [str(env.python), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        copy = await run_on_copy(base, proposal, pytest, limits=self.limits, python=env.python)
        result = copy.result
        output = "\n".join(part for part in (result.stdout, result.stderr) if part.strip())
        if result.timed_out:
            output += f"\n[stopped: the tests ran longer than {self.limits.timeout:g}s]"
        return TestReport(
            passed=result.ok,
            exit_code=result.exit_code,
            timed_out=result.timed_out,
            network_isolated=result.network_isolated,
            output=output.strip(),
        )
