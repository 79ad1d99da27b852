"""A run's folder `.sopls/runs/<id>/`: its record, checkpoints, documents, proposal and calls.

Every file is written atomically (a temporary file, then a rename), so a run killed at any
moment leaves the last complete state behind.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError

from agents.company.context import CompanyContext
from agents.company.options import RunOptions
from agents.edits.atomic_write import write_atomic
from agents.edits.proposal import Proposal
from agents.errors import SoplsError
from agents.framework.context import TestVerdict
from agents.llm.budget import CostTotals

# "unwritten": the work is done and stored, but the command line could not write the project yet
RunStatus = Literal["running", "unwritten", "completed", "failed", "cancelled", "budget_exceeded"]
M = TypeVar("M", bound=BaseModel)


class RunCost(BaseModel):
    usd: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    @classmethod
    def of(cls, totals: CostTotals) -> RunCost:
        return cls(
            usd=totals.usd,
            prompt_tokens=totals.prompt_tokens,
            completion_tokens=totals.completion_tokens,
            calls=totals.calls,
        )


class RunError(BaseModel):
    role: str = ""
    action: str = ""
    message: str
    answer: str | None = Field(
        None, description="the saved raw answer of a model whose output could not be used"
    )


class RunRecord(BaseModel):
    """`run.json`."""

    id: str
    options: RunOptions
    status: RunStatus = "running"
    cost: RunCost = RunCost()
    error: RunError | None = None
    project_name: str | None = None
    target: str | None = Field(None, description="the project folder, when the user named one")
    file_errors: dict[str, str] = Field(default_factory=dict)
    test_verdict: TestVerdict | None = None
    tests: dict[str, Any] | None = Field(None, description="QA's last test report")
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))
    updated: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def required_tests_missing(self) -> str | None:
        """Why the tests the run requires did not run; None when they ran or are not required."""
        if not self.options.tests_required:
            return None
        if self.test_verdict == "not run":
            reason = (self.tests or {}).get("reason")
            return reason if isinstance(reason, str) and reason else "QA could not run the tests"
        return "QA ran no tests" if self.test_verdict is None else None

    def resume_with(self, investment: float | None) -> None:
        """Check that the run can go on, then take the new investment when one is given.

        Both the command line and the editor resume through here, before any call is paid for:
        `RunCompletedError` for a finished run, a `ValidationError` naming a bad investment
        (the record is unchanged then).
        """
        if self.status == "completed":
            raise RunCompletedError(f"run {self.id} is already completed")
        if investment is not None:
            self.options.investment = investment


class RunCompletedError(SoplsError):
    """A completed run cannot be resumed: its work is done and handed over."""


class RunNotFoundError(SoplsError):
    """A run folder that does not exist or holds no `run.json`."""


class BrokenRunError(SoplsError):
    """A run file that cannot be read: truncated, not JSON, or written by something else."""


class RunFolderLinkError(SoplsError):
    """The folder runs would be kept in is a symlink, which could lead anywhere."""


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


class RunFolder:
    """The files of one run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._written: dict[str, str] = {}  # document name -> the JSON last written

    @classmethod
    def create(
        cls,
        workspace: Path,
        options: RunOptions,
        *,
        target: Path | None = None,
        run_id: str | None = None,
    ) -> tuple[RunFolder, RunRecord]:
        """A new run under `<target or workspace>/.sopls/runs/<id>`.

        `target` is the project folder when the user named one; otherwise the project will be
        `<workspace>/<project_name>`, known once the PRD names it. `run_id` is given when the
        caller needed it before the folder existed (e.g. to lock the target in its name).
        """
        record = RunRecord(
            id=run_id or new_run_id(),
            options=options,
            target=str(target.resolve()) if target else None,
        )
        home = (target or workspace).resolve()
        if (home / ".sopls").is_symlink():
            raise RunFolderLinkError(
                f"{home / '.sopls'} is a symbolic link, so run state would be written elsewhere; "
                "remove the link and try again."
            )
        folder = cls(home / ".sopls" / "runs" / record.id)
        folder.save(record)
        return folder, record

    def project_root(self, record: RunRecord) -> Path:
        """Where the run's project goes: the named folder, else `<workspace>/<project_name>`."""
        if record.target:
            return Path(record.target)
        return self.project_root_for(record.project_name or record.id)

    def project_root_for(self, name: str) -> Path:
        """The folder a project of this name gets in the workspace the run is kept in."""
        return self.path.parent.parent.parent / name  # <workspace>/.sopls/runs/<id>

    @classmethod
    def open(cls, path: Path) -> tuple[RunFolder, RunRecord]:
        folder = cls(path)
        if not folder.record_path.is_file():
            raise RunNotFoundError(
                f"{path} is not a run folder (no run.json); pass the folder of a run, "
                "e.g. <project>/.sopls/runs/<id>"
            )
        return folder, _read(folder.record_path, RunRecord)

    def proposal(self) -> Proposal:
        """The proposal of the last checkpoint (empty before the first one)."""
        path = self.path / "proposal.json"
        return _read(path, Proposal) if path.is_file() else Proposal()

    @property
    def record_path(self) -> Path:
        return self.path / "run.json"

    @property
    def journal_path(self) -> Path:
        return self.path / "calls.jsonl"

    @property
    def raw_output_dir(self) -> Path:
        return self.path / "raw"

    def save(self, record: RunRecord) -> None:
        record.updated = datetime.now(UTC)
        write_atomic(self.record_path, record.model_dump_json(indent=2) + "\n")

    def checkpoint(self, context: CompanyContext) -> None:
        """Save what the run has produced so far: the proposal and the documents."""
        write_atomic(self.path / "proposal.json", context.proposal.model_dump_json(indent=2))
        for document in context.documents.all():
            text = document.model_dump_json(indent=2) + "\n"
            if self._written.get(document.doc_name) == text:
                continue
            base = self.path / "docs" / document.doc_name
            write_atomic(base.with_suffix(".json"), text)
            write_atomic(base.with_suffix(".md"), document.to_markdown() + "\n")
            self._written[document.doc_name] = text


def _read(path: Path, model: type[M]) -> M:
    """`path` as `model`, or one line saying that the file is broken and what to do."""
    try:
        return model.model_validate_json(path.read_bytes())
    except OSError as exc:
        reason = exc.strerror or "it cannot be read"
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            reason = "it is not complete JSON"
        else:
            where = ".".join(str(part) for part in first["loc"]) or "the top level"
            reason = f"it is not a sopls {path.stem} file ({where}: {first['msg']})"
    raise BrokenRunError(
        f"{path} cannot be used: {reason}. Restore it from a copy, or start a new run."
    ) from None
