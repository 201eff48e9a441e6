"""Text parser (regexp): match pattern, replace, HTML to text and elements from HTML."""

from __future__ import annotations

from typing import Any

import pytest
from module_runs import run_flow

WEBHOOK: dict[str, Any] = {"id": 1, "module": "gateway:CustomWebHook"}
AFTER: dict[str, Any] = {"id": 3, "module": "util:ComposeTransformer", "mapper": {"value": "x"}}


def _parser(**mapper: Any) -> dict[str, Any]:
    return {"id": 2, "module": "regexp:Parser", "mapper": {"text": "{{1.text}}", **mapper}}


def _replace(**mapper: Any) -> dict[str, Any]:
    return {"id": 2, "module": "regexp:Replace", "mapper": {"text": "{{1.text}}", **mapper}}


# -- match pattern ----------------------------------------------------------------------------


def test_global_match_gives_one_bundle_per_match_with_groups() -> None:
    outcome = run_flow(
        [
            WEBHOOK,
            _parser(pattern=r"(?<user>\w+)@(\w+)\.com", **{"global": True}),
            {"id": 3, "module": "util:ComposeTransformer", "mapper": {"value": "{{2.user}}"}},
        ],
        {"text": "ada@example.com, bob@test.com and nobody"},
    )
    assert outcome.status == "success"
    assert outcome.outputs(2) == [
        {
            "i": 1,
            "$0": "ada@example.com",
            "$1": "ada",
            "$2": "example",
            "user": "ada",
            "fallbackMatch": False,
        },
        {
            "i": 2,
            "$0": "bob@test.com",
            "$1": "bob",
            "$2": "test",
            "user": "bob",
            "fallbackMatch": False,
        },
    ]
    assert outcome.outputs(3) == [{"value": "ada"}, {"value": "bob"}]
    # Match pattern is one operation; the route after it runs once per match.
    assert (outcome.ops(2), outcome.ops(3)) == (1, 2)


def test_without_global_only_the_first_match_and_unmatched_groups_are_null() -> None:
    outcome = run_flow([WEBHOOK, _parser(pattern=r"(\d+)(x)?")], {"text": "a 12 b 34"})
    assert outcome.outputs(2) == [
        {"i": 1, "$0": "12", "$1": "12", "$2": None, "fallbackMatch": False}
    ]


def test_case_sensitive_is_on_unless_unchecked() -> None:
    flow = [WEBHOOK, _parser(pattern="abc", **{"global": True})]
    assert run_flow(flow, {"text": "ABC abc"}).outputs(2) == [
        {"i": 1, "$0": "abc", "fallbackMatch": False}
    ]
    insensitive = [WEBHOOK, _parser(pattern="abc", sensitive=False, **{"global": True})]
    assert [b["$0"] for b in run_flow(insensitive, {"text": "ABC abc"}).outputs(2)] == [
        "ABC",
        "abc",
    ]


def test_multiline_and_singleline() -> None:
    text = "one\ntwo"
    lines = [WEBHOOK, _parser(pattern="^\\w+$", multiline=True, **{"global": True})]
    assert [b["$0"] for b in run_flow(lines, {"text": text}).outputs(2)] == ["one", "two"]
    assert run_flow([WEBHOOK, _parser(pattern="^\\w+$")], {"text": text}).outputs(2) == []
    dot_all = [WEBHOOK, _parser(pattern="one.two", singleline=True)]
    assert run_flow(dot_all, {"text": text}).outputs(2)[0]["$0"] == text
    assert run_flow([WEBHOOK, _parser(pattern="one.two")], {"text": text}).outputs(2) == []


def test_no_match_stops_the_route_unless_continue_is_set() -> None:
    stopped = run_flow([WEBHOOK, _parser(pattern="z+"), AFTER], {"text": "abc"})
    assert stopped.status == "success"
    assert (stopped.outputs(2), stopped.ops(3)) == ([], 0)
    going = run_flow(
        [WEBHOOK, _parser(pattern="z+", continueWhenNoRes=True), AFTER], {"text": "abc"}
    )
    assert going.outputs(2) == [{"i": 0, "fallbackMatch": True}]
    assert going.ops(3) == 1


def test_javascript_classes_stay_ascii() -> None:
    outcome = run_flow([WEBHOOK, _parser(pattern=r"\d+", **{"global": True})], {"text": "٣ 42"})
    assert [b["$0"] for b in outcome.outputs(2)] == ["42"]


