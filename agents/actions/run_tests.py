"""RunTests: the proposal's tests in a sandboxed copy, with the project's own environment."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from agents.action import Action, ActionContext, ActionOutput
from agents.project_env import ensure_project_env
from agents.proposal import Proposal
from agents.sandbox import Containment, SandboxLimits, run_on_copy


class TestReport(BaseModel):
    """What a test run showed; `missing_packages` and `refused_packages` mean the code was
    not to blame. `containment` is None when no test ran."""

    __test__ = False  # not a pytest class

    passed: bool
    exit_code: int | None
    timed_out: bool = False
    network_isolated: bool = False
    containment: Containment | None = None
    sandbox_notes: list[str] = Field(default_factory=list)
    missing_packages: list[str] = Field(default_factory=list)
    refused_packages: list[str] = Field(default_factory=list)
    output: str = ""

    @property
    def not_run(self) -> bool:
        """True when the tests could not run because of the requirements, not the code."""
        return bool(self.missing_packages or self.refused_packages)

    @property
    def verdict(self) -> str:
        """QA's word on the run: "passed", "failed" or "timed out"."""
        if self.timed_out:
            return "timed out"
        return "passed" if self.passed else "failed"

    def to_markdown(self) -> str:
        if self.refused_packages:
            verdict = (
                "not run: these requirements were refused, as only plain package names with "
                "versions are installed: " + ", ".join(self.refused_packages)
            )
        elif self.missing_packages:
            verdict = "not run: these packages could not be installed: " + ", ".join(
                self.missing_packages
            )
        elif self.timed_out:
            verdict = "stopped at the time limit"
        else:
            verdict = "passed" if self.passed else f"failed (exit code {self.exit_code})"
        sandbox = ""
        if self.containment is not None:
            notes = "".join(f"- {note}\n" for note in self.sandbox_notes)
            sandbox = f"**Sandbox:** {self.containment}\n\n{notes}\n"
        return f"# Test report\n\n**Result:** {verdict}\n\n{sandbox}```\n{self.output}\n```"


class RunTests(Action):
    """Installs what the project needs, then runs pytest on the proposal in a sandbox."""

    description = "Run the project's tests in a sandbox."

    def __init__(self, limits: SandboxLimits, envs_root: Path | None = None) -> None:
        self.limits = limits
        self.envs_root = envs_root

    async def run(self, ctx: ActionContext) -> ActionOutput:
        raise TypeError("RunTests needs the proposal: call run_tests()")

    async def run_tests(
        self, proposal: Proposal, requirements: Sequence[str], base: Path | None = None
    ) -> TestReport:
        env = await ensure_project_env(requirements, root=self.envs_root)
        if env.missing or env.refused:
            return TestReport(
                passed=False,
                exit_code=None,
                missing_packages=env.missing,
                refused_packages=env.refused,
                output=env.log,
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
            containment=result.containment,
            sandbox_notes=list(result.notes),
            output=output.strip(),
        )
