"""`sopls serve` as VS Code, Neovim and Emacs see it: a project generated end to end."""

from __future__ import annotations

import json
from pathlib import Path

from company_script import COUNTER, script_company
from conftest import SECRET_KEY
from lsp_session import editor_session, execute
from lsprotocol import types
from scripted_endpoint import ScriptedEndpoint


def llm_options(endpoint: ScriptedEndpoint) -> dict:
    return {"llm": {"baseUrl": endpoint.base_url, "apiKey": SECRET_KEY, "maxRetries": 0}}


async def test_vscode_generates_a_project_with_progress_and_an_annotated_edit(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    script_company(endpoint)
    async with editor_session(tmp_path, initialization_options=llm_options(endpoint)) as client:
        result = await execute(
            client, "sopls.generateProject", {"idea": "a word-frequency CLI", "codeReview": False}
        )

        assert result["status"] == "completed"
        assert result["cost"]["calls"] == len(endpoint.chat_requests)
        files = {f["path"]: f for f in result["files"]}
        assert files["wordfreq/counter.py"]["after"] == COUNTER
        assert files["wordfreq/counter.py"]["change"] == "create"
        assert files["main.py"]["uri"] == (tmp_path / "word_freq" / "main.py").as_uri()
        assert result["documents"]["prd"]["project_name"] == "word_freq"
        assert result["applied"] is True

        (token,) = client.progress_reports
        reports = client.progress_reports[token]
        assert isinstance(reports[0], types.WorkDoneProgressBegin)
        assert reports[0].cancellable
        assert isinstance(reports[-1], types.WorkDoneProgressEnd)
        messages = [r.message for r in reports if isinstance(r, types.WorkDoneProgressReport)]
        for role in ("ProductManager", "Architect", "ProjectManager", "Engineer"):
            assert any(m and m.startswith(role) for m in messages), role
        assert any("Engineer · wordfreq/counter.py (" in (m or "") for m in messages)

        (edit,) = client.edits
        changes = edit.edit.document_changes
        assert changes is not None
        creates = [c for c in changes if isinstance(c, types.CreateFile)]
        assert {c.uri for c in creates} == {f["uri"] for f in result["files"]}
        annotations = edit.edit.change_annotations or {}
        assert annotations
        assert all(a.needs_confirmation for a in annotations.values())
        assert any(
            log.message.startswith("ProductManager/WritePRD:") for log in client.log_messages
        )
        assert not any(SECRET_KEY in log.message for log in client.log_messages)
        assert SECRET_KEY not in json.dumps(result)
        assert SECRET_KEY not in "".join(
            p.read_text() for p in (tmp_path / ".sopls").rglob("*") if p.is_file()
        )
        assert not (tmp_path / "word_freq").exists()  # the editor applies, the server never writes


async def test_a_client_token_is_used_for_progress(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    script_company(endpoint)
    async with editor_session(tmp_path, initialization_options=llm_options(endpoint)) as client:
        client.progress_reports["from-the-editor"] = []
        result = await execute(
            client,
            "sopls.generateProject",
            {"idea": "a word-frequency CLI", "apply": "none"},
            work_done_token="from-the-editor",
        )
        assert result["status"] == "completed"
        assert result["applied"] is False
        assert client.edits == []
        assert list(client.progress_reports) == ["from-the-editor"]
        assert isinstance(
            client.progress_reports["from-the-editor"][0], types.WorkDoneProgressBegin
        )


async def test_neovim_gets_the_plain_changes_map(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    script_company(endpoint)
    async with editor_session(
        tmp_path, editor="neovim", initialization_options=llm_options(endpoint)
    ) as client:
        result = await execute(client, "sopls.generateProject", {"idea": "a word-frequency CLI"})

        assert result["status"] == "completed"
        (edit,) = client.edits
        assert edit.edit.document_changes is None
        changes = edit.edit.changes or {}
        assert set(changes) == {f["uri"] for f in result["files"]}
        main = changes[(tmp_path / "word_freq" / "main.py").as_uri()]
        assert main[0].new_text == next(
            f["after"] for f in result["files"] if f["path"] == "main.py"
        )


async def test_emacs_gets_no_file_creation_and_is_told(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    script_company(endpoint)
    async with editor_session(
        tmp_path, editor="emacs", initialization_options=llm_options(endpoint)
    ) as client:
        result = await execute(client, "sopls.generateProject", {"idea": "a word-frequency CLI"})

        assert result["status"] == "completed"
        assert result["applied"] is False
        for edit in client.edits:
            assert not [
                c for c in edit.edit.document_changes or [] if isinstance(c, types.CreateFile)
            ]
        warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
        assert any("cannot create files" in m and "main.py" in m for m in warnings)
        assert {f["path"] for f in result["files"]} >= {"main.py", "wordfreq/counter.py"}


async def test_settings_from_workspace_configuration(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    script_company(endpoint)
    configuration = {"sopls": {"llm": {"baseUrl": endpoint.base_url, "model": "house-model"}}}
    async with editor_session(
        tmp_path,
        configuration=configuration,
        env={"OPENAI_API_KEY": SECRET_KEY},
    ) as client:
        result = await execute(client, "sopls.generateProject", {"idea": "x", "implement": False})
        assert result["status"] == "completed"
        assert {r.body["model"] for r in endpoint.chat_requests} == {"house-model"}
        assert endpoint.chat_requests[0].headers["authorization"] == f"Bearer {SECRET_KEY}"


async def test_invalid_settings_are_reported_and_the_server_goes_on(tmp_path: Path) -> None:
    options = {"llm": {"structuredOutput": "telepathy"}}
    async with editor_session(tmp_path, initialization_options=options) as client:
        runs = await execute(client, "sopls.listRuns", {})
        assert runs == []
        errors = [m.message for m in client.messages if m.type == types.MessageType.Error]
        assert any("structured_output" in m for m in errors)


async def test_changed_configuration_is_used_by_the_next_run(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    script_company(endpoint)
    async with editor_session(tmp_path, initialization_options=llm_options(endpoint)) as client:
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"sopls": {"llm": {"model": "model-b"}}})
        )
        result = await execute(client, "sopls.generateProject", {"idea": "x", "implement": False})
        assert result["status"] == "completed"
        assert {r.body["model"] for r in endpoint.chat_requests} == {"model-b"}


async def test_a_failed_run_says_in_one_sentence_where_and_why_and_keeps_the_answer(
    endpoint: ScriptedEndpoint, tmp_path: Path
) -> None:
    endpoint.on(schema="TaskList").reply_text('{"logic_analysis": ["not an object"]}')
    script_company(endpoint)
    async with editor_session(tmp_path, initialization_options=llm_options(endpoint)) as client:
        shown = await execute(client, "sopls.generateProject", {"idea": "a word-frequency CLI"})
        quiet = await execute(
            client, "sopls.generateProject", {"idea": "a word counter", "showFailure": False}
        )
        errors = [m.message for m in client.messages if m.type == types.MessageType.Error]

    for result in (shown, quiet):
        assert result["status"] == "failed"
        error = result["error"]
        assert (error["role"], error["action"]) == ("ProjectManager", "WriteTasks")
        assert error["message"] == (
            "the model's task list did not match the expected shape after 3 tries"
        )
        assert "not an object" in Path(error["answer"]).read_text()  # noqa: ASYNC240
    # Shown once, for the run that asked for it, as one sentence without the validation dump.
    assert errors == [
        f"sopls: run {shown['runId']} failed in ProjectManager/WriteTasks: the model's task list "
        "did not match the expected shape after 3 tries."
    ]
