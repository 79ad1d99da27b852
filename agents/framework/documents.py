"""Documents roles hand each other, and the run's store of the latest one of each kind."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar, TypeVar

from pydantic import BaseModel


class Document(BaseModel, ABC):
    """A document with a stable file name under `docs/`, readable by machines and people."""

    doc_name: ClassVar[str]

    @abstractmethod
    def to_markdown(self) -> str: ...


D = TypeVar("D", bound=Document)


class DocumentStore:
    """The run's latest document of each kind, shared by every role of the team."""

    def __init__(self) -> None:
        self._documents: dict[type[Document], Document] = {}

    def put(self, document: Document) -> None:
        self._documents[type(document)] = document

    def get(self, kind: type[D]) -> D | None:
        found = self._documents.get(kind)
        return found if isinstance(found, kind) else None

    def all(self) -> list[Document]:
        return list(self._documents.values())

    def require(self, kind: type[D]) -> D:
        found = self.get(kind)
        if found is None:
            raise LookupError(f"no {kind.__name__} has been written yet in this run")
        return found
