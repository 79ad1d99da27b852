"""The call journal of a run: every finished LLM call, so a resumed run never pays for it twice.

Each line of `calls.jsonl` holds a request's fingerprint, who made it, the request itself and the
answer, both without the configured API keys. Replaying is by fingerprint and occurrence: the n-th
identical request of a run gets the n-th stored answer.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from agents.errors import redact, redact_data, register_secret


class JournalEntry(BaseModel):
    key: str
    role: str = ""
    action: str = ""
    model: str
    request: dict[str, Any]
    content: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    usd: float


def fingerprint(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode("utf-8")).hexdigest()


class CallJournal:
    """Append-only JSONL of finished calls, loaded back for replay on resume."""

    def __init__(self, path: Path, *, secrets: Sequence[str] = ()) -> None:
        self.path = path
        for secret in secrets:
            register_secret(secret)
        self._stored: defaultdict[str, list[JournalEntry]] = defaultdict(list)
        self._served: defaultdict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = JournalEntry.model_validate_json(line)
                except ValueError:
                    continue  # a line cut short by a killed process: that call is made again
                self._stored[entry.key].append(entry)

    def replay(self, key: str) -> JournalEntry | None:
        """The stored answer for the next occurrence of this request, if there is one."""
        occurrence = self._served[key]
        entries = self._stored.get(key, [])
        if occurrence >= len(entries):
            return None
        self._served[key] += 1
        return entries[occurrence]

    def record(self, entry: JournalEntry) -> None:
        entry = entry.model_copy(
            update={
                "request": redact_data(entry.request, shapes=False),
                "content": redact(entry.content, shapes=False),
            }
        )
        with self._lock:
            self._stored[entry.key].append(entry)
            self._served[entry.key] += 1
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(entry.model_dump_json() + "\n")
                handle.flush()
