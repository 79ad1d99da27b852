"""`sopls.repoMap` and the notifications that keep the workspace index current.

The index of a workspace is built by its first map; from then on, saves, edits and file-watcher
events re-index just the files they name, off the event loop (see `server.workspace_index`).
"""

from __future__ import annotations

import logging
from typing import Any

from lsprotocol import types
from pydantic import Field
from pygls.exceptions import JsonRpcInvalidParams

from server.arguments import CommandArguments, parse_arguments
from server.commands import SERVER
from server.language_server import SoplsLanguageServer
from server.workspace_index import relative_path

logger = logging.getLogger("sopls.server.index")

REPO_MAP = "sopls.repoMap"


class RepoMapArguments(CommandArguments):
    budget: int = Field(1024, gt=0)
    focus: list[str] = Field(default_factory=list)
    requirement: str = ""


@SERVER.command(REPO_MAP)
async def repo_map(server: SoplsLanguageServer, *arguments: Any) -> dict[str, Any]:
    args = parse_arguments(RepoMapArguments, arguments)
    index = server.workspace_index()
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
    index, server.index = server.index, None
    if index is not None:
        index.close()


def _changed(server: SoplsLanguageServer, uris: list[str]) -> None:
    """Schedule these files for re-indexing; before the first map there is no index to update."""
    index = server.index
    if index is None:
        return
    for uri in uris:
        path = relative_path(index.root, uri)
        if path is not None:
            index.schedule_update(path)
