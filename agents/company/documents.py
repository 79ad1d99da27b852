"""The documents roles hand each other (PRODUCT.md §4), each saved as JSON and as Markdown."""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import BaseModel, Field, field_validator

from agents.framework.documents import Document


def _mermaid(code: str, kind: str) -> str:
    """A mermaid block of `kind`, adding the diagram keyword when the model left it out."""
    body = code.strip()
    fence = re.match(r"^```(?:mermaid)?\s*\n(.*?)\n?```$", body, re.DOTALL)
    if fence:
        body = fence.group(1).strip()
    if not body.startswith(kind):
        body = f"{kind}\n{body}"
    return f"```mermaid\n{body}\n```"


def _bullets(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items) or "- (none)"


class RequirementItem(BaseModel):
    priority: Literal["P0", "P1", "P2"]
    description: str


class PRD(Document):
    """Product requirements: what to build and for whom."""

    doc_name: ClassVar[str] = "prd"

    language: str = Field(description="language the user wrote in, e.g. en_us or zh_cn")
    programming_language: str = Field(description="e.g. Python")
    original_requirement: str
    project_name: str = Field(description="short snake_case name, e.g. snake_game")
    product_goals: list[str] = Field(min_length=1, max_length=3)
    user_stories: list[str] = Field(min_length=3, max_length=5)
    competitive_analysis: list[str] = Field(
        min_length=5, max_length=7, description="'Product: strengths and weaknesses' entries"
    )
    competitive_quadrant_chart: str = Field(description="mermaid quadrantChart code")
    requirement_analysis: str
    requirement_pool: list[RequirementItem] = Field(min_length=1, max_length=10)
    ui_design_draft: str
    anything_unclear: str = ""

    @field_validator("project_name")
    @classmethod
    def _snake_case(cls, value: str) -> str:
        name = re.sub(r"[^0-9a-zA-Z]+", "_", value).strip("_").lower()
        if not name:
            raise ValueError("project_name needs letters or digits, e.g. snake_game")
        return f"project_{name}" if name[0].isdigit() else name

    def to_markdown(self) -> str:
        pool = "\n".join(f"| {r.priority} | {r.description} |" for r in self.requirement_pool)
        return "\n\n".join(
            [
                f"# PRD: {self.project_name}",
                f"**Original requirement:** {self.original_requirement}",
                f"**Language:** {self.language} · **Programming language:** "
                f"{self.programming_language}",
                f"## Product goals\n{_bullets(self.product_goals)}",
                f"## User stories\n{_bullets(self.user_stories)}",
                f"## Competitive analysis\n{_bullets(self.competitive_analysis)}",
                "## Competitive quadrant chart\n"
                + _mermaid(self.competitive_quadrant_chart, "quadrantChart"),
                f"## Requirement analysis\n{self.requirement_analysis}",
                f"## Requirement pool\n| priority | requirement |\n|---|---|\n{pool}",
                f"## UI design draft\n{self.ui_design_draft}",
                f"## Anything unclear\n{self.anything_unclear or 'Nothing.'}",
            ]
        )


class SystemDesign(Document):
    """How to build it: files, interfaces and the flow between them."""

    doc_name: ClassVar[str] = "system_design"

    implementation_approach: str
    file_list: list[str] = Field(
        min_length=1, max_length=30, description="relative paths of every source file"
    )
    entry_point: str = Field(description="the file (from file_list) that starts the program")
    data_structures_and_interfaces: str = Field(description="mermaid classDiagram code")
    program_call_flow: str = Field(description="mermaid sequenceDiagram code")
    anything_unclear: str = ""

    def to_markdown(self) -> str:
        return "\n\n".join(
            [
                "# System design",
                f"## Implementation approach\n{self.implementation_approach}",
                f"## File list\n{_bullets([f'`{p}`' for p in self.file_list])}",
                f"**Entry point:** `{self.entry_point}`",
                "## Data structures and interfaces\n"
                + _mermaid(self.data_structures_and_interfaces, "classDiagram"),
                "## Program call flow\n" + _mermaid(self.program_call_flow, "sequenceDiagram"),
                f"## Anything unclear\n{self.anything_unclear or 'Nothing.'}",
            ]
        )


class FileAnalysis(BaseModel):
    path: str
    holds: str = Field(description="the classes and functions this file contains")
    uses: list[str] = Field(
        default_factory=list, max_length=20, description="paths of project files it imports"
    )


class TaskList(Document):
    """Who writes what, in which order."""

    doc_name: ClassVar[str] = "tasks"

    required_packages: list[str] = Field(
        default_factory=list, max_length=30, description="pip requirements, e.g. 'flask>=3'"
    )
    logic_analysis: list[FileAnalysis] = Field(min_length=1, max_length=30)
    task_list: list[str] = Field(
        min_length=1, max_length=30, description="file paths, dependencies first"
    )
    shared_knowledge: str = ""
    api_spec: str = ""
    anything_unclear: str = ""

    def to_markdown(self) -> str:
        analysis = "\n".join(
            f"| `{a.path}` | {a.holds} | {', '.join(f'`{u}`' for u in a.uses) or '-'} |"
            for a in self.logic_analysis
        )
        return "\n\n".join(
            [
                "# Tasks",
                f"## Required packages\n{_bullets(self.required_packages)}",
                f"## Logic analysis\n| file | holds | uses |\n|---|---|---|\n{analysis}",
                "## Task list\n"
                + "\n".join(f"{i}. `{p}`" for i, p in enumerate(self.task_list, 1)),
                f"## Shared knowledge\n{self.shared_knowledge or 'None.'}",
                f"## API spec\n{self.api_spec or 'None.'}",
                f"## Anything unclear\n{self.anything_unclear or 'Nothing.'}",
            ]
        )


DOCUMENT_KINDS: tuple[type[Document], ...] = (PRD, SystemDesign, TaskList)
