"""Arguments of the `sopls.*` commands: one object with camelCase keys, validated.

A bad or missing field becomes a JSON-RPC InvalidParams error that names the field.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel
from pygls.exceptions import JsonRpcInvalidParams

from agents.edits.paths import UnsafePathError, proposal_path
from agents.runs.run_registry import RUN_ID_FORM, is_run_id

ApplyMode = Literal["confirm", "auto", "none"]


def _run_id(value: str) -> str:
    """A run id names one folder inside a runs folder, so it can never be a path."""
    if not is_run_id(value):
        raise ValueError(f"{RUN_ID_FORM}; sopls.listRuns shows the runs")
    return value


def _proposal_path(value: str) -> str:
    try:
        return proposal_path(value)
    except UnsafePathError as exc:
        raise ValueError(exc.reason) from None


RunId = Annotated[str, AfterValidator(_run_id)]
ProposalPath = Annotated[str, AfterValidator(_proposal_path)]

A = TypeVar("A", bound="CommandArguments")


class CommandArguments(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


# How the editor wants the result, not how the run goes.
_NOT_RUN_OPTIONS = {"target_uri", "apply", "show_failure"}


class RunArguments(CommandArguments):
    investment: float | None = Field(None, ge=0, allow_inf_nan=False)
    n_round: int | None = Field(None, ge=1)
    code_review: bool | None = None
    run_tests: bool | None = None
    require_tests: bool | None = None
    implement: bool | None = None
    max_auto_summarize_code: int | None = Field(None, ge=-1)
    project_name: str | None = None
    target_uri: str | None = None
    apply: ApplyMode = "confirm"
    # An editor that shows a failed run's result itself (with its own actions) turns this off.
    show_failure: bool = True

    def run_options(self) -> dict[str, Any]:
        """The options the user set, for `RunOptions` (whose defaults fill the rest)."""
        return self.model_dump(exclude_none=True, exclude=_NOT_RUN_OPTIONS)


class GenerateProjectArguments(RunArguments):
    idea: str = Field(min_length=1)


class RepositoryArguments(RunArguments):
    """A change to the workspace's own repository, tested by QA unless told otherwise."""

    def repository_options(self, idea: str, mode: str, **extra: str) -> dict[str, Any]:
        fields = set(RunArguments.model_fields) - _NOT_RUN_OPTIONS
        options = self.model_dump(exclude_none=True, include=fields)
        return {"run_tests": True, **options, "idea": idea, "mode": mode, **extra}


class RequestFeatureArguments(RepositoryArguments):
    requirement: str = Field(min_length=1)

    def run_options(self) -> dict[str, Any]:
        return self.repository_options(self.requirement, "feature")


class FixBugArguments(RepositoryArguments):
    description: str = Field(min_length=1)
    test_output: str = ""

    def run_options(self) -> dict[str, Any]:
        return self.repository_options(self.description, "bug", test_output=self.test_output)


class ResumeRunArguments(CommandArguments):
    run_id: RunId
    investment: float | None = Field(None, ge=0, allow_inf_nan=False)
    apply: ApplyMode = "confirm"
    show_failure: bool = True


class ApplyRunArguments(CommandArguments):
    run_id: RunId
    paths: list[ProposalPath] | None = None


class RunIdArguments(CommandArguments):
    run_id: RunId


def parse_arguments(model: type[A], arguments: Sequence[Any]) -> A:
    """The command's one object argument as `model`, or InvalidParams naming the field."""
    if len(arguments) != 1 or not isinstance(arguments[0], dict):
        raise JsonRpcInvalidParams(
            f"expected one object argument with the fields of {_fields(model)}, "
            f"got {len(arguments)} argument(s)"
        )
    try:
        return model.model_validate(arguments[0])
    except ValidationError as exc:
        raise JsonRpcInvalidParams(f"invalid arguments: {describe(exc)}") from None


def describe(exc: ValidationError, name: Callable[[str], str] = str) -> str:
    """Every problem as `field: message`, the field spelled by `name` (e.g. as a CLI flag)."""
    return "; ".join(
        f"{'.'.join(name(str(part)) for part in error['loc']) or 'arguments'}: {error['msg']}"
        for error in exc.errors()
    )


def _fields(model: type[CommandArguments]) -> str:
    return ", ".join(
        (info.alias or name) + ("" if info.is_required() else "?")
        for name, info in model.model_fields.items()
    )
