"""A real `sopls serve` subprocess driven by pytest-lsp's client, impersonating an editor."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features

EDITORS = {
    "vscode": "visual-studio-code",
    "neovim": "neovim",
    "emacs": "emacs",
}


class EditorClient(LanguageClient):
    """Records every edit the server asks to apply, and accepts them unless told to refuse."""

    def __init__(self, configuration: dict[str, Any]) -> None:
        super().__init__(configuration=configuration, converter_factory=default_converter)
        register_lsp_features(self)
        self.edits: list[types.ApplyWorkspaceEditParams] = []
        self.run_events: list[dict[str, Any]] = []
        self.refusal: str | None = None  # set: the edits are refused with this reason

        @self.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            self.edits.append(params)
            if self.refusal is not None:
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason=self.refusal)
            return types.ApplyWorkspaceEditResult(applied=True)

        @self.feature("sopls/runEvent")
        def run_event(params: Any) -> None:
            # pygls hands over notifications it has no type for as named tuples
            self.run_events.append(params._asdict() if hasattr(params, "_asdict") else params)


@asynccontextmanager
async def editor_session(
    root: Path,
    *,
    editor: str = "vscode",
    initialization_options: Any = None,
    configuration: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> AsyncIterator[EditorClient]:
    """Start `sopls serve`, initialize it as `editor` would, and shut it down afterwards."""
    client = EditorClient(configuration={"": configuration or {}})
    server_env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "SOPLS_"))}
    server_env |= env or {}
    await client.start_io(sys.executable, "-m", "server", "serve", env=server_env, cwd=root)
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities(EDITORS[editor]),
                root_uri=root.as_uri(),
                initialization_options=initialization_options,
            )
        )
        yield client
    except BaseException:
        server = client._server
        if server is not None and server.returncode is None:
            server.kill()  # a failed test must not wait for a polite shutdown
        raise
    else:
        await client.shutdown_session()
    finally:
        await client.stop()


async def execute(client: LanguageClient, command: str, arguments: Any, **extra: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=[arguments], **extra)
    )
