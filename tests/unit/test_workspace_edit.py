"""Proposals as WorkspaceEdits: negotiated per client, minimal hunks, exact round trips."""

import itertools
import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest
from lsprotocol import converters, types

from agents.edits.proposal import ChangeKind, FileChange, Proposal, UnknownPathError
from server.workspace_edit import EditPlan, build_workspace_edit, text_edits

NEW_TEXT = "def main() -> None:\n    print('hi')\n"
OLD_APP = "import os\n\nVALUE = 1\n\n\ndef run() -> int:\n    return VALUE\n"
NEW_APP = "import os\n\nVALUE = 2\n\n\ndef run() -> int:\n    return VALUE + 1\n"
DELETED_TEXT = "obsolete\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "my project"


@pytest.fixture
def proposal() -> Proposal:
    return Proposal(
        files=[
            FileChange(
                path="src/new.py", change=ChangeKind.CREATE, after=NEW_TEXT, role="Engineer"
            ),
            FileChange(
                path="src/app.py",
                change=ChangeKind.MODIFY,
                before=OLD_APP,
                after=NEW_APP,
                role="QaEngineer",
            ),
            FileChange(path="old.txt", change=ChangeKind.DELETE, before=DELETED_TEXT),
        ]
    )


def vscode_capabilities() -> types.ClientCapabilities:
    return types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            apply_edit=True,
            workspace_edit=types.WorkspaceEditClientCapabilities(
                document_changes=True,
                resource_operations=[
                    types.ResourceOperationKind.Create,
                    types.ResourceOperationKind.Rename,
                    types.ResourceOperationKind.Delete,
                ],
                failure_handling=types.FailureHandlingKind.TextOnlyTransactional,
                normalizes_line_endings=True,
                change_annotation_support=types.ChangeAnnotationsSupportOptions(
                    groups_on_label=True
                ),
            ),
        )
    )


def neovim_capabilities() -> types.ClientCapabilities:
    return types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            apply_edit=True,
            workspace_edit=types.WorkspaceEditClientCapabilities(
                resource_operations=[
                    types.ResourceOperationKind.Rename,
                    types.ResourceOperationKind.Create,
                    types.ResourceOperationKind.Delete,
                ],
            ),
        )
    )


def emacs_capabilities() -> types.ClientCapabilities:
    return types.ClientCapabilities(
        workspace=types.WorkspaceClientCapabilities(
            apply_edit=True,
            workspace_edit=types.WorkspaceEditClientCapabilities(document_changes=True),
        )
    )


def span(start_line: int, start_char: int, end_line: int, end_char: int) -> types.Range:
    return types.Range(
        start=types.Position(line=start_line, character=start_char),
        end=types.Position(line=end_line, character=end_char),
    )


def _offset(text: str, position: types.Position) -> int:
    """The string index of an LSP position, counting UTF-16 code units; invalid ones fail."""
    line_starts = [0]
    index = 0
    while index < len(text):
        if text.startswith("\r\n", index):
            index += 2
            line_starts.append(index)
            continue
        index += 1
        if text[index - 1] in "\r\n":
            line_starts.append(index)
    assert position.line < len(line_starts), f"line {position.line} is past the document"
    index = line_starts[position.line]
    units = 0
    while units < position.character:
        assert index < len(text), f"{position} is past the document"
        assert text[index] not in "\r\n", f"{position} is past the line"
        units += 2 if ord(text[index]) > 0xFFFF else 1
        index += 1
    assert units == position.character, f"{position} splits a surrogate pair"
    return index


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    """Apply non-overlapping edits the way a client does: all positions refer to `text`."""
    spans = sorted(
        ((_offset(text, edit.range.start), _offset(text, edit.range.end), edit) for edit in edits),
        key=lambda item: item[0],
    )
    for (_, previous_end, _), (next_start, _, _) in itertools.pairwise(spans):
        assert previous_end <= next_start, "edits overlap"
    for start, end, edit in reversed(spans):
        assert start <= end
        text = text[:start] + edit.new_text + text[end:]
    return text


