"""The endpoint's slot around a model: a call waits for one of the requests in flight that the
endpoint allows (`llm.max_concurrency`), shared by every role's model on the event loop."""

from __future__ import annotations

from agents.llm.concurrency import endpoint_slots
from agents.llm.model import Answer, Call, ChatModel, WrapperModel


class Slotted(WrapperModel):
    """Answers through `inner` while holding a slot of `endpoint`, in the caller's priority."""

    def __init__(self, inner: ChatModel, *, endpoint: str, limit: int) -> None:
        super().__init__(inner)
        self.endpoint = endpoint
        self.limit = limit

    async def request(self, call: Call) -> Answer:
        async with endpoint_slots(self.endpoint, self.limit).slot():
            return await self.inner.request(call)
