from __future__ import annotations

import uuid

from scenarist_storage.errors import ConflictError, NotFoundError
from scenarist_storage.models import JsonObject, Page, ScenarioRecord
from scenarist_storage.paging import check_page_size, decode_token, encode_token, token_uuid
from scenarist_storage.postgres import Pool, Record, qualify

_COLUMNS = """
s.org_id, s.id, s.name, v.version, s.latest_version, v.document, s.active, s.created_at,
s.updated_at
"""
_INSERT_SCENARIO = """
INSERT INTO {s}.scenarios (org_id, id, name, latest_version) VALUES ($1, $2, $3, 1)
"""
_INSERT_VERSION = """
INSERT INTO {s}.scenario_versions (scenario_id, version, document) VALUES ($1, $2, $3)
"""
# The row lock taken by this UPDATE serializes concurrent new_version calls on one scenario.
_BUMP = """
UPDATE {s}.scenarios
SET latest_version = latest_version + 1, name = coalesce($3, name), updated_at = now()
WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL
  AND ($4::integer IS NULL OR latest_version = $4)
RETURNING latest_version
"""
_EXISTS = (
    "SELECT latest_version FROM {s}.scenarios WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL"
)
_GET = """
SELECT {cols} FROM {s}.scenarios s
JOIN {s}.scenario_versions v ON v.scenario_id = s.id
 AND v.version = coalesce($3::integer, s.latest_version)
WHERE s.org_id = $1 AND s.id = $2 AND ($4 OR s.deleted_at IS NULL)
"""
# Keyset page by (name, id) in code-point order ("C" collation), matching the memory store.
# strpos(lower(..)) is a literal substring test: no LIKE wildcards to escape.
_LIST = """
SELECT {cols} FROM {s}.scenarios s
JOIN {s}.scenario_versions v ON v.scenario_id = s.id AND v.version = s.latest_version
WHERE s.org_id = $1 AND s.deleted_at IS NULL
  AND ($2::text IS NULL OR strpos(lower(s.name), lower($2)) > 0)
  AND ($3::text IS NULL OR (s.name COLLATE "C", s.id) > ($3 COLLATE "C", $4::uuid))
ORDER BY s.name COLLATE "C", s.id
LIMIT $5
"""
_DELETE = """
UPDATE {s}.scenarios SET deleted_at = now(), updated_at = now(), active = false
WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING id
"""
_SET_ACTIVE = """
UPDATE {s}.scenarios
SET active = $3, updated_at = CASE WHEN active = $3 THEN updated_at ELSE now() END
WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL RETURNING id
"""


class PgScenarioStore:
    def __init__(self, pool: Pool, schema: str = "orchestrator") -> None:
        self._pool = pool
        sqls = {
            "insert_scenario": _INSERT_SCENARIO,
            "insert_version": _INSERT_VERSION,
            "bump": _BUMP,
            "exists": _EXISTS,
            "get": _GET,
            "list": _LIST,
            "delete": _DELETE,
            "set_active": _SET_ACTIVE,
        }
        self._q = {k: qualify(v.replace("{cols}", _COLUMNS), schema) for k, v in sqls.items()}

    async def create(self, org_id: uuid.UUID, name: str, document: JsonObject) -> ScenarioRecord:
        scenario_id = uuid.uuid4()
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(self._q["insert_scenario"], org_id, scenario_id, name)
            await conn.execute(self._q["insert_version"], scenario_id, 1, document)
            row = await conn.fetchrow(self._q["get"], org_id, scenario_id, None, False)
        assert row is not None
        return _record(row)

    async def new_version(
        self,
        org_id: uuid.UUID,
        scenario_id: uuid.UUID,
        document: JsonObject,
        *,
        name: str | None = None,
        expected_version: int | None = None,
    ) -> ScenarioRecord:
        async with self._pool.acquire() as conn, conn.transaction():
            version = await conn.fetchval(
                self._q["bump"], org_id, scenario_id, name, expected_version
            )
            if version is None:
                current = await conn.fetchval(self._q["exists"], org_id, scenario_id)
                if current is None:
                    raise NotFoundError(f"scenario {scenario_id} not found")
                raise ConflictError(
                    f"scenario {scenario_id} is at version {current}, not {expected_version}"
                )
            await conn.execute(self._q["insert_version"], scenario_id, version, document)
            row = await conn.fetchrow(self._q["get"], org_id, scenario_id, version, False)
        assert row is not None
        return _record(row)

    async def get(
        self,
        org_id: uuid.UUID,
        scenario_id: uuid.UUID,
        version: int | None = None,
        *,
        include_deleted: bool = False,
    ) -> ScenarioRecord | None:
        row = await self._pool.fetchrow(
            self._q["get"], org_id, scenario_id, version, include_deleted
        )
        return _record(row) if row is not None else None

    async def list(
        self,
        org_id: uuid.UUID,
        *,
        page_size: int = 50,
        page_token: str | None = None,
        name_contains: str | None = None,
    ) -> Page[ScenarioRecord]:
        check_page_size(page_size)
        after_name: str | None = None
        after_id: uuid.UUID | None = None
        if page_token:
            name, sid = decode_token("scenarios", page_token, 2)
            after_name, after_id = str(name), token_uuid(sid)
        # One extra row tells whether another page exists without a COUNT.
        rows = await self._pool.fetch(
            self._q["list"], org_id, name_contains or None, after_name, after_id, page_size + 1
        )
        items = [_record(r) for r in rows[:page_size]]
        token = None
        if len(rows) > page_size:
            token = encode_token("scenarios", [items[-1].name, str(items[-1].id)])
        return Page(items, token)

    async def delete(self, org_id: uuid.UUID, scenario_id: uuid.UUID) -> None:
        if await self._pool.fetchrow(self._q["delete"], org_id, scenario_id) is None:
            raise NotFoundError(f"scenario {scenario_id} not found")

    async def set_active(
        self, org_id: uuid.UUID, scenario_id: uuid.UUID, active: bool
    ) -> ScenarioRecord:
        async with self._pool.acquire() as conn, conn.transaction():
            if await conn.fetchrow(self._q["set_active"], org_id, scenario_id, active) is None:
                raise NotFoundError(f"scenario {scenario_id} not found")
            row = await conn.fetchrow(self._q["get"], org_id, scenario_id, None, False)
        assert row is not None
        return _record(row)


def _record(row: Record) -> ScenarioRecord:
    return ScenarioRecord(
        org_id=row["org_id"],
        id=row["id"],
        name=row["name"],
        version=row["version"],
        latest_version=row["latest_version"],
        document=row["document"],
        active=row["active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
