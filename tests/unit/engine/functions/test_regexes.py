"""JavaScript regular expressions on the `regex` module, bounded by a timeout."""

from __future__ import annotations

import time

import pytest
from scenarist_engine.errors import ExpressionError, ExpressionLimitError
from scenarist_engine.iml import regexes

T = 1.0


class TestParseLiteral:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("/abc/", ("abc", "")),
            ("/a\\/b/gi", ("a\\/b", "gi")),
            ("/\\d+/gmsuy", ("\\d+", "gmsuy")),
        ],
    )
    def test_literals(self, text: str, expected: tuple[str, str]) -> None:
        assert regexes.parse_regex_literal(text) == expected

    @pytest.mark.parametrize("text", ["abc", "/", "//", "/abc", "a/b/", "/a/x", "/a/gg", ""])
    def test_plain_text(self, text: str) -> None:
        assert regexes.parse_regex_literal(text) is None


class TestSearch:
    def test_basic(self) -> None:
        assert regexes.search(r"^\d{3}-\d{4}$", "555-1234", timeout=T) is True
        assert regexes.search("abc", "xxABCxx", timeout=T) is False
        assert regexes.search("abc", "xxABCxx", ignore_case=True, timeout=T) is True

    def test_digits_and_words_are_ascii_as_in_javascript(self) -> None:
        assert regexes.search(r"\d", "٣", timeout=T) is False
        assert regexes.search(r"^\w+$", "é", timeout=T) is False
        assert regexes.search(r"^[\w]+$", "a_1", timeout=T) is True
        assert regexes.search(r"^\W$", "é", timeout=T) is True

    def test_dollar_does_not_match_before_final_newline(self) -> None:
        assert regexes.search("abc$", "abc\n", timeout=T) is False
        assert regexes.search("abc$", "abc", timeout=T) is True

    def test_dot_does_not_match_line_terminators(self) -> None:
        assert regexes.search("a.c", "a\rc", timeout=T) is False
        assert regexes.search("a.c", "a\u2028c", timeout=T) is False

    def test_javascript_only_syntax(self) -> None:
        assert regexes.search("[^]", "\n", timeout=T) is True
        assert regexes.search("[]", "anything", timeout=T) is False
        assert regexes.search(r"\u{1F600}", "😀", timeout=T) is True
        assert regexes.search(r"\u00e9", "é", timeout=T) is True
        assert regexes.search(r"\cJ", "\n", timeout=T) is True
        assert regexes.search(r"(?<q>['\"]).*\k<q>", "say 'hi'", timeout=T) is True
        assert regexes.search(r"\/path", "/path", timeout=T) is True
        assert regexes.search(r"\e", "e", timeout=T) is True  # Annex B identity escape

    def test_brackets_inside_classes_are_literal(self) -> None:
        assert regexes.search("[[a]", "[", timeout=T) is True
        assert regexes.search("[a&&b]", "&", timeout=T) is True

    def test_invalid_pattern(self) -> None:
        with pytest.raises(ExpressionError, match="invalid regular expression"):
            regexes.search("(", "x", timeout=T)
        with pytest.raises(ExpressionError, match="invalid regular expression"):
            regexes.search("a\\", "x", timeout=T)

    def test_invalid_flags(self) -> None:
        with pytest.raises(ExpressionError, match="flags"):
            regexes.compile_pattern("a", "x")
        with pytest.raises(ExpressionError, match="flags"):
            regexes.compile_pattern("a", "gg")


class TestFlags:
    def test_multiline(self) -> None:
        assert regexes.sub("^a", "gm", "b", "a\na", timeout=T) == "b\nb"
        assert regexes.sub("^a", "g", "b", "a\na", timeout=T) == "b\na"

    def test_dot_all(self) -> None:
        assert regexes.sub("a.b", "s", "x", "a\nb", timeout=T) == "x"
        assert regexes.sub("a.b", "", "x", "a\nb", timeout=T) == "a\nb"

    def test_sticky(self) -> None:
        assert regexes.sub("a", "gy", "x", "aaba", timeout=T) == "xxba"
        assert regexes.sub("b", "y", "x", "ab", timeout=T) == "ab"

    def test_compile_is_cached(self) -> None:
        assert regexes.compile_pattern("a+", "i") is regexes.compile_pattern("a+", "i")


class TestReplacement:
    def test_groups_and_whole_match(self) -> None:
        text = "123456"
        assert regexes.sub(r"(\d{3})(\d{3})", "", "$2-$1", text, timeout=T) == "456-123"
        assert regexes.sub(r"\d{3}", "g", "[$&]", text, timeout=T) == "[123][456]"

    def test_dollar_escapes(self) -> None:
        assert regexes.sub("b", "", "$$", "abc", timeout=T) == "a$c"
        assert regexes.sub("b", "", "$`|$'", "abc", timeout=T) == "aa|cc"
        assert regexes.sub("b", "", "$", "abc", timeout=T) == "a$c"
        assert regexes.sub("b", "", "$x", "abc", timeout=T) == "a$xc"

    def test_group_numbers_follow_javascript(self) -> None:
        # $10 with two groups is $1 followed by "0"; $3 with two groups stays literal.
        assert regexes.sub("(a)(b)", "", "$10|$3|$02", "ab", timeout=T) == "a0|$3|b"
        # An unmatched group is empty text.
        assert regexes.sub("(a)|(b)", "g", "[$2]", "ab", timeout=T) == "[][b]"

    def test_named_groups(self) -> None:
        pattern = r"(?<year>\d{4})-(?<month>\d{2})"
        assert regexes.sub(pattern, "", "$<month>/$<year>", "2024-05", timeout=T) == "05/2024"
        assert regexes.sub("(a)", "", "$<x>", "a", timeout=T) == "$<x>"

    def test_only_first_without_g(self) -> None:
        assert regexes.sub("o", "", "0", "foo", timeout=T) == "f0o"
        assert regexes.sub("o", "g", "0", "foo", timeout=T) == "f00"

    def test_empty_matches_like_javascript(self) -> None:
        assert regexes.sub("x*", "g", "-", "abc", timeout=T) == "-a-b-c-"

    def test_result_size_is_bounded(self) -> None:
        with pytest.raises(ExpressionLimitError):
            regexes.sub("a", "g", "xxxxx", "a" * 100, timeout=T, max_length=200)


class TestCatastrophicPatterns:
    @pytest.mark.parametrize(("pattern", "text"), [("(a+)+$", "a" * 5000 + "!")])
    def test_search_is_refused_not_hung(self, pattern: str, text: str) -> None:
        started = time.monotonic()
        with pytest.raises(ExpressionLimitError, match="took too long"):
            regexes.search(pattern, text, timeout=0.05)
        assert time.monotonic() - started < 5

    def test_sub_is_refused_not_hung(self) -> None:
        with pytest.raises(ExpressionLimitError, match="took too long"):
            regexes.sub("(a|aa)+$", "g", "x", "a" * 60 + "!", timeout=0.05)
