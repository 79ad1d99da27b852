"""The server object and its handlers: lifecycle, configuration, and the `sopls.*` commands."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from lsprotocol import types
from pydantic import ValidationError
from pydantic.alias_generators import to_camel
from pygls.exceptions import JsonRpcInvalidParams

from agents.runs.run_state import RunCompletedError, RunRecord
from server.arguments import (
    ApplyRunArguments,
    FixBugArguments,
    GenerateProjectArguments,
    RequestFeatureArguments,
    ResumeRunArguments,
    RunArguments,
    RunIdArguments,
    describe,
    parse_arguments,
)
from server.language_server import (
    CONFIG_SECTION,
    SoplsLanguageServer,
    load_proposal,
    new_run,
    run_result,
)
from server.runs import UnreadableRun

SERVER = SoplsLanguageServer()

GENERATE_PROJECT = "sopls.generateProject"
REQUEST_FEATURE = "sopls.requestFeature"
FIX_BUG = "sopls.fixBug"
RESUME_RUN = "sopls.resumeRun"
APPLY_RUN = "sopls.applyRun"
LIST_RUNS = "sopls.listRuns"
GET_RUN = "sopls.getRun"
CANCEL_RUN = "sopls.cancelRun"
DELETE_RUN = "sopls.deleteRun"


@SERVER.feature(types.INITIALIZE)
def initialize(server: SoplsLanguageServer, params: types.InitializeParams) -> None:
    server.initialization_options = params.initialization_options
    server.refresh_settings()


@SERVER.feature(types.INITIALIZED)
async def initialized(server: SoplsLanguageServer, params: types.InitializedParams) -> None:
    await server.fetch_configuration()


@SERVER.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def configuration_changed(
    server: SoplsLanguageServer, params: types.DidChangeConfigurationParams
) -> None:
    pushed = params.settings.get(CONFIG_SECTION) if isinstance(params.settings, dict) else None
    if pushed is not None:
        server.set_configuration(pushed)
    else:
        await server.fetch_configuration()


@SERVER.command(GENERATE_PROJECT)
async def generate_project(server: SoplsLanguageServer, *arguments: Any) -> dict[str, Any]:
    args = parse_arguments(GenerateProjectArguments, arguments)
    folder, record = new_run(server, args.run_options(), args.target_uri)
    return await server.run(folder, record, args.apply, show_failure=args.show_failure)


@SERVER.command(REQUEST_FEATURE)
async def request_feature(server: SoplsLanguageServer, *arguments: Any) -> dict[str, Any]:
    return await _change_workspace(server, parse_arguments(RequestFeatureArguments, arguments))


@SERVER.command(FIX_BUG)
async def fix_bug(server: SoplsLanguageServer, *arguments: Any) -> dict[str, Any]:
    return await _change_workspace(server, parse_arguments(FixBugArguments, arguments))


async def _change_workspace(server: SoplsLanguageServer, args: RunArguments) -> dict[str, Any]:
    """A run on the workspace's own repository, proposed as edits of its files."""
    folder, record = new_run(server, args.run_options(), server.workspace_root.as_uri())
    return await server.run(folder, record, args.apply, show_failure=args.show_failure)


@SERVER.command(RESUME_RUN)
async def resume_run(server: SoplsLanguageServer, *arguments: Any) -> dict[str, Any]:
    args = parse_arguments(ResumeRunArguments, arguments)
    if server.runs.is_active(args.run_id):
        raise JsonRpcInvalidParams(f"runId: run {args.run_id!r} is still going")
    folder, record = server.runs.open(args.run_id, server.workspace_root)
    try:
        record.resume_with(args.investment)
    except RunCompletedError as exc:
        raise JsonRpcInvalidParams(f"runId: {exc}") from None
    except ValidationError as exc:
        raise JsonRpcInvalidParams(f"invalid arguments: {describe(exc, to_camel)}") from None
    server.runs.project_root(folder, record)  # refused before any call is paid for
    return await server.run(folder, record, args.apply, show_failure=args.show_failure)


