"""One org-scoped in-memory table whose rows keep their insertion order, like the `seq` column of
the Postgres tables it stands in for: lookups that never see another organization's rows and
newest-first keyset paging, shared by the webhook and schedule stores."""

from __future__ import annotations

import itertools
import uuid
from typing import Generic, Protocol, TypeVar

from scenarist_storage.errors import NotFoundError
from scenarist_storage.memory._clock import clone
from scenarist_storage.models import Page
from scenarist_storage.paging import check_page_size, seq_before, seq_page


class OrgScoped(Protocol):
    @property
    def id(self) -> uuid.UUID: ...

    @property
    def org_id(self) -> uuid.UUID: ...

    @property
    def scenario_id(self) -> uuid.UUID | None: ...


R = TypeVar("R", bound=OrgScoped)


class SeqTable(Generic[R]):
    """`rows` maps id to (seq, record); stores write it directly and keep a row's seq on
    updates, so paging order stays the order of creation."""

    def __init__(self, noun: str, kind: str) -> None:
        self._noun = noun  # in NotFoundError messages: "webhook"
        self._kind = kind  # of page tokens: "webhooks"
        self._seq = itertools.count(1)
        self.rows: dict[uuid.UUID, tuple[int, R]] = {}

    def insert(self, record: R) -> None:
        self.rows[record.id] = (next(self._seq), record)

    def owned(self, org_id: uuid.UUID, row_id: uuid.UUID) -> tuple[int, R]:
        """(seq, record) of the organization's row; NotFoundError otherwise."""
        found = self.rows.get(row_id)
        if found is None or found[1].org_id != org_id:
            raise NotFoundError(f"{self._noun} {row_id} not found")
        return found

    def get(self, org_id: uuid.UUID, row_id: uuid.UUID) -> R | None:
        found = self.rows.get(row_id)
        return clone(found[1]) if found is not None and found[1].org_id == org_id else None

    def page(
        self,
        org_id: uuid.UUID,
        scenario_id: uuid.UUID | None,
        page_size: int,
        page_token: str | None,
    ) -> Page[R]:
        check_page_size(page_size)
        before = seq_before(self._kind, page_token)
        matches = sorted(
            (
                (seq, rec)
                for seq, rec in self.rows.values()
                if rec.org_id == org_id
                and (scenario_id is None or rec.scenario_id == scenario_id)
                and (before is None or seq < before)
            ),
            key=lambda item: -item[0],
        )
        page = seq_page(self._kind, matches, page_size)
        return Page([clone(rec) for rec in page.items], page.next_page_token)
