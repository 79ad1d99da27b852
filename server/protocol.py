"""The JSON-RPC side of the server: how messages are read, answered and cancelled."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from lsprotocol.types import ResponseError
from pygls.exceptions import JsonRpcException
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

if TYPE_CHECKING:
    from server.language_server import SoplsLanguageServer


class SoplsProtocol(LanguageServerProtocol):
    """Keeps each executeCommand's params (for its progress token) and cancels runs on request."""

    _server: SoplsLanguageServer

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.command_params: dict[Any, types.ExecuteCommandParams] = {}

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(
        self, params: types.ExecuteCommandParams
    ) -> Generator[Any, Any, Any]:
        self.command_params[self.msg_id] = params
        try:
            return (yield from super().lsp_workspace__execute_command(params))
        finally:
            self.command_params.pop(self.msg_id, None)

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        self._server.runs.cancel_request(msg_id)
        super()._handle_cancel_notification(msg_id)

    def structure_message(self, data: dict[str, Any]) -> Any:
        """A request whose params cannot be read still gets an answer, so its client does not
        wait for ever."""
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" in data and "method" in data:
                message = f"{exc.message}: {data['method']} got params it cannot read"
                self._send_response(data["id"], error=ResponseError(code=exc.code, message=message))
            raise
