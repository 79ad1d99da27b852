"""The library used directly, as the README shows it."""

from company_script import COUNTER, script_company
from scripted_endpoint import ScriptedEndpoint

from agents import CompanyContext, LLMSettings, Settings, Team
from agents.company.roles import Architect, Engineer, ProductManager, ProjectManager


async def test_team_of_four_builds_the_proposal(
    endpoint: ScriptedEndpoint, llm_settings: LLMSettings
) -> None:
    script_company(endpoint)
    team = Team(CompanyContext(settings=Settings(llm=llm_settings)))
    team.hire([ProductManager(), Architect(), ProjectManager(), Engineer()])
    team.invest(3.0)
    team.run_project("a word-frequency CLI")

    outcome = await team.run(n_round=5)

    assert outcome.status == "completed"
    assert [m.sent_from for m in outcome.messages] == [
        "User",
        "ProductManager",
        "Architect",
        "ProjectManager",
        "Engineer",
    ]
    proposal = team.context.proposal
    assert proposal.text_of("wordfreq/counter.py") == COUNTER
    assert sorted(proposal.paths()) == [
        "docs/prd.json",
        "docs/prd.md",
        "docs/system_design.json",
        "docs/system_design.md",
        "docs/tasks.json",
        "docs/tasks.md",
        "main.py",
        "wordfreq/counter.py",
    ]
