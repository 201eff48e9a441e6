"""The KRaft cluster ids kafka.sh formats storage with: Kafka's Uuid form, never one the storage
tool would read as an option (one id in 64 started with '-' and failed the format)."""

from __future__ import annotations

import base64
import re

import pytest
from infra_support import DEPLOY, must

pytestmark = pytest.mark.integration


def test_cluster_ids_are_kafka_uuids_that_never_start_with_a_dash() -> None:
    # 640 ids: a generator that allowed a leading '-' would show one with odds 1 - (63/64)^640.
    ids = must(DEPLOY / "kafka" / "kafka.sh", "cluster-id", "640", timeout=60).split()
    assert len(ids) == 640 and len(set(ids)) == 640
    for cluster_id in ids:
        assert re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_-]{21}", cluster_id), cluster_id
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16
