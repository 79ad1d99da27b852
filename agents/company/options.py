"""What the user asks the company for: the same keys as the CLI flags and the editor commands."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

PROJECT_NAME_MAX = 64  # characters: a folder name well inside every file system's limit
_PROJECT_NAME = re.compile(r"[a-z][a-z0-9_]*")


class RunOptions(BaseModel):
    """What the user asked for; the same keys as the CLI flags and the editor commands."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    idea: str
    # a new project, or a feature or a bug in the existing repository at `target` ("change":
    # the Product Manager decides which)
    # "reqa": QA writes (or rewrites) the tests of `reqa_file` only
    mode: Literal["new", "feature", "bug", "change", "reqa"] = "new"
    reqa_file: str | None = None
    commit: bool = False  # commit the change to the repository (command line only)
    test_output: str = ""  # a bug's failing test output, when given
    investment: float = Field(3.0, ge=0, allow_inf_nan=False)
    n_round: int = Field(5, ge=1)
    code_review: bool = True
    code_review_k: int = Field(2, ge=1)
    run_tests: bool = False
    implement: bool = True
    project_name: str | None = None
    max_auto_summarize_code: int = Field(0, ge=-1)
    max_test_rounds: int = Field(3, ge=1)
    test_timeout: float = Field(60.0, gt=0)
    # tests that could not run make the run's end an error (CLI exit 1, `testsRequired`)
    require_tests: bool = False

    @field_validator("idea")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the idea is empty: say what to build")
        return value.strip()

    @field_validator("project_name")
    @classmethod
    def _folder_name(cls, value: str | None) -> str | None:
        if value is not None and not (
            _PROJECT_NAME.fullmatch(value) and len(value) <= PROJECT_NAME_MAX
        ):
            raise PydanticCustomError(
                "project_name",
                "{value!r} is not a project name: use snake_case letters, digits and _, "
                "starting with a letter, at most {limit} characters (e.g. snake_game)",
                {"value": value[:80], "limit": PROJECT_NAME_MAX},
            )
        return value

    @property
    def runs_tests(self) -> bool:
        """True when the team has QA run tests (as `build_team` hires it)."""
        if self.mode == "reqa":
            return True
        return self.run_tests and (self.implement or self.mode == "bug")

    @property
    def tests_required(self) -> bool:
        """True when the run's tests must run for the run to count as a success."""
        return self.require_tests and self.runs_tests
