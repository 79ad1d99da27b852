"""The run's journal around a model: a request answered in an earlier attempt of the run is
replayed from it, so no request is sent and nothing is spent again; a new answer is recorded."""

from __future__ import annotations

import logging

from agents.llm.journal import CallJournal, JournalEntry, fingerprint
from agents.llm.model import Answer, Call, ChatModel, WrapperModel, caller

logger = logging.getLogger("sopls.llm")


class Journaled(WrapperModel):
    """Answers from `journal` when it holds the call, else through `inner`, and keeps the answer."""

    def __init__(self, inner: ChatModel, *, journal: CallJournal, model: str) -> None:
        super().__init__(inner)
        self.journal = journal
        self.model = model

    async def request(self, call: Call) -> Answer:
        key = fingerprint(call.body)
        stored = self.journal.replay(key)
        if stored is not None:
            logger.info("%s: replayed from the run's journal", caller(call.role, call.action))
            return Answer(stored.content, stored.finish_reason)
        answer = await self.inner.request(call)
        record = answer.record
        self.journal.record(
            JournalEntry(
                key=key,
                role=call.role,
                action=call.action,
                model=self.model,
                request=call.body,
                content=answer.content,
                finish_reason=answer.finish_reason,
                # what the call cost, as a budget layer inside measured it
                prompt_tokens=record.prompt_tokens if record else 0,
                completion_tokens=record.completion_tokens if record else 0,
                usd=record.usd if record else 0.0,
            )
        )
        return answer
