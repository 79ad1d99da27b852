"""Run folders, run ids and symlinks as an attacker uses them, against a real `sopls serve`.

The model is hostile (it names paths into `.sopls/`, sopls's documents, over-long and
bidirectional names), and so is the workspace (a cloned repository can commit run folders, a
runs index and symlinks). Whatever they hold, no edit leaves the workspace and no answer is an
internal error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from company_script import DESIGN, MAIN, PRD, TASKS, fenced, script_company
from conftest import SECRET_KEY
from lsp_session import EditorClient, editor_session, execute
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from scripted_endpoint import ScriptedEndpoint

from agents.runs.run_registry import RunRegistry
from agents.runs.run_state import RunFolder, RunOptions

INVALID_PARAMS = -32602
PLANTED = ".sopls/runs/20261203-061500-a1b2c3/proposal.json"
LONG = "x" * 250 + ".py"
BIDI = "report\u202eyp.txt"


def llm_options(endpoint: ScriptedEndpoint) -> dict[str, Any]:
    return {"llm": {"baseUrl": endpoint.base_url, "apiKey": SECRET_KEY, "maxRetries": 0}}


def script_files(endpoint: ScriptedEndpoint, files: dict[str, str]) -> None:
    """The design and task list name `files` too, and the model writes each when asked."""
    names = [*DESIGN["file_list"], *files]
    endpoint.on(schema="SystemDesign").reply_json({**DESIGN, "file_list": names})
    endpoint.on(schema="TaskList").reply_json({**TASKS, "task_list": names})
    for path, text in files.items():
        endpoint.on(contains=f"Write the complete file `{path}`").reply_text(fenced(path, text))
    script_company(endpoint)


def edited_paths(client: EditorClient) -> set[Path]:
    """Where every edit the server sent would land, symlinks followed as the editor would."""
    uris: set[str] = set()
    for params in client.edits:
        uris.update((params.edit.changes or {}).keys())
        for change in params.edit.document_changes or []:
            if isinstance(change, types.TextDocumentEdit):
                uris.add(change.text_document.uri)
            elif isinstance(change, types.CreateFile | types.DeleteFile):
                uris.add(change.uri)
    return {Path(unquote(urlparse(uri).path)).resolve() for uri in uris}


def warnings(client: EditorClient) -> str:
    return "\n".join(m.message for m in client.messages)


def plant_run(
    workspace: Path,
    run_id: str,
    files: list[dict[str, Any]] | str,
    *,
    record: dict[str, Any] | str | None = None,
) -> Path:
    """A run folder as a cloned repository could commit it: any record, any proposal."""
    folder = workspace / ".sopls" / "runs" / run_id
    folder.mkdir(parents=True)
    if record is None or isinstance(record, dict):
        fields = {"id": run_id, "options": {"idea": "planted"}, "status": "completed"}
        record = json.dumps({**fields, "project_name": "proj", **(record or {})})
    (folder / "run.json").write_text(record)
    proposal = files if isinstance(files, str) else json.dumps({"files": files})
    (folder / "proposal.json").write_text(proposal)
    return folder


def create(path: str) -> dict[str, Any]:
    return {"path": path, "change": "create", "after": "print('planted')\n"}


async def invalid_params(client: EditorClient, command: str, arguments: dict[str, Any]) -> str:
    with pytest.raises(JsonRpcException) as caught:
        await execute(client, command, arguments)
    assert caught.value.code == INVALID_PARAMS, caught.value
    return str(caught.value)


async def test_a_model_cannot_propose_a_run_folder_a_document_or_an_unwritable_name(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    hostile = {
        PLANTED: json.dumps({"files": [create("../../../../escape.py")]}),
        "docs/prd.json": json.dumps({**PRD, "project_name": "pwned"}),
        LONG: MAIN,
        BIDI: "harmless\n",
    }
    script_files(endpoint, hostile)
    async with editor_session(tmp_path, initialization_options=llm_options(endpoint)) as client:
        result = await execute(
            client,
            "sopls.generateProject",
            {"idea": "a word-frequency CLI", "codeReview": False, "apply": "none"},
        )
        runs = await execute(client, "sopls.listRuns", {})

    assert result["status"] == "completed"
    paths = {f["path"] for f in result["files"]}
    assert {"main.py", "wordfreq/counter.py", "docs/prd.json"} <= paths
    assert not paths & {PLANTED, LONG, BIDI}
    assert result["documents"]["prd"]["project_name"] == "word_freq"
    reasons = result["fileErrors"]
    assert ".sopls folder" in reasons[PLANTED]
    assert "a document sopls writes itself" in reasons["docs/prd.json"]
    assert "names may have at most 237" in reasons[LONG]
    assert "U+202E (RIGHT-TO-LEFT OVERRIDE)" in reasons[BIDI]
    asked = [json.dumps(r.body["messages"], ensure_ascii=False) for r in endpoint.chat_requests]
    for path in hostile:
        assert not any(f"Write the complete file `{path}`" in text for text in asked), path
    assert [run["runId"] for run in runs] == [result["runId"]]
    assert not (tmp_path / ".sopls" / "runs" / "20261203-061500-a1b2c3").exists()


async def test_a_cloned_repository_s_run_folders_make_no_edit_outside(tmp_path: Path) -> None:
    workspace = tmp_path / "clone"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "key.py").write_text("KEY = 'sk-live'\n")
    project = workspace / "proj"
    project.mkdir(parents=True)
    (project / "out").symlink_to(outside, target_is_directory=True)
    (project / "key.py").symlink_to(outside / "key.py")
    leaving = plant_run(
        workspace, "20261203-061500-a1b2c3", [create("out/x.py"), create("key.py"), create("ok.py")]
    )
    plant_run(workspace, "20261203-061500-b2", [create("ok.py")], record={"target": str(outside)})
    plant_run(workspace, "20261203-061500-c3", [create("ok.py")], record={"project_name": "../.."})
    plant_run(workspace, "20261203-061500-d4", [create("../../etc/x")])
    plant_run(workspace, "20261203-061500-e5", [create("ok.py")], record='{"id": "20261203-06')
    plant_run(workspace, "20261203-061500-f6", [], record={"id": "20261203-061500-a1b2c3"})
    not_a_prd = {"path": "docs/prd.json", "change": "create", "after": "this is no PRD"}
    plant_run(workspace, "20261203-061500-g7", [not_a_prd])
    before = {p: p.read_bytes() for p in outside.iterdir()}

    async with editor_session(workspace) as client:
        runs = {run["runId"]: run for run in await execute(client, "sopls.listRuns", {})}
        answer = await execute(client, "sopls.applyRun", {"runId": leaving.name})
        refusals = {
            run_id: await invalid_params(client, command, {"runId": run_id})
            for run_id, command in [
                ("20261203-061500-b2", "sopls.applyRun"),
                ("20261203-061500-c3", "sopls.applyRun"),
                ("20261203-061500-b2", "sopls.getRun"),
                ("20261203-061500-d4", "sopls.getRun"),
                ("20261203-061500-e5", "sopls.getRun"),
                ("20261203-061500-f6", "sopls.applyRun"),
            ]
        }
        stored = await execute(client, "sopls.getRun", {"runId": "20261203-061500-g7"})

    assert answer["applied"] is True
    assert edited_paths(client) == {(project / "ok.py").resolve()}
    assert "out/x.py: refused, it resolves to" in answer["reason"]
    assert "key.py: refused, it resolves to" in answer["reason"]
    assert not warnings(client), "the editor that asked is answered, not shown a message"
    assert runs["20261203-061500-a1b2c3"]["status"] == "completed"
    assert runs["20261203-061500-e5"]["status"] == "unreadable"
    assert "not complete JSON" in runs["20261203-061500-e5"]["error"]["message"]
    assert runs["20261203-061500-f6"]["status"] == "unreadable"
    assert "names the project folder" in refusals["20261203-061500-b2"]
    assert "'..'" in refusals["20261203-061500-c3"]
    assert "proposal.json" in refusals["20261203-061500-d4"]
    assert "run.json" in refusals["20261203-061500-e5"]
    assert "is the record of run '20261203-061500-a1b2c3'" in refusals["20261203-061500-f6"]
    assert stored["documents"] == {}
    assert stored["files"][0]["after"] == "this is no PRD"
    assert {p: p.read_bytes() for p in outside.iterdir()} == before


@pytest.mark.parametrize("command", ["sopls.getRun", "sopls.applyRun", "sopls.resumeRun"])
async def test_run_ids_that_are_paths_are_invalid_params(command: str, tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    other, record = RunFolder.create(tmp_path / "other", RunOptions(idea="someone else's"))
    record.status = "completed"
    other.save(record)
    ids = [
        str(other.path),
        f"../../../other/.sopls/runs/{record.id}",
        "x" * 5000,
        f"{record.id}/..",
        "..",
        "",
    ]
    async with editor_session(workspace) as client:
        messages = [await invalid_params(client, command, {"runId": run_id}) for run_id in ids]
        cancel = await invalid_params(client, "sopls.cancelRun", {"runId": str(other.path)})

    for message in [*messages, cancel]:
        assert "runId" in message
        assert "a plain name" in message
        assert len(message) < 500


async def test_generate_project_into_a_folder_whose_symlinks_leave_it(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    workspace = tmp_path / "workspace"
    target = tmp_path / "target"
    outside = tmp_path / "outside"
    workspace.mkdir()
    target.mkdir()
    outside.mkdir()
    (outside / "main.py").write_text("# the user's own file\n")
    (target / "wordfreq").symlink_to(outside, target_is_directory=True)
    (target / "main.py").symlink_to(outside / "main.py")
    (target / "gone").symlink_to(outside / "not-there", target_is_directory=True)
    (target / "sys").symlink_to("/", target_is_directory=True)
    script_files(endpoint, {"gone/a.py": "A = 1\n", "sys/tmp/b.py": "B = 2\n"})

    async with editor_session(workspace, initialization_options=llm_options(endpoint)) as client:
        result = await execute(
            client,
            "sopls.generateProject",
            {"idea": "a word-frequency CLI", "codeReview": False, "targetUri": target.as_uri()},
        )

    assert result["status"] == "completed"
    edited = edited_paths(client)
    assert edited
    assert all(path.is_relative_to(target.resolve()) for path in edited), edited
    for path in ("wordfreq/counter.py", "main.py", "gone/a.py", "sys/tmp/b.py"):
        assert f"{path}: refused, it resolves to" in warnings(client)
    assert (outside / "main.py").read_text() == "# the user's own file\n"


async def test_repo_map_does_not_follow_a_symlink_out_of_the_workspace(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    outside = tmp_path / "outside"
    workspace.mkdir()
    outside.mkdir()
    (workspace / "app.py").write_text("def start_app() -> None:\n    pass\n")
    (outside / "secret.py").write_text("def private_key_material() -> str:\n    return 'x'\n")
    (workspace / "vendor_link.py").symlink_to(outside / "secret.py")

    async with editor_session(workspace) as client:
        answer = await execute(client, "sopls.repoMap", {"requirement": "private key material"})

    assert "start_app" in answer["map"]
    assert "private_key_material" not in answer["map"]
    assert "vendor_link.py" not in answer["map"]


class _Killed(Exception):
    """The test killed the server on purpose."""


async def kill_mid_run(
    workspace: Path, endpoint: ScriptedEndpoint, arguments: dict[str, Any]
) -> None:
    """Start a run and kill its server (SIGKILL) once the model has answered once."""
    with contextlib.suppress(_Killed):
        async with editor_session(
            workspace, initialization_options=llm_options(endpoint)
        ) as client:
            params = types.ExecuteCommandParams(
                command="sopls.generateProject", arguments=[arguments]
            )
            running = asyncio.ensure_future(
                client.protocol.send_request_async(types.WORKSPACE_EXECUTE_COMMAND, params)
            )
            for _ in range(600):
                if any(r.status == 200 for r in endpoint.chat_requests):
                    break
                await asyncio.sleep(0.05)
            assert client._server is not None
            client._server.kill()
            await client._server.wait()
            running.cancel()
            raise _Killed


async def test_a_target_run_is_found_by_the_next_server_after_a_kill(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    workspace = tmp_path / "workspace"
    target = tmp_path / "elsewhere" / "project"
    workspace.mkdir()
    script_company(endpoint, delay=0.3)
    arguments = {"idea": "a word-frequency CLI", "codeReview": False, "targetUri": target.as_uri()}
    await kill_mid_run(workspace, endpoint, arguments)

    (run_folder,) = (target / ".sopls" / "runs").iterdir()
    assert RunRegistry(workspace).folders() == {run_folder.name: run_folder}
    options = llm_options(endpoint)
    async with editor_session(workspace, initialization_options=options) as client:
        (listed,) = await execute(client, "sopls.listRuns", {})
        stored = await execute(client, "sopls.getRun", {"runId": run_folder.name})
        resumed = await execute(client, "sopls.resumeRun", {"runId": run_folder.name})

    assert listed["runId"] == stored["runId"] == run_folder.name
    assert listed["status"] == stored["status"] == "interrupted"
    assert resumed["status"] == "completed"
    assert (target / "main.py").resolve() in edited_paths(client)


async def test_a_hostile_runs_index_points_at_no_other_folder(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    real, record = RunFolder.create(workspace, RunOptions(idea="kept"), target=tmp_path / "t")
    other, spelled = RunFolder.create(workspace, RunOptions(idea="kept"), target=tmp_path / "u")
    foreign, _ = RunFolder.create(tmp_path / "x", RunOptions(idea="foreign"), target=tmp_path / "x")
    renamed = foreign.path.with_name("20261203-061500-ffffff")
    foreign.path.rename(renamed)
    (tmp_path / "etc" / ".sopls" / "runs" / "abc").mkdir(parents=True)
    index = {
        record.id: str(real.path),
        "abc": str(tmp_path / "etc" / ".sopls" / "runs" / "abc"),
        "runs": str(tmp_path / "etc" / ".sopls" / "runs"),
        "etc": "/etc",
        "passwd": "../../../etc/passwd",
        "20261203-061500-ffffff": str(renamed),
        "../escape": str(real.path),
        spelled.id: str(other.path).replace("/u/", "/u/../u/"),
        "listed": ["not", "a", "path"],
    }
    (workspace / ".sopls").mkdir(parents=True)
    (workspace / ".sopls" / "runs.json").write_text(json.dumps(index))

    assert RunRegistry(workspace).folders() == {
        record.id: real.path,
        "20261203-061500-ffffff": renamed,
    }
    async with editor_session(workspace) as client:
        runs = await execute(client, "sopls.listRuns", {})
    assert {run["runId"]: run["status"] for run in runs} == {
        record.id: "interrupted",
        "20261203-061500-ffffff": "unreadable",
    }

    shutil.rmtree(renamed)
    RunRegistry(workspace).add(spelled.id, other.path)
    on_disk = json.loads((workspace / ".sopls" / "runs.json").read_text())
    assert on_disk == {record.id: str(real.path), spelled.id: str(other.path)}