def uri(root: Path, path: str) -> str:
    return (root / path).as_uri()


def annotated(range_: types.Range, new_text: str, annotation_id: str) -> types.AnnotatedTextEdit:
    return types.AnnotatedTextEdit(range=range_, new_text=new_text, annotation_id=annotation_id)


APP_HUNKS = [
    types.TextEdit(range=span(2, 0, 3, 0), new_text="VALUE = 2\n"),
    types.TextEdit(range=span(6, 0, 7, 0), new_text="    return VALUE + 1\n"),
]


@pytest.mark.parametrize("confirm", [True, False])
def test_vscode_gets_resource_operations_hunks_and_annotations(
    proposal: Proposal, root: Path, confirm: bool
) -> None:
    plan = build_workspace_edit(proposal, root, vscode_capabilities(), confirm=confirm)

    new_id, app_id, old_id = "Engineer:src/new.py", "QaEngineer:src/app.py", "sopls:old.txt"
    expected = types.WorkspaceEdit(
        document_changes=[
            types.CreateFile(
                uri=uri(root, "src/new.py"),
                options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False),
                annotation_id=new_id,
            ),
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=uri(root, "src/new.py"), version=None
                ),
                edits=[annotated(span(0, 0, 0, 0), NEW_TEXT, new_id)],
            ),
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(
                    uri=uri(root, "src/app.py"), version=None
                ),
                edits=[annotated(hunk.range, hunk.new_text, app_id) for hunk in APP_HUNKS],
            ),
            types.DeleteFile(uri=uri(root, "old.txt"), annotation_id=old_id),
        ],
        change_annotations={
            new_id: types.ChangeAnnotation(
                label="Engineer: src/new.py",
                needs_confirmation=confirm,
                description="Engineer creates src/new.py",
            ),
            app_id: types.ChangeAnnotation(
                label="QaEngineer: src/app.py",
                needs_confirmation=confirm,
                description="QaEngineer modifies src/app.py",
            ),
            old_id: types.ChangeAnnotation(
                label="sopls: old.txt",
                needs_confirmation=confirm,
                description="sopls deletes old.txt",
            ),
        },
    )
    assert plan == EditPlan(edit=expected, sent=["src/new.py", "src/app.py", "old.txt"], skipped={})


def test_neovim_gets_the_changes_map_and_the_delete_is_skipped(
    proposal: Proposal, root: Path
) -> None:
    plan = build_workspace_edit(proposal, root, neovim_capabilities(), confirm=True)

    assert plan == EditPlan(
        edit=types.WorkspaceEdit(
            changes={
                uri(root, "src/new.py"): [
                    types.TextEdit(range=span(0, 0, 0, 0), new_text=NEW_TEXT)
                ],
                uri(root, "src/app.py"): APP_HUNKS,
            }
        ),
        sent=["src/new.py", "src/app.py"],
        skipped={
            "old.txt": "the client cannot delete files (it does not support 'documentChanges')"
        },
    )


def test_emacs_gets_plain_text_document_edits_without_file_operations(
    proposal: Proposal, root: Path
) -> None:
    plan = build_workspace_edit(proposal, root, emacs_capabilities(), confirm=True)

    assert plan == EditPlan(
        edit=types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=uri(root, "src/app.py"), version=None
                    ),
                    edits=APP_HUNKS,
                )
            ]
        ),
        sent=["src/app.py"],
        skipped={
            "src/new.py": "the client cannot create files (no 'create' resource operation)",
            "old.txt": "the client cannot delete files (no 'delete' resource operation)",
        },
    )


