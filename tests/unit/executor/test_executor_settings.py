from __future__ import annotations

import pytest
from scenarist_executor.service import ExecutorSettings
from scenarist_runtime.settings import SettingsError, load_settings


def test_concurrency_defaults_to_one_batch_of_64() -> None:
    assert load_settings(ExecutorSettings, environ={}).executor_concurrency == 64


def test_concurrency_comes_from_the_environment_and_is_bounded() -> None:
    env = {"SCENARIST_EXECUTOR_CONCURRENCY": "8"}
    assert load_settings(ExecutorSettings, environ=env).executor_concurrency == 8
    with pytest.raises(SettingsError, match="EXECUTOR_CONCURRENCY"):
        load_settings(ExecutorSettings, environ={"SCENARIST_EXECUTOR_CONCURRENCY": "0"})
