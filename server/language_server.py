"""The sopls language server: `sopls.*` commands over JSON-RPC, progress, and workspace edits.

Handlers stay thin: they validate arguments, start a run from `agents.runs.run`, report what it
does, and turn its proposal into a `WorkspaceEdit`. Runs are asyncio tasks; cancelling the request,
the progress, or `sopls.cancelRun` cancels the task (pygls alone answers a cancelled
`workspace/executeCommand` but leaves the command running).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

from lsprotocol import types
from pydantic import ValidationError
from pydantic.alias_generators import to_camel
from pygls.capabilities import get_capability
from pygls.exceptions import JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from agents.company.documents import DOCUMENT_KINDS
from agents.config import Settings, load_settings
from agents.edits.proposal import Proposal
from agents.errors import ConfigError, SoplsError
from agents.llm.local_model import local_model_file, offline_notice
from agents.runs.run import execute
from agents.runs.run_registry import RunRegistry, runs_folder
from agents.runs.run_state import RunFolder, RunOptions, RunRecord
from server.arguments import ApplyMode, describe
from server.progress import RunProgress, ending_line, usd
from server.protocol import SoplsProtocol
from server.runs import RunManager, UnreadableRunError, run_project_root
from server.settings import client_overrides, resolve
from server.workspace_edit import against_disk, build_workspace_edit
from server.workspace_index import WorkspaceIndex, log_refused_watch, watch_sources

logger = logging.getLogger("sopls.server")

CONFIG_SECTION = "sopls"


@dataclass(frozen=True)
class Applied:
    """Whether the client applied a run's edit, and if not (or not all of it), why."""

    applied: bool
    reason: str = ""


class SoplsLanguageServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("sopls", version("sopls"), protocol_cls=SoplsProtocol)
        self.runs = RunManager()
        self.initialization_options: Any = None
        self.configuration: Any = None
        self._configuration_version = 0
        self._settings: Settings | None = None
        self._told_offline = False
        self.index: WorkspaceIndex | None = None  # the workspace's, for the whole session

    def workspace_index(self) -> WorkspaceIndex:
        """The index of the workspace, built on first use (a map or a run on the workspace)
        and kept current from then on; the first use also asks the editor to watch files."""
        if self.index is None:
            self.index = WorkspaceIndex(self.workspace_root.resolve())
            if get_capability(
                self.client_capabilities,
                "workspace.did_change_watched_files.dynamic_registration",
                False,
            ):
                self.client_register_capability(watch_sources()).add_done_callback(
                    log_refused_watch
                )
        return self.index

    def _index_for(self, record: RunRecord) -> WorkspaceIndex | None:
        """The session's index when the run changes the workspace itself, so that the run reads
        the index the editor keeps current instead of building its own."""
        if record.options.mode == "new" or record.target is None:
            return None
        if Path(record.target).resolve() != self.workspace_root.resolve():
            return None
        return self.workspace_index()

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    def refresh_settings(self) -> None:
        """Recompute settings from the editor's; say so (and go on) when they are invalid."""
        settings, problem = resolve(
            client_overrides(self.initialization_options, self.configuration)
        )
        self._settings = settings
        if problem is not None:
            self.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Error, message=problem)
            )
            self.window_log_message(
                types.LogMessageParams(type=types.MessageType.Error, message=problem)
            )

    @property
    def workspace_root(self) -> Path:
        root = self.workspace.root_path
        if root is None and self.workspace.folders:
            root = to_fs_path(next(iter(self.workspace.folders.values())).uri)
        return Path(root) if root else Path.cwd()

    async def fetch_configuration(self) -> None:
        capabilities = self.client_capabilities.workspace
        if capabilities is None or not capabilities.configuration:
            return
        asked_at = self._configuration_version
        try:
            answer = await self.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section=CONFIG_SECTION)])
            )
        except Exception as exc:  # a client that fails here must not stop the server
            logger.warning("workspace/configuration failed: %s", exc)
            return
        if asked_at == self._configuration_version:  # else newer settings arrived meanwhile
            self.set_configuration(answer[0] if answer else None)

    def set_configuration(self, configuration: Any) -> None:
        self._configuration_version += 1
        self.configuration = configuration
        self.refresh_settings()

    async def progress_token(self) -> types.ProgressToken | None:
        """The client's token for this command, else one created here, else none."""
        params = self.protocol.command_params.get(self.protocol.msg_id)
        if params is not None and params.work_done_token is not None:
            return params.work_done_token
        window = self.client_capabilities.window
        if window is None or not window.work_done_progress:
            return None
        token = f"sopls-{uuid.uuid4().hex}"
        try:
            await self.work_done_progress.create_async(token)
        except Exception as exc:
            logger.warning("window/workDoneProgress/create failed: %s", exc)
            return None
        return token

    async def run(
        self, folder: RunFolder, record: RunRecord, apply: ApplyMode, *, show_failure: bool
    ) -> dict[str, Any]:
        """Run (or resume) to the end, reporting progress; then propose the edit."""
        self._tell_if_offline()
        progress = RunProgress(self, record.id, await self.progress_token())
        progress.begin(f"sopls: {record.options.idea}")
        task = asyncio.create_task(
            execute(
                folder,
                record,
                self.settings,
                listeners=[progress.on_event],
                call_observers=[progress.on_call],
                index=self._index_for(record),
            ),
            name=f"run:{record.id}",
        )
        self.runs.start(folder, record, task, self.protocol.msg_id)
        progress.on_cancel(task.cancel)
        await asyncio.wait([task])
        if task.cancelled():
            folder, record = RunFolder.open(folder.path)
            proposal = load_proposal(folder)
        else:
            record, context = task.result()
            proposal = context.proposal
        root: Path | None = None
        try:
            root = run_project_root(folder, record)
        except UnreadableRunError as exc:
            self.warn(f"nothing is applied: {exc}")
        applied = False
        if root is not None and record.status == "completed" and apply != "none":
            outcome = await self.apply(proposal, root, confirm=apply == "confirm", label=record.id)
            applied = outcome.applied
        if record.status == "failed" and record.error is not None and show_failure:
            self.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Error,
                    message=f"sopls: {ending_line(record)}",
                )
            )
        progress.end(f"{record.status} · {usd(record.cost.usd)}")
        return run_result(record, proposal, root, applied)

    async def apply(
        self,
        proposal: Proposal,
        root: Path,
        *,
        confirm: bool,
        label: str,
        paths: list[str] | None = None,
        tell: bool = True,
    ) -> Applied:
        """Send the proposal as a `workspace/applyEdit`, in the change kinds the client knows.

        With `tell`, what is not applied is also shown as a message; `sopls.applyRun` answers
        with the reason instead, to the editor that asked."""
        capabilities = self.client_capabilities
        if capabilities.workspace is None or not capabilities.workspace.apply_edit:
            return self._not_applied("the client does not accept workspace edits", tell)
        versions = {uri: doc.version or 0 for uri, doc in self.workspace.text_documents.items()}
        plan = build_workspace_edit(
            proposal, root, capabilities, confirm=confirm, paths=paths, open_versions=versions
        )
        skipped = "; ".join(f"{path}: {why}" for path, why in plan.skipped.items())
        if plan.edit is None:
            return self._not_applied(skipped or "there is nothing to change", tell)
        if skipped and tell:
            self.warn(f"not applied, the files stay in the run's result: {skipped}")
        answer = await self.workspace_apply_edit_async(
            types.ApplyWorkspaceEditParams(edit=plan.edit, label=f"sopls run {label}")
        )
        if not answer.applied:
            return self._not_applied(answer.failure_reason or "the editor refused the edit", tell)
        return Applied(applied=True, reason=f"left out: {skipped}" if skipped else "")

    def _not_applied(self, reason: str, tell: bool) -> Applied:
        if tell:
            self.warn(f"not applied, the files stay in the run's result: {reason}")
        return Applied(applied=False, reason=reason)

    def _tell_if_offline(self) -> None:
        """Say once that the small offline model answers, and how to configure a real one."""
        if self._told_offline or not self.settings.llm.uses_local_model:
            return
        try:
            notice = offline_notice(local_model_file(self.settings.llm))
        except ConfigError:
            return  # the run fails and says what to install
        self._told_offline = True
        self.warn(notice)

    def warn(self, message: str) -> None:
        self.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=f"sopls: {message}")
        )


