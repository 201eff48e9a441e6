"""A blocking gRPC client for the public API: one channel, the bearer token on every call."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any

import grpc
from scenarist.log.v1 import log_service_pb2, log_service_pb2_grpc
from scenarist.run.v1 import run_pb2, run_service_pb2, run_service_pb2_grpc
from scenarist.scenario.v1 import scenario_pb2, scenario_service_pb2, scenario_service_pb2_grpc

from scenarist_cli.config import ClientConfig

CALL_TIMEOUT_SECONDS = 30.0
MAX_PAGES = 1000  # a runaway server cannot make a listing loop forever

ScenarioReq = scenario_service_pb2
RunReq = run_service_pb2


class ApiClient:
    def __init__(self, config: ClientConfig, *, timeout: float = CALL_TIMEOUT_SECONDS) -> None:
        self._channel = grpc.insecure_channel(config.server)
        self._metadata = (("authorization", f"Bearer {config.token}"),)
        self._timeout = timeout
        self.scenarios = scenario_service_pb2_grpc.ScenarioServiceStub(self._channel)
        self.runs = run_service_pb2_grpc.RunServiceStub(self._channel)
        self.logs = log_service_pb2_grpc.LogServiceStub(self._channel)

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._channel.close()

    def call_options(self) -> dict[str, Any]:
        """Keyword arguments for a unary call: the token and a deadline."""
        return {"metadata": self._metadata, "timeout": self._timeout}

    # ----- scenarios --------------------------------------------------------------------------

    def all_scenarios(self, name_filter: str = "") -> Iterator[scenario_pb2.Scenario]:
        token = ""
        for _ in range(MAX_PAGES):
            page = self.scenarios.ListScenarios(
                ScenarioReq.ListScenariosRequest(
                    page_size=500, page_token=token, name_filter=name_filter
                ),
                metadata=self._metadata,
                timeout=self._timeout,
            )
            yield from page.scenarios
            token = page.next_page_token
            if not token:
                return

    def find_by_name(self, name: str) -> scenario_pb2.Scenario | None:
        for scenario in self.all_scenarios(name):
            if scenario.name == name:
                return scenario
        return None

    # ----- runs -------------------------------------------------------------------------------

    def all_runs(
        self, scenario_id: str, statuses: Sequence[run_pb2.RunStatus.ValueType]
    ) -> Iterator[run_pb2.Run]:
        token = ""
        for _ in range(MAX_PAGES):
            page = self.runs.ListRuns(
                RunReq.ListRunsRequest(
                    scenario_id=scenario_id,
                    statuses=statuses,
                    page_size=500,
                    page_token=token,
                ),
                metadata=self._metadata,
                timeout=self._timeout,
            )
            yield from page.runs
            token = page.next_page_token
            if not token:
                return

    def follow(self, run_id: str, timeout: float) -> run_pb2.Run:
        """Wait (up to `timeout` seconds) for the run to end; the finished run."""
        stream = self.runs.StreamRunEvents(
            RunReq.StreamRunEventsRequest(run_id=run_id), metadata=self._metadata, timeout=timeout
        )
        for _ in stream:
            pass  # the server closes the stream when the run has ended
        return self.runs.GetRun(
            RunReq.GetRunRequest(run_id=run_id), metadata=self._metadata, timeout=self._timeout
        ).run

    def all_steps(self, run_id: str) -> Iterator[log_service_pb2.GetRunLogResponse]:
        token = ""
        for _ in range(MAX_PAGES):
            page = self.logs.GetRunLog(
                log_service_pb2.GetRunLogRequest(run_id=run_id, page_size=1000, page_token=token),
                metadata=self._metadata,
                timeout=self._timeout,
            )
            yield page
            token = page.next_page_token
            if not token:
                return
