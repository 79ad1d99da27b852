"""The standard operating procedure, wired in one place: who is hired for a run, and who gets
the work first.

Product Manager → Architect → Project Manager write the documents (each watches the one
before), the Engineer writes or changes the code from the task list, QA tests what the
Engineer wrote and sends code bugs back. A bug goes straight to the Engineer; `reqa` hires QA
alone to (re)write one file's tests.
"""

from __future__ import annotations

from agents.company.actions.report_bug import BugFeedback
from agents.company.actions.write_code import CodeChange, WriteCode
from agents.company.options import RunOptions
from agents.company.roles import Architect, Engineer, ProductManager, ProjectManager, QaEngineer
from agents.framework.context import Context
from agents.framework.message import Message
from agents.framework.role import Role
from agents.framework.team import Team


def build_team(options: RunOptions, context: Context) -> Team:
    """The company for these options: QA alone to (re)write one file's tests; the Engineer
    straight away for a bug; otherwise the document roles first, the Engineer when implementing;
    QA on request. The budget is the context's (0 is allowed: the run stops before its first
    call)."""
    qa = QaEngineer(
        max_test_rounds=options.max_test_rounds,
        test_timeout=options.test_timeout,
        reqa_file=options.reqa_file,
    )
    roles: list[Role] = [qa]
    if options.mode != "reqa":
        roles = [] if options.mode == "bug" else [ProductManager(), Architect(), ProjectManager()]
        if options.implement or options.mode == "bug":
            engineer = Engineer(
                code_review=options.code_review,
                code_review_k=options.code_review_k,
                max_auto_summarize_code=options.max_auto_summarize_code,
                max_summarize_rounds=options.n_round,
            )
            roles += [engineer, qa] if options.run_tests else [engineer]
    team = Team(context)
    team.hire(roles)
    return team


def hand_over(team: Team, options: RunOptions) -> None:
    """A project or a feature starts with the requirement; a bug goes straight to the Engineer;
    a re-test of one file goes to QA as if the Engineer had just written it. Every role reads
    the requirement from the context, whichever role gets the work first."""
    team.context.requirement = options.idea
    if options.mode == "reqa" and options.reqa_file is not None:
        change = CodeChange(files=[options.reqa_file])
        team.env.publish(
            Message(content=options.idea, payload=change, cause_by=WriteCode, sent_from="User")
        )
    elif options.mode == "bug":
        bug = BugFeedback(description=options.idea, test_output=options.test_output)
        team.env.publish(Message(content=options.idea, payload=bug, sent_from="User"))
    else:
        team.run_project(options.idea)
