"""`sopls serve`: cancelling and resuming runs, bad requests, failing runs."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import sys
import time
from pathlib import Path

import pytest
from company_script import script_company
from conftest import SECRET_KEY
from lsp_session import EditorClient, editor_session, execute
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.client import LanguageClient
from scripted_endpoint import ScriptedEndpoint

from agents.runs.run_state import RunFolder, RunOptions


def llm_options(endpoint: ScriptedEndpoint) -> dict:
    return {"llm": {"baseUrl": endpoint.base_url, "apiKey": SECRET_KEY, "maxRetries": 0}}


def start_generate(client: EditorClient, msg_id: str, **arguments: object) -> asyncio.Future:
    params = types.ExecuteCommandParams(
        command="sopls.generateProject",
        arguments=[{"idea": "a word-frequency CLI", "codeReview": False, **arguments}],
    )
    request = client.protocol.send_request_async(
        types.WORKSPACE_EXECUTE_COMMAND, params, msg_id=msg_id
    )
    return asyncio.ensure_future(request)


async def wait_for_requests(endpoint: ScriptedEndpoint, count: int) -> None:
    for _ in range(600):
        if sum(r.status == 200 for r in endpoint.chat_requests) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} answered requests after 30 s")


def journal(tmp_path: Path, run_id: str) -> list[str]:
    lines = (tmp_path / ".sopls" / "runs" / run_id / "calls.jsonl").read_text().splitlines()
    return [json.dumps(json.loads(line)["request"]["messages"]) for line in lines]


async def test_cancel_request_stops_the_run_and_resume_completes_it(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    script_company(endpoint, delay=0.5)
    async with editor_session(tmp_path, initialization_options=llm_options(endpoint)) as client:
        running = start_generate(client, "generate-1")
        await asyncio.sleep(2)
        cancelled_at = time.monotonic()
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="generate-1"))

        with pytest.raises(JsonRpcException, match="cancel"):
            await asyncio.wait_for(running, 1)
        assert time.monotonic() - cancelled_at < 1
        await asyncio.sleep(1.5)  # anything still to come would have started by now
        assert all(r.started <= cancelled_at + 1 for r in endpoint.chat_requests)

        (run,) = await execute(client, "sopls.listRuns", {})
        assert run["status"] == "cancelled"
        finished_before = journal(tmp_path, run["runId"])
        assert finished_before
        sent_before = len(endpoint.chat_requests)

        result = await execute(client, "sopls.resumeRun", {"runId": run["runId"]})

        assert result["status"] == "completed"
        again = {json.dumps(r.body["messages"]) for r in endpoint.chat_requests[sent_before:]}
        assert not again & set(finished_before)
        assert client.edits  # the resumed run's files were proposed


async def test_cancel_run_command_and_progress_cancel(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    script_company(endpoint, delay=0.3)
    async with editor_session(tmp_path, initialization_options=llm_options(endpoint)) as client:
        running = start_generate(client, "generate-2")
        await wait_for_requests(endpoint, 1)
        (run,) = await execute(client, "sopls.listRuns", {})
        assert run["status"] == "running"
        answer = await execute(client, "sopls.cancelRun", {"runId": run["runId"]})
        assert answer == {"runId": run["runId"], "cancelled": True}
        result = await asyncio.wait_for(running, 2)
        assert result["status"] == "cancelled"
        assert result["applied"] is False

        running = start_generate(client, "generate-3")
        await wait_for_requests(endpoint, len(endpoint.chat_requests) + 1)
        token = next(
            t
            for t, reports in client.progress_reports.items()
            if reports and not isinstance(reports[-1], types.WorkDoneProgressEnd)
        )
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        result = await asyncio.wait_for(running, 2)
        assert result["status"] == "cancelled"
        assert isinstance(client.progress_reports[token][-1], types.WorkDoneProgressEnd)


async def test_bad_arguments_get_invalid_params_naming_the_field(tmp_path: Path) -> None:
    async with editor_session(tmp_path) as client:
        with pytest.raises(JsonRpcException) as missing:
            await execute(client, "sopls.generateProject", {"investment": 1})
        assert missing.value.code == -32602
        assert "idea" in str(missing.value)

        with pytest.raises(JsonRpcException) as wrong:
            await execute(client, "sopls.generateProject", {"idea": "x", "nRound": "many"})
        assert wrong.value.code == -32602
        assert "nRound" in str(wrong.value)

        with pytest.raises(JsonRpcException) as unknown_run:
            await execute(client, "sopls.resumeRun", {"runId": "nope"})
        assert "runId" in str(unknown_run.value)

        with pytest.raises(JsonRpcException, match=r"sopls\.dance"):
            await execute(client, "sopls.dance", {})

        assert await execute(client, "sopls.listRuns", {}) == []


async def test_garbage_on_the_wire_leaves_the_server_answering(tmp_path: Path) -> None:
    rng = random.Random(7)
    bodies: list[bytes] = []
    for i in range(200):
        kind = i % 5
        if kind == 0:
            bodies.append(b"{not json" + bytes(rng.randrange(32, 127) for _ in range(10)))
        elif kind == 1:
            bodies.append(json.dumps([1, 2, 3]).encode())
        elif kind == 2:
            bodies.append(
                json.dumps({"jsonrpc": "2.0", "id": 10_000 + i, "method": f"x/{i}"}).encode()
            )
        elif kind == 3:
            bodies.append(
                json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "id": 20_000 + i,
                        "method": "workspace/executeCommand",
                        "params": {"command": 42, "arguments": "no"},
                    }
                ).encode()
            )
        else:
            bodies.append(
                json.dumps({"jsonrpc": "2.0", "method": "sopls/unknown", "params": i}).encode()
            )

    async with editor_session(tmp_path) as client:
        assert client._server is not None
        assert client._server.stdin is not None
        for body in bodies:
            client._server.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        await client._server.stdin.drain()
        async with asyncio.timeout(10):
            assert await execute(client, "sopls.listRuns", {}) == []


async def test_a_failing_run_reports_role_and_action_and_the_server_goes_on(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    endpoint.on().fail(500, message="the model is down")
    async with editor_session(tmp_path, initialization_options=llm_options(endpoint)) as client:
        result = await execute(client, "sopls.generateProject", {"idea": "x"})

        assert result["status"] == "failed"
        assert result["error"]["role"] == "ProductManager"
        assert result["error"]["action"] == "WritePRD"
        assert "the model is down" in result["error"]["message"]
        errors = [m.message for m in client.messages if m.type == types.MessageType.Error]
        assert any("ProductManager/WritePRD" in m for m in errors)
        runs = await execute(client, "sopls.listRuns", {})
        assert [r["status"] for r in runs] == ["failed"]


async def test_apply_run_later_in_part(endpoint: ScriptedEndpoint, tmp_path: Path) -> None:
    script_company(endpoint)
    async with editor_session(tmp_path, initialization_options=llm_options(endpoint)) as client:
        result = await execute(
            client, "sopls.generateProject", {"idea": "a word-frequency CLI", "apply": "none"}
        )
        assert client.edits == []

        stored = await execute(client, "sopls.getRun", {"runId": result["runId"]})
        assert stored["status"] == "completed"
        assert stored["files"] == result["files"]
        assert stored["cost"] == result["cost"]
        assert "main.py" in {f["path"] for f in stored["files"]}
        with pytest.raises(JsonRpcException, match="runId"):
            await execute(client, "sopls.getRun", {"runId": "nope"})

        answer = await execute(
            client, "sopls.applyRun", {"runId": result["runId"], "paths": ["main.py"]}
        )

        assert answer["applied"] is True
        (edit,) = client.edits
        uris = {c.uri for c in edit.edit.document_changes or [] if isinstance(c, types.CreateFile)}
        assert uris == {(tmp_path / "word_freq" / "main.py").as_uri()}
        with pytest.raises(JsonRpcException, match="paths"):
            await execute(client, "sopls.applyRun", {"runId": result["runId"], "paths": ["x.py"]})


async def test_serve_over_tcp(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "serve", "--tcp", f"127.0.0.1:{port}", cwd=tmp_path
    )
    client = LanguageClient("tcp-test", "1")
    try:
        for _ in range(100):
            try:
                await client.start_tcp("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.1)
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(), root_uri=tmp_path.as_uri()
            )
        )
        runs = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="sopls.listRuns", arguments=[{}])
        )
        assert runs == []
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        await client.stop()
        server.terminate()  # over TCP the server waits for further connections until stopped
        await server.wait()


async def test_a_run_left_running_by_a_dead_server_reads_as_interrupted(tmp_path: Path) -> None:
    folder, record = RunFolder.create(tmp_path, RunOptions(idea="a word-frequency CLI"))
    record.status = "running"  # as a server killed mid-run leaves it
    folder.save(record)

    async with editor_session(tmp_path) as client:
        (run,) = await execute(client, "sopls.listRuns", {})
        stored = await execute(client, "sopls.getRun", {"runId": record.id})

    assert run["status"] == stored["status"] == "interrupted"


async def test_a_request_with_unreadable_params_is_still_answered(tmp_path: Path) -> None:
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        "serve",
        cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdin is not None
    assert server.stdout is not None

    def send(message: dict) -> None:
        body = json.dumps(message).encode()
        server.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    async def answer_to(request_id: int) -> dict:
        while True:
            length = 0
            while (line := await server.stdout.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            message = json.loads(await server.stdout.readexactly(length))
            if message.get("id") == request_id and "method" not in message:
                return message

    try:
        initialize = {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": initialize})
        async with asyncio.timeout(30):
            await answer_to(1)
            send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
            params = [{"command": "sopls.listRuns", "arguments": [{}]}]  # a list, not an object
            send(
                {"jsonrpc": "2.0", "id": 2, "method": "workspace/executeCommand", "params": params}
            )
            answer = await answer_to(2)
            assert answer["error"]["code"] == -32602
            assert "workspace/executeCommand" in answer["error"]["message"]
            good = {"command": "sopls.listRuns", "arguments": [{}]}
            send({"jsonrpc": "2.0", "id": 3, "method": "workspace/executeCommand", "params": good})
            assert (await answer_to(3))["result"] == []
    finally:
        server.kill()
        await server.wait()


async def test_a_project_generated_again_over_its_files_is_a_diff_and_a_refusal_says_why(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    script_company(endpoint)
    earlier = tmp_path / "word_freq" / "main.py"
    earlier.parent.mkdir()
    earlier.write_text("print('the first version')\n")
    async with editor_session(tmp_path, initialization_options=llm_options(endpoint)) as client:
        result = await execute(
            client, "sopls.generateProject", {"idea": "a word-frequency CLI", "apply": "none"}
        )
        main = next(f for f in result["files"] if f["path"] == "main.py")
        assert main["uri"] == earlier.as_uri()
        assert (main["change"], main["before"]) == ("modify", "print('the first version')\n")

        applied = await execute(
            client, "sopls.applyRun", {"runId": result["runId"], "paths": ["main.py"]}
        )
        assert applied["applied"] is True
        (edit,) = client.edits
        (change,) = edit.edit.document_changes or []
        assert isinstance(change, types.TextDocumentEdit)  # an edit of the file, not a creation
        assert change.text_document.uri == earlier.as_uri()

        client.refusal = "the file is read-only"
        refused = await execute(
            client, "sopls.applyRun", {"runId": result["runId"], "paths": ["main.py"]}
        )
        assert refused["applied"] is False
        assert refused["reason"] == "the file is read-only"
        # The editor that asked says it with its own next step; the server adds no second message.
        assert not any("read-only" in m.message for m in client.messages)


async def test_delete_run_removes_its_folder_and_refuses_a_running_run(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    kept, _ = RunFolder.create(tmp_path, RunOptions(idea="a word-frequency CLI"))
    broken, _ = RunFolder.create(tmp_path, RunOptions(idea="a clock"))
    broken.record_path.write_text("{")  # listed as unreadable, with the advice to remove it
    script_company(endpoint, delay=0.3)
    async with editor_session(tmp_path, initialization_options=llm_options(endpoint)) as client:
        running = start_generate(client, "generate-4")
        await wait_for_requests(endpoint, 1)
        going = next(
            r["runId"]
            for r in await execute(client, "sopls.listRuns", {})
            if r["status"] == "running"
        )
        with pytest.raises(JsonRpcException, match="still going") as refused:
            await execute(client, "sopls.deleteRun", {"runId": going})
        assert refused.value.code == -32602
        await execute(client, "sopls.cancelRun", {"runId": going})
        await asyncio.wait_for(running, 2)

        for run_id in (going, broken.path.name):
            answer = await execute(client, "sopls.deleteRun", {"runId": run_id})
            assert answer == {"runId": run_id, "deleted": True}

        assert [r["runId"] for r in await execute(client, "sopls.listRuns", {})] == [kept.path.name]
        assert sorted(p.name for p in (tmp_path / ".sopls" / "runs").iterdir()) == [kept.path.name]
        for run_id in (going, "../runs", "nope"):
            with pytest.raises(JsonRpcException, match="runId") as bad:
                await execute(client, "sopls.deleteRun", {"runId": run_id})
            assert bad.value.code == -32602


async def test_delete_run_refuses_a_run_folder_reached_through_a_symlink(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    folder, record = RunFolder.create(elsewhere, RunOptions(idea="a clock"))
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / ".sopls").symlink_to(elsewhere / ".sopls")

    async with editor_session(workspace) as client:
        with pytest.raises(JsonRpcException, match="symbolic link") as refused:
            await execute(client, "sopls.deleteRun", {"runId": record.id})

    assert refused.value.code == -32602
    assert folder.record_path.is_file()
