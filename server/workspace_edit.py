"""Turn a finished run's proposal into the WorkspaceEdit a given client can apply.

Clients differ in what a WorkspaceEdit may hold: VS Code takes resource operations and change
annotations (so the user confirms each file), Emacs takes `documentChanges` but no file
operations, Neovim only the plain `changes` map. The edit is negotiated from the client's
capabilities so that nothing is sent the client did not declare; whatever cannot be expressed is
reported per path instead, for a message to the user.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from lsprotocol import types

from agents.edits.paths import UnsafePathError, proposal_path
from agents.edits.proposal import ChangeKind, FileChange, Proposal

DEFAULT_ROLE = "sopls"

# LSP knows only these line terminators; str.splitlines would also split on \f, \x1c, \u2028
# and friends, which would put every later position on the wrong line for the client.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")

_DocumentChange = types.TextDocumentEdit | types.CreateFile | types.RenameFile | types.DeleteFile


@dataclass(frozen=True)
class EditPlan:
    """What will be sent, and why the rest was left out (for a window/showMessage)."""

    edit: types.WorkspaceEdit | None
    sent: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def build_workspace_edit(
    proposal: Proposal,
    root: Path,
    capabilities: types.ClientCapabilities,
    *,
    confirm: bool,
    paths: Collection[str] | None = None,
    open_versions: Mapping[str, int] | None = None,
) -> EditPlan:
    """Build the edit for `proposal` (or its `paths`) under the absolute folder `root`.

    `confirm` asks the client to let the user confirm each file, where annotations are
    supported. `open_versions` maps the URIs of documents the client has open to their version,
    so a stale buffer makes the client refuse the edit instead of corrupting it.
    Raises UnknownPathError when `paths` names a path the proposal does not hold.
    """
    selected = proposal if paths is None else proposal.subset(paths)
    files, refused = _contained([against_disk(f, root) for f in selected.files], root)
    edit_capabilities = _workspace_edit_capabilities(capabilities)
    if edit_capabilities.document_changes:
        plan = _document_changes_plan(files, root, edit_capabilities, confirm, open_versions or {})
    else:
        plan = _changes_map_plan(files, root)
    return replace(plan, skipped={**refused, **plan.skipped}) if refused else plan


def against_disk(change: FileChange, root: Path) -> FileChange:
    """A new file whose target exists already (the same idea generated into the same folder
    again) is a change of what is on disk, so it is reviewed and applied as a real diff instead
    of a creation the editor refuses. Only a regular file inside `root` is read."""
    if change.change is not ChangeKind.CREATE:
        return change
    target = root / change.path
    try:
        if target.is_symlink() or not target.is_file():
            return change
        if not target.resolve().is_relative_to(root.resolve()):
            return change
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return change
    return change.model_copy(update={"change": ChangeKind.MODIFY, "before": text})


def _contained(files: Sequence[FileChange], root: Path) -> tuple[list[FileChange], dict[str, str]]:
    """The changes whose paths stay inside `root` on disk now, and why the others are refused.

    A stored proposal is as open to tampering as any file of the workspace, and the disk may
    have changed since the run: a symlink that leaves the root would carry the edit outside.
    """
    kept: list[FileChange] = []
    refused: dict[str, str] = {}
    for change in files:
        try:
            relative = proposal_path(change.path, root)
        except UnsafePathError as exc:
            refused[change.path] = f"refused, {exc.reason}"
            continue
        kept.append(
            change if relative == change.path else change.model_copy(update={"path": relative})
        )
    return kept, refused


def text_edits(before: str, after: str) -> list[types.TextEdit]:
    """The line hunks that turn `before` into `after`, as edits in `before`'s UTF-16 positions.

    Only differing lines are touched, so the client keeps cursors, folds and undo history for
    the rest of the file. The edits do not overlap and are in document order.
    """
    old_lines = _split_lines(before)
    new_lines = _split_lines(after)
    # autojunk would treat frequent lines (blank ones, closing brackets) as noise in longer
    # files and give larger hunks than needed.
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    return [
        types.TextEdit(
            range=types.Range(
                start=_line_start(old_lines, first),
                end=_line_start(old_lines, last),
            ),
            new_text="".join(new_lines[new_first:new_last]),
        )
        for tag, first, last, new_first, new_last in matcher.get_opcodes()
        if tag != "equal"
    ]


def _split_lines(text: str) -> list[str]:
    """`text` split after each LSP line terminator (\\n, \\r\\n, \\r), keeping the terminators."""
    return _LINE.findall(text)


def _utf16_length(text: str) -> int:
    """Length of `text` in UTF-16 code units, the LSP default unit for a character offset."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def _line_start(lines: Sequence[str], index: int) -> types.Position:
    """Where line `index` starts; past an unterminated last line that is the document's end."""
    if index < len(lines) or not lines or lines[-1].endswith(("\n", "\r")):
        return types.Position(line=index, character=0)
    last = len(lines) - 1
    return types.Position(line=last, character=_utf16_length(lines[last]))


