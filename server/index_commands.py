"""`sopls.repoMap` and the notifications that keep the workspace index current.

The index of a workspace is built by its first map; from then on, saves, edits and file-watcher
events re-index just the files they name, off the event loop (see `server.workspace_index`).
"""

from __future__ import annotations

import logging
import uuid
import weakref
from concurrent.futures import Future
from typing import Any

from lsprotocol import types
from pydantic import Field
from pygls.capabilities import get_capability
from pygls.exceptions import JsonRpcInvalidParams

from repo_index.languages import INDEX_EXTENSIONS
from server.arguments import CommandArguments, parse_arguments
from server.commands import SERVER
from server.language_server import SoplsLanguageServer
from server.workspace_index import WorkspaceIndex, relative_path

logger = logging.getLogger("sopls.server.index")

REPO_MAP = "sopls.repoMap"

# One index per session (a TCP listener serves several), closed when that session shuts down.
WORKSPACE_INDEX: weakref.WeakKeyDictionary[SoplsLanguageServer, WorkspaceIndex] = (
    weakref.WeakKeyDictionary()
)


class RepoMapArguments(CommandArguments):
    budget: int = Field(1024, gt=0)
    focus: list[str] = Field(default_factory=list)
    requirement: str = ""


def index_for(server: SoplsLanguageServer) -> WorkspaceIndex:
    """The index of the server's workspace; the first one also asks the editor to watch files."""
    index = WORKSPACE_INDEX.get(server)
    if index is None:
        index = WORKSPACE_INDEX[server] = WorkspaceIndex(server.workspace_root.resolve())
        if get_capability(
            server.client_capabilities,
            "workspace.did_change_watched_files.dynamic_registration",
            False,
        ):
            server.client_register_capability(_watch_sources()).add_done_callback(_registered)
    return index


@SERVER.command(REPO_MAP)
async def repo_map(server: SoplsLanguageServer, *arguments: Any) -> dict[str, Any]:
    args = parse_arguments(RepoMapArguments, arguments)
    index = index_for(server)
    focus = []
    for reference in args.focus:
        path = relative_path(index.root, reference)
        if path is None:
            raise JsonRpcInvalidParams(f"focus: {reference!r} is not a file in the workspace")
        focus.append(path)
    text, stats = await index.repo_map(args.requirement, focus, args.budget)
    return {"map": text, "stats": stats}


@SERVER.feature(types.TEXT_DOCUMENT_DID_SAVE)
def document_saved(server: SoplsLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    _changed(server, [params.text_document.uri])


@SERVER.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def document_changed(
    server: SoplsLanguageServer, params: types.DidChangeTextDocumentParams
) -> None:
    _changed(server, [params.text_document.uri])


@SERVER.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def watched_files_changed(
    server: SoplsLanguageServer, params: types.DidChangeWatchedFilesParams
) -> None:
    _changed(server, [change.uri for change in params.changes])


@SERVER.feature(types.SHUTDOWN)
def shutdown(server: SoplsLanguageServer, params: None) -> None:
    index = WORKSPACE_INDEX.pop(server, None)
    if index is not None:
        index.close()


def _changed(server: SoplsLanguageServer, uris: list[str]) -> None:
    """Schedule these files for re-indexing; before the first map there is no index to update."""
    index = WORKSPACE_INDEX.get(server)
    if index is None:
        return
    for uri in uris:
        path = relative_path(index.root, uri)
        if path is not None:
            index.schedule_update(path)


def _watch_sources() -> types.RegistrationParams:
    extensions = ",".join(sorted(suffix.lstrip(".") for suffix in INDEX_EXTENSIONS))
    return types.RegistrationParams(
        registrations=[
            types.Registration(
                id=f"sopls-index-{uuid.uuid4().hex}",
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                    watchers=[types.FileSystemWatcher(glob_pattern=f"**/*.{{{extensions}}}")]
                ),
            )
        ]
    )


def _registered(answer: Future[None]) -> None:
    if not answer.cancelled() and (error := answer.exception()) is not None:
        logger.warning("the editor will not report file changes: %s", error)
