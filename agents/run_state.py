"""A run's folder `.sopls/runs/<id>/`: its record, checkpoints, documents, proposal and calls.

Every file is written atomically (a temporary file, then a rename), so a run killed at any
moment leaves the last complete state behind.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from agents.context import Context
from agents.cost import CostTotals
from agents.errors import SoplsError

RunStatus = Literal["running", "completed", "failed", "cancelled", "budget_exceeded"]


class RunOptions(BaseModel):
    """What the user asked for; the same keys as the CLI flags and the editor commands."""

    model_config = ConfigDict(extra="forbid")

    idea: str
    # a new project, or a feature or a bug in the existing repository at `target` ("change":
    # the Product Manager decides which)
    # "reqa": QA writes (or rewrites) the tests of `reqa_file` only
    mode: Literal["new", "feature", "bug", "change", "reqa"] = "new"
    reqa_file: str | None = None
    commit: bool = False  # commit the change to the repository (command line only)
    test_output: str = ""  # a bug's failing test output, when given
    investment: float = Field(3.0, gt=0)
    n_round: int = Field(5, ge=1)
    code_review: bool = True
    code_review_k: int = Field(2, ge=1)
    run_tests: bool = False
    implement: bool = True
    project_name: str | None = None
    max_auto_summarize_code: int = Field(0, ge=-1)
    max_test_rounds: int = Field(3, ge=1)
    test_timeout: float = Field(60.0, gt=0)

    @field_validator("idea")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the idea is empty: say what to build")
        return value.strip()


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
    created: datetime = Field(default_factory=lambda: datetime.now(UTC))
    updated: datetime = Field(default_factory=lambda: datetime.now(UTC))


class RunNotFoundError(SoplsError):
    """A run folder that does not exist or holds no `run.json`."""


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]


class RunFolder:
    """The files of one run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._written: dict[str, str] = {}  # document name -> the JSON last written

    @classmethod
    def create(
        cls, workspace: Path, options: RunOptions, *, target: Path | None = None
    ) -> tuple[RunFolder, RunRecord]:
        """A new run under `<target or workspace>/.sopls/runs/<id>`.

        `target` is the project folder when the user named one; otherwise the project will be
        `<workspace>/<project_name>`, known once the PRD names it.
        """
        record = RunRecord(
            id=new_run_id(), options=options, target=str(target.resolve()) if target else None
        )
        home = (target or workspace).resolve()
        folder = cls(home / ".sopls" / "runs" / record.id)
        folder.save(record)
        return folder, record

    def project_root(self, record: RunRecord) -> Path:
        """Where the run's project goes: the named folder, else `<workspace>/<project_name>`."""
        if record.target:
            return Path(record.target)
        workspace = self.path.parent.parent.parent  # <workspace>/.sopls/runs/<id>
        return workspace / (record.project_name or record.id)

    @classmethod
    def open(cls, path: Path) -> tuple[RunFolder, RunRecord]:
        folder = cls(path)
        if not folder.record_path.is_file():
            raise RunNotFoundError(
                f"{path} is not a run folder (no run.json); pass the folder of a run, "
                "e.g. <project>/.sopls/runs/<id>"
            )
        return folder, RunRecord.model_validate_json(folder.record_path.read_text("utf-8"))

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

    def checkpoint(self, context: Context) -> None:
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
