"""One distributed cluster per test session (see distributed_support): Kafka and Postgres of
its own, and Redis (a fresh run dir, free ports, so a fresh database and fresh topics), the five services as
separate processes started by deploy/services.sh, and two organizations with a token per role.

Set SCENARIST_KEEP_RUN_DIR=1 to keep the run dir (service logs) after the session.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from distributed_support import INFRA, SERVICES, Api, Cluster, Tenant, cluster_environment
from scenarist_storage.models import Role
from scenarist_storage.pg import PgIdentityStore
from scenarist_storage.postgres import create_pool


async def _tenant(dsn: str, name: str) -> Tenant:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        identity = PgIdentityStore(pool)
        org = await identity.create_organization(name)
        tokens = {role: (await identity.create_token(org.id, role, role.value))[1] for role in Role}
        return Tenant(org.id, tokens)
    finally:
        await pool.close()


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    run_dir = Path(tempfile.mkdtemp(prefix="scn-dist-"))
    run_dir.chmod(0o755)  # as root, Postgres runs as its own user and must reach its data dir
    cluster = Cluster(run_dir, cluster_environment(run_dir))
    try:
        cluster.scripts_in_parallel(
            INFRA, ("up", "postgres"), ("up", "redis"), ("up", "kafka"), timeout=400
        )
        cluster.use_database("scenarist_cluster")
        cluster.script(SERVICES, "up", timeout=300)
        cluster.load_addresses()
        yield cluster
    finally:
        try:
            cluster.script(SERVICES, "down", timeout=180)
        finally:
            cluster.script(INFRA, "down", "all", timeout=240)
            if not os.environ.get("SCENARIST_KEEP_RUN_DIR"):
                shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def tenants(cluster: Cluster) -> tuple[Tenant, Tenant]:
    acme = asyncio.run(_tenant(cluster.postgres_dsn, "acme"))
    globex = asyncio.run(_tenant(cluster.postgres_dsn, "globex"))
    return acme, globex


@pytest.fixture
def acme(tenants: tuple[Tenant, Tenant]) -> Tenant:
    return tenants[0]


@pytest.fixture
def globex(tenants: tuple[Tenant, Tenant]) -> Tenant:
    return tenants[1]


@pytest.fixture
async def api(cluster: Cluster) -> AsyncIterator[Api]:
    async with Api.connect(cluster) as connected:
        yield connected