def test_a_client_without_workspace_capabilities_gets_the_changes_map(
    proposal: Proposal, root: Path
) -> None:
    plan = build_workspace_edit(
        proposal, root, types.ClientCapabilities(), confirm=False, paths=["src/app.py"]
    )
    assert plan.edit == types.WorkspaceEdit(changes={uri(root, "src/app.py"): APP_HUNKS})


def test_paths_restrict_the_edit_in_the_proposals_order(proposal: Proposal, root: Path) -> None:
    plan = build_workspace_edit(
        proposal, root, vscode_capabilities(), confirm=True, paths=["old.txt", "./src/new.py"]
    )
    assert plan.sent == ["src/new.py", "old.txt"]
    assert plan.edit is not None
    assert plan.edit.change_annotations is not None
    assert list(plan.edit.change_annotations) == ["Engineer:src/new.py", "sopls:old.txt"]
    assert [type(change) for change in plan.edit.document_changes or []] == [
        types.CreateFile,
        types.TextDocumentEdit,
        types.DeleteFile,
    ]


def test_an_unknown_path_raises(proposal: Proposal, root: Path) -> None:
    with pytest.raises(UnknownPathError, match=r"missing\.py"):
        build_workspace_edit(
            proposal, root, vscode_capabilities(), confirm=True, paths=["missing.py"]
        )


def test_nothing_left_gives_no_edit(proposal: Proposal, root: Path) -> None:
    assert build_workspace_edit(
        proposal, root, neovim_capabilities(), confirm=True, paths=["old.txt"]
    ) == EditPlan(
        edit=None,
        sent=[],
        skipped={
            "old.txt": "the client cannot delete files (it does not support 'documentChanges')"
        },
    )
    empty = build_workspace_edit(Proposal(), root, vscode_capabilities(), confirm=True)
    assert empty == EditPlan(edit=None, sent=[], skipped={})


def test_an_unchanged_modify_is_skipped(root: Path) -> None:
    same = Proposal(
        files=[FileChange(path="a.py", change=ChangeKind.MODIFY, before="x\n", after="x\n")]
    )
    for capabilities in (vscode_capabilities(), neovim_capabilities()):
        plan = build_workspace_edit(same, root, capabilities, confirm=True)
        assert plan == EditPlan(
            edit=None,
            sent=[],
            skipped={"a.py": "the proposed text is the same as the current text"},
        )


def _uris(edit: types.WorkspaceEdit | None) -> set[str]:
    if edit is None:
        return set()
    if edit.changes is not None:
        return set(edit.changes)
    found: set[str] = set()
    for change in edit.document_changes or []:
        if isinstance(change, types.TextDocumentEdit):
            found.add(change.text_document.uri)
        elif isinstance(change, types.CreateFile | types.DeleteFile):
            found.add(change.uri)
    return found


@pytest.mark.parametrize("editor", [vscode_capabilities, neovim_capabilities, emacs_capabilities])
def test_paths_that_leave_the_root_on_disk_are_skipped_with_the_reason(
    tmp_path: Path, editor: Callable[[], types.ClientCapabilities]
) -> None:
    """A stored proposal is checked again when applied: the disk may have changed, or the
    proposal may have been planted."""
    root = tmp_path / "project"
    outside = tmp_path / "outside"
    (root / ".git").mkdir(parents=True)
    outside.mkdir()
    (outside / "real.py").write_text("x = 1\n")
    (root / "linked_dir").symlink_to(outside, target_is_directory=True)
    (root / "linked_file.py").symlink_to(outside / "real.py")
    (root / "dangling.py").symlink_to(outside / "not_yet.py")
    (root / "to_root").symlink_to("/", target_is_directory=True)
    (root / "hooks").symlink_to(root / ".git", target_is_directory=True)
    leaving = ["linked_dir/a.py", "linked_file.py", "dangling.py", "to_root/tmp/b.py"]
    proposal = Proposal(
        files=[
            *(FileChange(path=p, change=ChangeKind.CREATE, after="x\n") for p in leaving),
            FileChange(path="hooks/pre-commit", change=ChangeKind.CREATE, after="x\n"),
            FileChange(path="ok.py", change=ChangeKind.MODIFY, before="x\n", after="y\n"),
        ]
    )

    plan = build_workspace_edit(proposal, root, editor(), confirm=True)

    assert plan.sent == ["ok.py"]
    assert _uris(plan.edit) == {uri(root, "ok.py")}
    assert set(plan.skipped) == {*leaving, "hooks/pre-commit"}
    for path in leaving:
        assert plan.skipped[path].startswith("refused, it resolves to ")
        assert "outside" in plan.skipped[path]
    assert ".git folder" in plan.skipped["hooks/pre-commit"]


