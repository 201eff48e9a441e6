"""A blocking gRPC client for the public API: a channel per server (in distributed mode each API
has its own, see config.py), the bearer token on every call."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from types import TracebackType
from typing import Any

import grpc
from scenarist.connector.v1 import connection_service_pb2_grpc, data_store_service_pb2_grpc
from scenarist.log.v1 import log_service_pb2, log_service_pb2_grpc
from scenarist.run.v1 import run_pb2, run_service_pb2, run_service_pb2_grpc
from scenarist.scenario.v1 import scenario_pb2, scenario_service_pb2, scenario_service_pb2_grpc
from scenarist.trigger.v1 import schedule_service_pb2_grpc, webhook_service_pb2_grpc

from scenarist_cli.config import Api, ClientConfig

CALL_TIMEOUT_SECONDS = 30.0
MAX_PAGES = 1000  # a runaway server cannot make a listing loop forever

ScenarioReq = scenario_service_pb2
RunReq = run_service_pb2


class ApiClient:
    def __init__(self, config: ClientConfig, *, timeout: float = CALL_TIMEOUT_SECONDS) -> None:
        self._config = config
        self._channels: dict[str, grpc.Channel] = {}
        self._metadata = (("authorization", f"Bearer {config.token}"),)
        self._timeout = timeout

    def channel(self, api: Api) -> grpc.Channel:
        """The channel to `api`'s server (ConfigError when none is configured), one per server
        so that in standalone mode every stub shares one connection."""
        target = self._config.server_for(api)
        found = self._channels.get(target)
        if found is None:
            found = self._channels[target] = grpc.insecure_channel(target)
        return found

    @property
    def scenarios(self) -> scenario_service_pb2_grpc.ScenarioServiceStub:
        return scenario_service_pb2_grpc.ScenarioServiceStub(self.channel(Api.ORCHESTRATOR))

    @property
    def runs(self) -> run_service_pb2_grpc.RunServiceStub:
        return run_service_pb2_grpc.RunServiceStub(self.channel(Api.ORCHESTRATOR))

    @property
    def logs(self) -> log_service_pb2_grpc.LogServiceStub:
        return log_service_pb2_grpc.LogServiceStub(self.channel(Api.LOG))

    @property
    def webhooks(self) -> webhook_service_pb2_grpc.WebhookServiceStub:
        return webhook_service_pb2_grpc.WebhookServiceStub(self.channel(Api.TRIGGER))

    @property
    def schedules(self) -> schedule_service_pb2_grpc.ScheduleServiceStub:
        return schedule_service_pb2_grpc.ScheduleServiceStub(self.channel(Api.TRIGGER))

    @property
    def connections(self) -> connection_service_pb2_grpc.ConnectionServiceStub:
        return connection_service_pb2_grpc.ConnectionServiceStub(self.channel(Api.GATEWAY))

    @property
    def data_stores(self) -> data_store_service_pb2_grpc.DataStoreServiceStub:
        return data_store_service_pb2_grpc.DataStoreServiceStub(self.channel(Api.GATEWAY))

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()

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