def test_a_catastrophic_pattern_fails_the_module_instead_of_hanging() -> None:
    outcome = run_flow([WEBHOOK, _parser(pattern="(a|aa)+$")], {"text": "a" * 60 + "!"})
    assert outcome.status == "error"
    assert outcome.errors(2) == ["DataError"]


@pytest.mark.parametrize("pattern", ["", "(unclosed"])
def test_an_empty_or_invalid_pattern_is_a_data_error(pattern: str) -> None:
    outcome = run_flow([WEBHOOK, _parser(pattern=pattern)], {"text": "abc"})
    assert outcome.errors(2) == ["DataError"]


# -- replace ----------------------------------------------------------------------------------


def test_replace_every_match_with_groups_and_whole_match() -> None:
    outcome = run_flow(
        [WEBHOOK, _replace(pattern=r"(\w+)@(\w+)", value="$2:$1 <$&>", **{"global": True})],
        {"text": "ada@x, bob@y"},
    )
    assert outcome.outputs(2) == [{"text": "x:ada <ada@x>, y:bob <bob@y>"}]
    assert outcome.ops(2) == 1


def test_replace_without_global_replaces_the_first_match_only() -> None:
    outcome = run_flow([WEBHOOK, _replace(pattern="o", value="0")], {"text": "foo"})
    assert outcome.outputs(2) == [{"text": "f0o"}]


def test_replace_with_named_groups_and_case_insensitive() -> None:
    outcome = run_flow(
        [
            WEBHOOK,
            _replace(
                pattern="(?<word>HELLO)", value="[$<word>]", sensitive=False, **{"global": True}
            ),
        ],
        {"text": "hello Hello"},
    )
    assert outcome.outputs(2) == [{"text": "[hello] [Hello]"}]


def test_replace_with_an_empty_value_removes_the_matches() -> None:
    outcome = run_flow(
        [WEBHOOK, _replace(pattern=r"\s+", value="", **{"global": True})], {"text": " a b  c "}
    )
    assert outcome.outputs(2) == [{"text": "abc"}]


# -- HTML -------------------------------------------------------------------------------------

HTML = """<html><head><title>T</title><style>p {color: red}</style></head><body>
<h1>Hello &amp; welcome</h1>
<p>First   paragraph<br>second line with a <a href="https://example.com/x">link</a>.</p>
<script>alert("no")</script>
<ul><li>one</li><li>two</li></ul>
<table><tr><td>a</td><td>b</td></tr></table>
<img src="/logo.png" alt="logo"><img src=" https://cdn.example.com/p.jpg ">
<iframe src="https://video.example.com/embed"></iframe>
<a href="#top">top</a></body></html>"""


def test_html_to_text() -> None:
    outcome = run_flow(
        [WEBHOOK, {"id": 2, "module": "regexp:HTMLToText", "mapper": {"html": "{{1.html}}"}}],
        {"html": HTML},
    )
    assert outcome.outputs(2) == [
        {
            "text": "Hello & welcome\n\nFirst paragraph\nsecond line with a link "
            "[https://example.com/x].\n\n* one\n* two\n\na\tb\n\ntop"
        }
    ]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("images", ["/logo.png", "https://cdn.example.com/p.jpg"]),
        ("links", ["https://example.com/x", "#top"]),
        ("iframes", ["https://video.example.com/embed"]),
    ],
)
def test_get_elements_from_html_gives_one_bundle_per_element(
    kind: str, expected: list[str]
) -> None:
    outcome = run_flow(
        [
            WEBHOOK,
            {
                "id": 2,
                "module": "regexp:GetElementsFromHTML",
                "mapper": {"html": "{{1.html}}", "type": kind},
            },
        ],
        {"html": HTML},
    )
    assert outcome.outputs(2) == [{"i": i, "element": e} for i, e in enumerate(expected, 1)]


def test_get_elements_of_an_unknown_type_is_a_data_error() -> None:
    outcome = run_flow(
        [
            WEBHOOK,
            {
                "id": 2,
                "module": "regexp:GetElementsFromHTML",
                "mapper": {"html": "<p>x</p>", "type": "videos"},
            },
        ],
    )
    assert outcome.errors(2) == ["DataError"]
