"""The topic list: one definition, and the deploy scripts' copy must agree with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from scenarist_bus import topics

REPO = Path(__file__).resolve().parents[3]


def test_partition_counts() -> None:
    assert topics.PARTITIONS == {
        "scenarist.runs.requested": 12,
        "scenarist.tasks.module": 24,
        "scenarist.tasks.results": 12,
        "scenarist.runs.events": 12,
        "scenarist.logs.steps": 12,
        "scenarist.dlq": 3,
    }
    assert topics.spec(topics.TASKS_MODULE).partitions == 24
    with pytest.raises(KeyError):
        topics.spec("nope")


def test_list_command_prints_name_and_partitions(capsys: pytest.CaptureFixture[str]) -> None:
    assert topics.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "scenarist.runs.requested 12"
    assert len(lines) == len(topics.ALL_TOPICS)