def load_proposal(folder: RunFolder) -> Proposal:
    """The run's stored proposal; InvalidParams naming the file when it is not one."""
    try:
        return folder.proposal()
    except SoplsError as exc:
        raise JsonRpcInvalidParams(f"runId: {exc}") from None


def run_result(
    record: RunRecord, proposal: Proposal, root: Path | None, applied: bool
) -> dict[str, Any]:
    """The answer to a run command (PRODUCT.md §8), camelCase keys; no URIs without a root."""
    files = [
        {
            "path": change.path,
            "uri": (root / change.path).as_uri() if root is not None else None,
            "change": change.change.value,
            "before": change.before,
            "after": change.after,
        }
        for change in (
            proposal.files if root is None else [against_disk(f, root) for f in proposal.files]
        )
    ]
    result: dict[str, Any] = {
        "runId": record.id,
        "status": record.status,
        "cost": {
            "usd": record.cost.usd,
            "promptTokens": record.cost.prompt_tokens,
            "completionTokens": record.cost.completion_tokens,
            "calls": record.cost.calls,
        },
        "files": files,
        "documents": _documents(proposal),
        "applied": applied,
    }
    if record.error is not None:
        result["error"] = record.error.model_dump()
    if record.file_errors:
        result["fileErrors"] = record.file_errors
    if record.tests is not None:
        result["tests"] = record.tests
    if record.options.tests_required:
        result["testsRequired"] = True
    return result


def _documents(proposal: Proposal) -> dict[str, Any]:
    """sopls's documents in the proposal, each only when it is what its name says: a proposal
    is stored in the workspace, so a file in a document's place may be anything."""
    documents: dict[str, Any] = {}
    for kind in DOCUMENT_KINDS:
        text = proposal.text_of(f"docs/{kind.doc_name}.json")
        if text is None:
            continue
        try:
            documents[kind.doc_name] = kind.model_validate_json(text).model_dump(mode="json")
        except ValueError:
            logger.warning("docs/%s.json in the proposal is not a %s", kind.doc_name, kind.__name__)
    return documents


def new_run(
    server: SoplsLanguageServer, options: dict[str, Any], target_uri: str | None
) -> tuple[RunFolder, RunRecord]:
    try:
        run_options = RunOptions(**{"require_tests": server.settings.run.require_tests, **options})
    except ValidationError as exc:
        raise JsonRpcInvalidParams(f"invalid arguments: {describe(exc, to_camel)}") from None
    target = None
    if target_uri is not None:
        path = to_fs_path(target_uri)
        if path is None or not target_uri.startswith("file:"):
            raise JsonRpcInvalidParams(f"targetUri: {target_uri!r} is not a file: URI")
        target = Path(path)
        if target.exists() and not target.is_dir():
            raise JsonRpcInvalidParams(f"targetUri: {target} is a file; pass a folder")
    try:
        folder, record = RunFolder.create(server.workspace_root, run_options, target=target)
    except SoplsError as exc:
        raise JsonRpcInvalidParams(f"targetUri: {exc}") from None
    except OSError as exc:
        where = target or server.workspace_root
        raise JsonRpcInvalidParams(
            f"targetUri: cannot keep the run's state in {where} ({exc.strerror}); "
            "pick a folder you can write to"
        ) from None
    if folder.path.parent != runs_folder(server.workspace_root.resolve()):
        try:
            RunRegistry(server.workspace_root).add(record.id, folder.path)
        except OSError as exc:
            server.warn(
                f"later servers will not list run {record.id}, as the runs index of the "
                f"workspace cannot be written ({exc}); resume it with --recover-path {folder.path}"
            )
    return folder, record