def test_a_constructed_change_is_checked_like_a_loaded_one(root: Path) -> None:
    sneaked = FileChange.model_construct(
        path="a/../../x.py", change=ChangeKind.CREATE, before=None, after="x", role=""
    )
    plan = build_workspace_edit(
        Proposal.model_construct(files=[sneaked]), root, vscode_capabilities(), confirm=True
    )
    assert plan == EditPlan(
        edit=None, sent=[], skipped={"a/../../x.py": "refused, it contains a '..' component"}
    )


def test_open_documents_carry_their_version(proposal: Proposal, root: Path) -> None:
    versions = {uri(root, "src/app.py"): 7, uri(root, "unrelated.py"): 3}
    plan = build_workspace_edit(
        proposal, root, emacs_capabilities(), confirm=False, open_versions=versions
    )
    assert plan.edit is not None
    [document_edit] = plan.edit.document_changes or []
    assert isinstance(document_edit, types.TextDocumentEdit)
    assert document_edit.text_document == types.OptionalVersionedTextDocumentIdentifier(
        uri=uri(root, "src/app.py"), version=7
    )


def test_one_changed_line_in_a_long_file_is_one_edit_of_one_line() -> None:
    lines = [f"line {number}\n" if number % 5 else "\n" for number in range(200)]
    changed = list(lines)
    changed[117] = "line 117 changed\n"
    before, after = "".join(lines), "".join(changed)

    assert text_edits(before, after) == [
        types.TextEdit(range=span(117, 0, 118, 0), new_text="line 117 changed\n")
    ]


def test_a_last_line_without_newline_ends_at_its_utf16_length() -> None:
    before = "first\nsmile 😀"
    after = "first\nsmile 😀!"
    assert text_edits(before, after) == [
        types.TextEdit(range=span(1, 0, 1, 8), new_text="smile 😀!")
    ]
    assert text_edits("a\n", "a\nb") == [types.TextEdit(range=span(1, 0, 1, 0), new_text="b")]
    assert text_edits("", "x") == [types.TextEdit(range=span(0, 0, 0, 0), new_text="x")]
    assert text_edits("x", "") == [types.TextEdit(range=span(0, 0, 0, 1), new_text="")]


def test_only_lsp_line_terminators_split_lines() -> None:
    # A form feed is a line break for str.splitlines but not for an LSP client.
    before = "a\fb\nc\r\nd\re\n"
    after = "a\fb\nc\r\nD\re\n"
    assert text_edits(before, after) == [types.TextEdit(range=span(2, 0, 3, 0), new_text="D\r")]


_LINE_POOL = [
    "",
    "x",
    "pass",
    "    return value",
    "# 😀 party 🎉",
    "naïve café",
    "tab\there",
    "form\ffeed",
    "\u2028separator",
]
_ENDINGS = ["\n", "\n", "\n", "\r\n", "\r"]


def _random_lines(rng: random.Random, count: int) -> list[str]:
    return [rng.choice(_LINE_POOL) + rng.choice(_ENDINGS) for _ in range(count)]


