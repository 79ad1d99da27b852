"""The Engineer: writes every file of the task list in dependency order, reviews, summarizes.

Files are written concurrently as soon as the files they use are written (their reviews run
alongside; a rewrite after review is caught by the summary if it changed an interface). Each
prompt holds the design, the file's task and only the *interfaces* of the files it uses, so a
prompt grows with what its file needs, not with the size of the project.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Any

import prompts
from agents.company.actions.debug_error import BugReport
from agents.company.actions.documents import WriteTasks
from agents.company.actions.report_bug import BugFeedback
from agents.company.actions.review_code import ReviewCode
from agents.company.actions.summarize_code import CodeSummary, SummarizeCode
from agents.company.actions.write_code import CodeChange, CodeJob, FeedbackKind, WriteCode
from agents.company.documents import SystemDesign, TaskList
from agents.company.repository_change import LEGACY_CODE_BUDGET, RepositoryChange
from agents.company.roles.company_role import CompanyRole
from agents.edits.code_blocks import NoCodeError
from agents.edits.paths import safe_relative_path
from agents.errors import SoplsError
from agents.framework.file_steps import FileSteps
from agents.framework.message import Message
from agents.framework.scheduling import dependency_graph, run_in_dependency_order
from agents.llm.concurrency import background
from repo_index.outline import interfaces

_FILE_JOB = "engineer/file_job.md"  # the prompt pieces put together here


class Engineer(CompanyRole):
    profile = "Engineer"
    prompt_folder = "engineer"

    def __init__(
        self,
        *,
        code_review: bool = True,
        code_review_k: int = 2,
        max_auto_summarize_code: int = 0,
        max_summarize_rounds: int = 5,
        legacy_budget: int = LEGACY_CODE_BUDGET,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            actions=[WriteCode, ReviewCode, SummarizeCode],
            watch=[WriteTasks, BugFeedback],
            **kwargs,
        )
        self.legacy_budget = legacy_budget
        self.code_review = code_review
        self.code_review_k = code_review_k
        self.max_auto_summarize_code = max_auto_summarize_code
        self.max_summarize_rounds = max_summarize_rounds
        self.file_errors: dict[str, str] = {}
        self._write = WriteCode()
        self._review = ReviewCode()
        self._summarize = SummarizeCode()

    def _plan(self) -> _FilePlan:
        """Files in task order, what each holds, and what each uses.

        A path that would leave the project is refused here, once, with the reason; the other
        files go on without it.
        """
        design = self.context.documents.require(SystemDesign)
        tasks = self.context.documents.require(TaskList)
        order: list[str] = []
        for raw in dict.fromkeys([*tasks.task_list, *design.file_list]):
            if not raw.strip():
                continue  # an empty list entry names no file
            try:
                order.append(safe_relative_path(raw))
            except SoplsError as exc:
                if raw not in self.file_errors:
                    self.file_errors[raw] = str(exc)
                    self.context.emit(self.name, "WriteCode", "failed", path=raw, detail=str(exc))
        holds: dict[str, str] = {}
        uses: dict[str, list[str]] = {}
        for analysis in tasks.logic_analysis:
            with suppress(SoplsError):
                path = safe_relative_path(analysis.path)
                holds[path] = analysis.holds
                uses[path] = [u for u in analysis.uses if u in order]
        return _FilePlan(order, holds, dependency_graph(order, uses))

    async def react(self) -> Message | None:
        if self.workspace.is_repository:
            return await self._react_in_repository()
        reports = [m.payload for m in self.news if isinstance(m.payload, BugReport)]
        plan = self._plan()
        order = plan.order
        pass_ = _Pass(order, {}, "")
        if reports:
            feedback = {fix.path: fix.debug_logs for r in reports for fix in r.fixes}
            pass_ = _Pass([p for p in order if p in feedback], feedback, "debug_logs")
        summary = await self._summarize_rounds(plan, pass_)
        written = [p for p in order if self.workspace.proposal.text_of(p) is not None]
        return self._announce(CodeChange(files=written, summary=summary, errors=self.file_errors))

    async def _react_in_repository(self) -> Message:
        """A feature's task list, a bug report, or QA's report on a change: the existing files are
        changed in place."""
        feedback = ""
        for message in self.news:
            if isinstance(message.payload, BugFeedback):
                feedback = message.payload.test_output
            elif isinstance(message.payload, BugReport):
                feedback = "\n\n".join(f.debug_logs for f in message.payload.fixes)
        change = RepositoryChange(self.context, self.name, self.legacy_budget)
        files = await change.apply(self.action_context(), self._design(), feedback)
        self.file_errors = change.file_errors
        return self._announce(CodeChange(files=files, summary="", errors=self.file_errors))

    def _design(self) -> str:
        """For a feature, the design and task list this Engineer was given; "" for a bug (the
        documents a repository keeps from earlier features are not this change's)."""
        if not any(isinstance(m.payload, TaskList) for m in self.memory):
            return ""
        documents = self.context.documents
        return "\n\n".join(
            [
                documents.require(SystemDesign).to_markdown(),
                documents.require(TaskList).to_markdown(),
            ]
        )

    def _announce(self, change: CodeChange) -> Message:
        return self.announce(change.model_dump_json(indent=2), WriteCode, change)

    async def _write_files(
        self, pass_: _Pass, plan: _FilePlan, all_written: Callable[[], None]
    ) -> None:
        """Write the pass's targets concurrently, each after the targets it depends on.

        `all_written` is called once every target has been written (or has failed), while the
        last reviews may still go on.
        """
        targets = pass_.targets
        local = {p: [d for d in plan.graph.get(p, []) if d in targets] for p in targets}
        steps = FileSteps(self.context, self.name, "WriteCode", len(local), self.file_errors)
        written: set[str] = set()

        def mark(path: str) -> None:
            written.add(path)
            if len(written) == len(local):
                all_written()

        async def one(path: str, ready: Callable[[], None]) -> None:
            def write_done() -> None:
                ready()
                mark(path)

            step = self._produce(path, plan, pass_.feedback.get(path, ""), pass_.kind, write_done)
            try:
                await steps.run(path, step, (NoCodeError,))
            finally:
                mark(path)

        await run_in_dependency_order(local, one)

    async def _produce(
        self,
        path: str,
        plan: _FilePlan,
        feedback: str,
        feedback_kind: FeedbackKind,
        ready: Callable[[], None],
    ) -> None:
        """Write one file, let its dependents start, then review (and rewrite) it."""
        proposal = self.workspace.proposal
        design = self.context.documents.require(SystemDesign)
        tasks = self.context.documents.require(TaskList)
        job = CodeJob(
            path=path,
            task=plan.holds[path]
            if path in plan.holds
            else prompts.macro(_FILE_JOB, "unknown_task"),
            design=design.to_markdown(),
            shared_knowledge=tasks.shared_knowledge,
            interfaces=self._interfaces(plan.graph.get(path, [])),
            current_code=proposal.text_of(path) or "",
            feedback=feedback,
            feedback_kind=feedback_kind,
        )
        ctx = self.action_context()
        code = await self._write.write(ctx, job)
        proposal.put(path, code, role=self.name)
        ready()
        rounds = self.code_review_k if self.code_review else 0
        for _ in range(rounds):
            with background():  # files that others wait for go first
                review = await self._review.review(ctx, job, code)
            if review.verdict == "LGTM":
                break
            issues = prompts.macro(_FILE_JOB, "review_issues", issues=review.issues)
            job = replace(job, current_code=code, feedback=issues, feedback_kind="review_comments")
            code = await self._write.write(ctx, job)
            proposal.put(path, code, role=self.name)

    def _interfaces(self, dependencies: Iterable[str]) -> str:
        proposal = self.workspace.proposal
        return interfaces((dependency, proposal.text_of(dependency)) for dependency in dependencies)

    async def _summarize_rounds(self, plan: _FilePlan, first: _Pass) -> str:
        """Write, summarize; then rewrite files with TODOs, as many rounds as configured."""
        limit = self.max_auto_summarize_code
        rounds_left = (
            self.max_summarize_rounds if limit < 0 else min(limit, self.max_summarize_rounds)
        )
        pass_ = first
        while True:
            summary = await self._write_and_summarize(plan, pass_)
            todos: dict[str, str] = {}
            written = self._files(plan.order)
            for item in summary.todos:
                if item.path in written:
                    todos[item.path] = "\n".join(filter(None, [todos.get(item.path), item.todo]))
            if not todos or rounds_left <= 0:
                return summary.summary
            rounds_left -= 1
            pass_ = _Pass([p for p in plan.order if p in todos], todos, "summary_todos")

    async def _write_and_summarize(self, plan: _FilePlan, pass_: _Pass) -> CodeSummary:
        """One pass of writing, and the summary of the files after it.

        The summary starts as soon as every file is written, alongside the last reviews; it is
        asked again only if a review then rewrote a file, so it is off the critical path when
        the reviews approve.
        """
        design = self.context.documents.require(SystemDesign).to_markdown()
        all_written = asyncio.Event()
        writing = asyncio.create_task(self._write_files(pass_, plan, all_written.set))
        waiting = asyncio.create_task(all_written.wait())
        early: asyncio.Task[CodeSummary] | None = None
        snapshot: dict[str, str] = {}
        try:
            await asyncio.wait({writing, waiting}, return_when=asyncio.FIRST_COMPLETED)
            if all_written.is_set():
                snapshot = self._files(plan.order)
                early = asyncio.create_task(
                    self._summarize.summarize(self.action_context(), design, snapshot)
                )
            await writing
            files = self._files(plan.order)
            if early is not None and files == snapshot:
                return await early
        finally:
            for task in (waiting, early, writing):
                if task is not None and not task.done():
                    task.cancel()
        return await self._summarize.summarize(self.action_context(), design, files)

    def _files(self, order: Sequence[str]) -> dict[str, str]:
        """The proposed text of each file in `order` that has one."""
        return {p: t for p in order if (t := self.workspace.proposal.text_of(p)) is not None}


@dataclass(frozen=True)
class _FilePlan:
    """The files in task order, what each holds, and the project files each one uses."""

    order: list[str]
    holds: Mapping[str, str]
    graph: Mapping[str, list[str]]


@dataclass(frozen=True)
class _Pass:
    """One pass of writing: which files, and the feedback each one is rewritten with."""

    targets: Sequence[str]
    feedback: Mapping[str, str]
    kind: FeedbackKind
