from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

from scenarist_storage.errors import ConflictError, NotFoundError
from scenarist_storage.memory._clock import Clock, clone, utc_now
from scenarist_storage.models import JsonObject, Page, ScenarioRecord
from scenarist_storage.paging import check_page_size, decode_token, encode_token, token_uuid


@dataclasses.dataclass(slots=True)
class _Scenario:
    org_id: uuid.UUID
    id: uuid.UUID
    name: str
    active: bool
    created_at: datetime
    updated_at: datetime
    versions: list[JsonObject]  # versions[n - 1] is version n
    deleted_at: datetime | None = None

    def record(self, version: int | None = None) -> ScenarioRecord | None:
        number = version if version is not None else len(self.versions)
        if not 1 <= number <= len(self.versions):
            return None
        return ScenarioRecord(
            org_id=self.org_id,
            id=self.id,
            name=self.name,
            version=number,
            latest_version=len(self.versions),
            document=clone(self.versions[number - 1]),
            active=self.active,
            created_at=self.created_at,
            updated_at=self.updated_at,
        )


class MemoryScenarioStore:
    def __init__(self, clock: Clock = utc_now) -> None:
        self._clock = clock
        self._rows: dict[uuid.UUID, _Scenario] = {}

    def _live(self, org_id: uuid.UUID, scenario_id: uuid.UUID) -> _Scenario:
        row = self._rows.get(scenario_id)
        if row is None or row.org_id != org_id or row.deleted_at is not None:
            raise NotFoundError(f"scenario {scenario_id} not found")
        return row

    @staticmethod
    def _latest(row: _Scenario) -> ScenarioRecord:
        record = row.record()
        assert record is not None  # a scenario always has version 1
        return record

    async def create(self, org_id: uuid.UUID, name: str, document: JsonObject) -> ScenarioRecord:
        now = self._clock()
        row = _Scenario(org_id, uuid.uuid4(), name, False, now, now, [clone(document)])
        self._rows[row.id] = row
        return self._latest(row)

    async def new_version(
        self,
        org_id: uuid.UUID,
        scenario_id: uuid.UUID,
        document: JsonObject,
        *,
        name: str | None = None,
        expected_version: int | None = None,
    ) -> ScenarioRecord:
        row = self._live(org_id, scenario_id)
        if expected_version is not None and expected_version != len(row.versions):
            raise ConflictError(
                f"scenario {scenario_id} is at version {len(row.versions)}, not {expected_version}"
            )
        row.versions.append(clone(document))
        if name is not None:
            row.name = name
        row.updated_at = self._clock()
        return self._latest(row)

    async def get(
        self,
        org_id: uuid.UUID,
        scenario_id: uuid.UUID,
        version: int | None = None,
        *,
        include_deleted: bool = False,
    ) -> ScenarioRecord | None:
        row = self._rows.get(scenario_id)
        if row is None or row.org_id != org_id:
            return None
        if row.deleted_at is not None and not include_deleted:
            return None
        return row.record(version)

    async def list(
        self,
        org_id: uuid.UUID,
        *,
        page_size: int = 50,
        page_token: str | None = None,
        name_contains: str | None = None,
    ) -> Page[ScenarioRecord]:
        check_page_size(page_size)
        after: tuple[str, str] | None = None
        if page_token:
            name, sid = decode_token("scenarios", page_token, 2)
            after = (str(name), str(token_uuid(sid)))
        needle = name_contains.lower() if name_contains else None
        rows = sorted(
            (r for r in self._rows.values() if r.org_id == org_id and r.deleted_at is None),
            key=lambda r: (r.name, str(r.id)),
        )
        items = [
            self._latest(r)
            for r in rows
            if (needle is None or needle in r.name.lower())
            and (after is None or (r.name, str(r.id)) > after)
        ]
        return _page(items, page_size)

    async def delete(self, org_id: uuid.UUID, scenario_id: uuid.UUID) -> None:
        row = self._live(org_id, scenario_id)
        row.deleted_at = row.updated_at = self._clock()
        row.active = False

    async def set_active(
        self, org_id: uuid.UUID, scenario_id: uuid.UUID, active: bool
    ) -> ScenarioRecord:
        row = self._live(org_id, scenario_id)
        if row.active != active:
            row.active = active
            row.updated_at = self._clock()
        return self._latest(row)


def _page(items: list[ScenarioRecord], page_size: int) -> Page[ScenarioRecord]:
    if len(items) <= page_size:
        return Page(items, None)
    last = items[page_size - 1]
    return Page(items[:page_size], encode_token("scenarios", [last.name, str(last.id)]))
