"""What a team's roles share, passed explicitly: settings, the cost manager, the workspace."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agents.config import Settings, load_settings
from agents.cost import CostManager
from agents.llm import LLM


@dataclass
class Context:
    settings: Settings = field(default_factory=load_settings)
    cost: CostManager = field(default_factory=CostManager)
    workspace: Path | None = None
    raw_output_dir: Path | None = None
    _llms: dict[str, LLM] = field(default_factory=dict, init=False, repr=False)

    def llm_for(self, role: str) -> LLM:
        """The model of one role (its `roles.<Role>.llm` overrides applied), sharing the budget."""
        if role not in self._llms:
            self._llms[role] = LLM(
                self.settings.llm_for(role),
                pricing=self.settings.pricing,
                cost=self.cost,
                raw_output_dir=self.raw_output_dir,
            )
        return self._llms[role]