def _workspace_edit_capabilities(
    capabilities: types.ClientCapabilities,
) -> types.WorkspaceEditClientCapabilities:
    workspace = capabilities.workspace
    if workspace is None or workspace.workspace_edit is None:
        return types.WorkspaceEditClientCapabilities()
    return workspace.workspace_edit


def _document_changes_plan(
    files: Sequence[FileChange],
    root: Path,
    capabilities: types.WorkspaceEditClientCapabilities,
    confirm: bool,
    open_versions: Mapping[str, int],
) -> EditPlan:
    operations = set(capabilities.resource_operations or ())
    annotate = capabilities.change_annotation_support is not None
    document_changes: list[_DocumentChange] = []
    annotations: dict[str, types.ChangeAnnotation] = {}
    sent: list[str] = []
    skipped: dict[str, str] = {}

    for change in files:
        uri = (root / change.path).as_uri()
        annotation_id = _annotation_id(change) if annotate else None
        if change.change is ChangeKind.CREATE:
            if types.ResourceOperationKind.Create not in operations:
                skipped[change.path] = (
                    "the client cannot create files (no 'create' resource operation)"
                )
                continue
            document_changes.append(
                types.CreateFile(
                    uri=uri,
                    options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False),
                    annotation_id=annotation_id,
                )
            )
            document_changes.append(
                _text_document_edit(uri, None, [_insert_all(change.after or "")], annotation_id)
            )
        elif change.change is ChangeKind.MODIFY:
            edits = text_edits(change.before or "", change.after or "")
            if not edits:
                skipped[change.path] = "the proposed text is the same as the current text"
                continue
            document_changes.append(
                _text_document_edit(uri, open_versions.get(uri), edits, annotation_id)
            )
        else:
            if types.ResourceOperationKind.Delete not in operations:
                skipped[change.path] = (
                    "the client cannot delete files (no 'delete' resource operation)"
                )
                continue
            document_changes.append(types.DeleteFile(uri=uri, annotation_id=annotation_id))
        if annotation_id is not None:
            annotations[annotation_id] = _annotation(change, confirm)
        sent.append(change.path)

    if not document_changes:
        return EditPlan(edit=None, sent=sent, skipped=skipped)
    edit = types.WorkspaceEdit(
        document_changes=document_changes,
        change_annotations=annotations or None,
    )
    return EditPlan(edit=edit, sent=sent, skipped=skipped)


def _changes_map_plan(files: Sequence[FileChange], root: Path) -> EditPlan:
    """The plain `changes` map: text edits only, so a new file is one insert into a new buffer."""
    changes: dict[str, list[types.TextEdit]] = {}
    sent: list[str] = []
    skipped: dict[str, str] = {}
    for change in files:
        if change.change is ChangeKind.DELETE:
            skipped[change.path] = (
                "the client cannot delete files (it does not support 'documentChanges')"
            )
            continue
        if change.change is ChangeKind.CREATE:
            edits = [_insert_all(change.after or "")]
        else:
            edits = text_edits(change.before or "", change.after or "")
            if not edits:
                skipped[change.path] = "the proposed text is the same as the current text"
                continue
        changes[(root / change.path).as_uri()] = edits
        sent.append(change.path)
    if not changes:
        return EditPlan(edit=None, sent=sent, skipped=skipped)
    return EditPlan(edit=types.WorkspaceEdit(changes=changes), sent=sent, skipped=skipped)


def _insert_all(text: str) -> types.TextEdit:
    origin = types.Position(line=0, character=0)
    return types.TextEdit(range=types.Range(start=origin, end=origin), new_text=text)


def _text_document_edit(
    uri: str, version: int | None, edits: list[types.TextEdit], annotation_id: str | None
) -> types.TextDocumentEdit:
    document = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    if annotation_id is None:
        return types.TextDocumentEdit(text_document=document, edits=edits)
    annotated = [
        types.AnnotatedTextEdit(
            range=edit.range, new_text=edit.new_text, annotation_id=annotation_id
        )
        for edit in edits
    ]
    return types.TextDocumentEdit(text_document=document, edits=annotated)


def _annotation_id(change: FileChange) -> str:
    return f"{change.role or DEFAULT_ROLE}:{change.path}"


def _annotation(change: FileChange, confirm: bool) -> types.ChangeAnnotation:
    role = change.role or DEFAULT_ROLE
    verb = {
        ChangeKind.CREATE: "creates",
        ChangeKind.MODIFY: "modifies",
        ChangeKind.DELETE: "deletes",
    }[change.change]
    return types.ChangeAnnotation(
        label=f"{role}: {change.path}",
        needs_confirmation=confirm,
        description=f"{role} {verb} {change.path}",
    )