@SERVER.command(APPLY_RUN)
async def apply_run(server: SoplsLanguageServer, *arguments: Any) -> dict[str, Any]:
    args = parse_arguments(ApplyRunArguments, arguments)
    folder, record = server.runs.open(args.run_id, server.workspace_root)
    if record.status != "completed":
        raise JsonRpcInvalidParams(
            f"runId: run {args.run_id!r} is {record.status}; resume it before applying"
        )
    proposal = load_proposal(folder)
    unknown = [p for p in args.paths or [] if proposal.get(p) is None]
    if unknown:
        raise JsonRpcInvalidParams(f"paths: not in run {args.run_id!r}: {', '.join(unknown)}")
    outcome = await server.apply(
        proposal,
        server.runs.project_root(folder, record),
        confirm=False,
        label=record.id,
        paths=args.paths,
        tell=False,
    )
    paths = args.paths or proposal.paths()
    answer = {"runId": record.id, "applied": outcome.applied, "paths": paths}
    return answer | ({"reason": outcome.reason} if outcome.reason else {})


@SERVER.command(LIST_RUNS)
def list_runs(server: SoplsLanguageServer, *arguments: Any) -> list[dict[str, Any]]:
    return [_listing(server, run) for run in server.runs.records(server.workspace_root)]


def _listing(server: SoplsLanguageServer, run: RunRecord | UnreadableRun) -> dict[str, Any]:
    if isinstance(run, UnreadableRun):
        # The same keys as any run, so a client lists it like one, with the reason to read.
        changed = datetime.fromtimestamp(run.folder.stat().st_mtime, UTC).isoformat()
        return {
            "runId": run.run_id,
            "status": "unreadable",
            "requirement": "",
            "projectName": None,
            "cost": {"usd": 0.0, "calls": 0},
            "created": changed,
            "updated": changed,
            "error": {"role": "", "action": "", "message": run.reason},
        }
    return {
        "runId": run.id,
        "status": _status(server, run),
        "requirement": run.options.idea,
        "projectName": run.project_name,
        "cost": {"usd": run.cost.usd, "calls": run.cost.calls},
        "created": run.created.isoformat(),
        "updated": run.updated.isoformat(),
    }


@SERVER.command(GET_RUN)
def get_run(server: SoplsLanguageServer, *arguments: Any) -> dict[str, Any]:
    """A stored run as a run command answers it, so an editor can review it later."""
    args = parse_arguments(RunIdArguments, arguments)
    folder, record = server.runs.open(args.run_id, server.workspace_root)
    root = server.runs.project_root(folder, record)
    result = run_result(record, load_proposal(folder), root, applied=False)
    del result["applied"]  # the server does not know what the editor did with the edit since
    result["status"] = _status(server, record)
    return result


def _status(server: SoplsLanguageServer, record: RunRecord) -> str:
    """A run's status as a user should read it: one stored as running that no process is running
    any more was interrupted (a crash or a kill) and can be resumed."""
    if server.runs.is_active(record.id):
        return "running"
    return "interrupted" if record.status == "running" else record.status


@SERVER.command(CANCEL_RUN)
def cancel_run(server: SoplsLanguageServer, *arguments: Any) -> dict[str, Any]:
    args = parse_arguments(RunIdArguments, arguments)
    return {"runId": args.run_id, "cancelled": server.runs.cancel(args.run_id)}


@SERVER.command(DELETE_RUN)
def delete_run(server: SoplsLanguageServer, *arguments: Any) -> dict[str, Any]:
    """Removes a run's folder: its record, proposal, documents and saved calls, not its project."""
    args = parse_arguments(RunIdArguments, arguments)
    server.runs.delete(args.run_id, server.workspace_root)
    return {"runId": args.run_id, "deleted": True}
