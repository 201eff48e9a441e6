from __future__ import annotations

import pytest
from fakes import github
from fakes.base import bearer_connection as bearer
from scenarist_connector_sdk import ConnectorRuntime, errors
from scenarist_connector_sdk.polling import read_poll_result

pytestmark = pytest.mark.integration

REPO = {"owner": "o", "repo": "r"}


async def test_create_and_search_follow_link_pages(runtime: ConnectorRuntime) -> None:
    with github.server() as fake:
        conn = bearer(github.TOKEN, fake.url)
        [issue] = await runtime.execute(
            "github:CreateIssue", {**REPO, "title": "Broken", "labels": ["bug"]}, conn
        )
        assert issue["number"] == 4 and issue["labels"] == [{"name": "bug"}]

        found = await runtime.execute("github:SearchIssues", {"q": "repo:o/r"}, conn)
        assert [i["number"] for i in found] == [1, 3, 4]  # two pages of two, PR left out
        assert sum(1 for r in fake.requests if r.path == "/search/issues") == 2

        with pytest.raises(errors.InvalidInputError, match="bad title"):
            await runtime.execute("github:CreateIssue", {**REPO, "title": "invalid"}, conn)
        with pytest.raises(errors.RateLimitError) as limited:
            await runtime.execute("github:SearchIssues", {"q": "ratelimited"}, conn)
        assert limited.value.retry_after is not None and 0 < limited.value.retry_after <= 30
        with pytest.raises(errors.AuthError):
            await runtime.execute("github:SearchIssues", {"q": "x"}, bearer("bad", fake.url))


async def test_watch_issues_cursor(runtime: ConnectorRuntime) -> None:
    with github.server() as fake:
        conn = bearer(github.TOKEN, fake.url)
        first = read_poll_result(
            await runtime.execute("github:WatchIssues", {**REPO, "start": "all", "limit": 1}, conn)
        )
        assert [i["number"] for i in first.bundles] == [1]
        second = read_poll_result(
            await runtime.execute("github:WatchIssues", {**REPO, "cursor": first.cursor}, conn)
        )
        assert [i["number"] for i in second.bundles] == [3]  # the pull request is skipped
        idle = read_poll_result(
            await runtime.execute("github:WatchIssues", {**REPO, "cursor": second.cursor}, conn)
        )
        assert idle.bundles == [] and idle.cursor == second.cursor

        now = read_poll_result(await runtime.execute("github:WatchIssues", REPO, conn))
        assert now.bundles == [] and now.cursor.startswith("2024-01-03")
        await runtime.execute("github:CreateIssue", {**REPO, "title": "Fresh"}, conn)
        fresh = read_poll_result(
            await runtime.execute("github:WatchIssues", {**REPO, "cursor": now.cursor}, conn)
        )
        assert [i["title"] for i in fresh.bundles] == ["Fresh"]