def _random_text_pair(rng: random.Random) -> tuple[str, str]:
    before_lines = _random_lines(rng, rng.randint(0, 12))
    after_lines = list(before_lines)
    for _ in range(rng.randint(0, 4)):
        position = rng.choice(["start", "middle", "end"])
        index = {
            "start": 0,
            "middle": len(after_lines) // 2,
            "end": len(after_lines),
        }[position]
        operation = rng.choice(["insert", "delete", "replace"])
        if operation == "insert":
            after_lines[index:index] = _random_lines(rng, rng.randint(1, 3))
        elif operation == "delete":
            del after_lines[index : index + rng.randint(1, 3)]
        else:
            after_lines[index : index + rng.randint(1, 2)] = _random_lines(rng, rng.randint(1, 2))
    before, after = "".join(before_lines), "".join(after_lines)
    if rng.random() < 0.3:
        before = before.rstrip("\r\n")
    if rng.random() < 0.3:
        after = after.rstrip("\r\n")
    if rng.random() < 0.1:
        after = ""
    if rng.random() < 0.2:
        # Character-level damage gives odd boundaries, e.g. a lone \r meeting a \n.
        cut = rng.randint(0, len(after))
        after = after[:cut] + rng.choice(["\r", "\n", "😀", "z"]) + after[cut:]
    return before, after


def test_applying_the_edits_always_gives_the_new_text() -> None:
    rng = random.Random(20240611)
    fixed = [
        ("", ""),
        ("", "new\n"),
        ("old\n", ""),
        ("a\nb\nc\n", "start\na\nb\nc\n"),
        ("a\nb\nc\n", "a\nb\nmiddle\nc\n"),
        ("a\nb\nc", "a\nb\nc\nend"),
        ("a\r\nb\r\n", "a\r\nB\r\n"),
        ("😀\n😀", "😀\n😀😀"),
        ("no newline", "no newline\n"),
        ("a\r", "a\r\n"),
    ]
    pairs = fixed + [_random_text_pair(rng) for _ in range(3000)]
    for before, after in pairs:
        edits = text_edits(before, after)
        assert apply_edits(before, edits) == after, (before, after, edits)
        assert (edits == []) == (before == after)


def test_the_edit_serialises_with_the_protocol_converter(proposal: Proposal, root: Path) -> None:
    plan = build_workspace_edit(proposal, root, vscode_capabilities(), confirm=True)
    converter = converters.get_converter()

    data = converter.unstructure(plan.edit)
    payload = json.loads(json.dumps(data))

    assert set(payload) == {"documentChanges", "changeAnnotations"}
    assert [change.get("kind") for change in payload["documentChanges"]] == [
        "create",
        None,
        None,
        "delete",
    ]
    assert payload["documentChanges"][0] == {
        "kind": "create",
        "uri": uri(root, "src/new.py"),
        "options": {"overwrite": False, "ignoreIfExists": False},
        "annotationId": "Engineer:src/new.py",
    }
    assert payload["documentChanges"][2]["textDocument"] == {
        "uri": uri(root, "src/app.py"),
        "version": None,
    }
    assert payload["documentChanges"][2]["edits"][0] == {
        "range": {"start": {"line": 2, "character": 0}, "end": {"line": 3, "character": 0}},
        "newText": "VALUE = 2\n",
        "annotationId": "QaEngineer:src/app.py",
    }
    assert payload["changeAnnotations"]["sopls:old.txt"] == {
        "label": "sopls: old.txt",
        "needsConfirmation": True,
        "description": "sopls deletes old.txt",
    }


def test_the_changes_map_serialises_with_the_protocol_converter(
    proposal: Proposal, root: Path
) -> None:
    plan = build_workspace_edit(proposal, root, neovim_capabilities(), confirm=True)
    payload = json.loads(json.dumps(converters.get_converter().unstructure(plan.edit)))
    assert set(payload) == {"changes"}
    assert payload["changes"][uri(root, "src/new.py")] == [
        {
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
            "newText": NEW_TEXT,
        }
    ]
