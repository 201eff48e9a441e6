"""Text and binary functions, with the examples from help.make.com/text-and-binary-functions."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pytest
from scenarist_engine.errors import ExpressionError, ExpressionLimitError
from scenarist_engine.iml.context import EvalContext, Limits
from scenarist_engine.iml.functions import lookup


def call(name: str, *args: Any, ctx: EvalContext | None = None) -> Any:
    return lookup(name).call(ctx or EvalContext(), list(args))


def small(max_text: int = 20, max_array: int = 5) -> EvalContext:
    return EvalContext(limits=Limits(max_text_length=max_text, max_array_length=max_array))


class TestCase:
    def test_documented(self) -> None:
        # Make: lower(Hello) = hello, upper(Hello) = HELLO, capitalize(make) = Make
        assert call("lower", "Hello") == "hello"
        assert call("upper", "Hello") == "HELLO"
        assert call("capitalize", "make") == "Make"

    def test_capitalize_leaves_the_rest(self) -> None:
        assert call("capitalize", "hello WORLD") == "Hello WORLD"
        assert call("capitalize", "") == ""

    def test_startcase(self) -> None:
        # Make: startcase(hello) = Hello; the spec: startcase("hello WORLD") = "Hello World"
        assert call("startcase", "hello") == "Hello"
        assert call("startcase", "hello WORLD") == "Hello World"
        assert call("startcase", "  o'neil  and   éMILE ") == "  O'neil  And   Émile "

    def test_numbers_and_null_become_text(self) -> None:
        assert call("upper", 12) == "12"
        assert call("lower", None) == ""

    def test_arrays_are_a_type_error(self) -> None:
        with pytest.raises(ExpressionError, match="lower\\(\\): text must be text, got array"):
            call("lower", ["A"])
        with pytest.raises(ExpressionError, match="got collection"):
            call("upper", {"a": 1})

    def test_upper_growth_is_bounded(self) -> None:
        with pytest.raises(ExpressionLimitError):
            call("upper", "ß" * 15, ctx=small())


class TestAscii:
    def test_documented(self) -> None:
        # Make: ascii(Wěš) = W, ascii(ěščř; true) = escr
        assert call("ascii", "Wěš") == "W"
        assert call("ascii", "ěščř", True) == "escr"

    def test_letters_without_decomposition(self) -> None:
        assert call("ascii", "Łódź straße Æsir", True) == "Lodz strasse AEsir"

    def test_emoji_and_cjk_are_removed(self) -> None:
        assert call("ascii", "ok 😀 日本", True) == "ok  "


class TestTrimAndToString:
    def test_trim(self) -> None:
        # Make: trim( Make ) = Make
        assert call("trim", "  Make  ") == "Make"
        assert call("trim", "\u00a0\ufeff\tMake\n") == "Make"

    def test_to_string(self) -> None:
        assert call("toString", 42) == "42"
        assert call("toString", 1.5) == "1.5"
        assert call("toString", True) == "true"
        assert call("toString", None) == ""
        assert call("toString", {"a": [1, 2]}) == '{"a":[1,2]}'
        assert call("toString", b"Make") == "Make"

    def test_to_string_of_absurd_nesting_is_a_limit(self) -> None:
        deep: Any = []
        for _ in range(5000):
            deep = [deep]
        with pytest.raises(ExpressionLimitError):
            call("toString", {"a": deep})


class TestUrlAndEscaping:
    def test_encode_url(self) -> None:
        # Make: encodeURL(Automate your workflow) = Automate%20your%20workflow
        assert call("encodeURL", "Automate your workflow") == "Automate%20your%20workflow"
        # As encodeURIComponent: these stay, everything else is escaped.
        assert call("encodeURL", "A-z_0.9!~*'()") == "A-z_0.9!~*'()"
        assert call("encodeURL", "a/b?c=d&e#é") == "a%2Fb%3Fc%3Dd%26e%23%C3%A9"

    def test_decode_url(self) -> None:
        # Make: decodeURL(Automate%20your%20workflow) = Automate your workflow
        assert call("decodeURL", "Automate%20your%20workflow") == "Automate your workflow"
        assert call("decodeURL", "a+b%C3%A9") == "a+bé"

    def test_decode_url_invalid_utf8(self) -> None:
        with pytest.raises(ExpressionError, match="percent-encoded"):
            call("decodeURL", "%C3")

    def test_escape_html(self) -> None:
        # Make: escapeHTML(<div>Hello</div>) = &lt;div&gt;Hello&lt;/div&gt;
        assert call("escapeHTML", "<div>Hello</div>") == "&lt;div&gt;Hello&lt;/div&gt;"
        assert call("escapeHTML", 'Tom & "Jerry\'s"') == "Tom &amp; &quot;Jerry&#39;s&quot;"

    def test_escape_markdown(self) -> None:
        # Make: escapeMarkdown(# Header) = \# Header
        assert call("escapeMarkdown", "# Header") == "\\# Header"
        assert call("escapeMarkdown", "*bold* _x_ [a](b)") == "\\*bold\\* \\_x\\_ \\[a\\]\\(b\\)"

    def test_strip_html(self) -> None:
        # Make: stripHTML(<b>Hello</b>) = Hello
        assert call("stripHTML", "<b>Hello</b>") == "Hello"
        assert call("stripHTML", '<p class="x">a<br/>b</p><!-- note -->') == "ab"
        assert call("stripHTML", "1 < 2 and 3 > 2") == "1 < 2 and 3 > 2"
        assert call("stripHTML", "a <!-- unclosed") == "a "

    def test_strip_html_is_linear(self) -> None:
        text = "<a" * 100_000
        assert call("stripHTML", text) == text

    def test_escape_growth_is_bounded(self) -> None:
        with pytest.raises(ExpressionLimitError):
            call("escapeHTML", "<" * 10, ctx=small())


class TestEmoji:
    def test_removed_by_default(self) -> None:
        # Make: replaceEmojiCharacters(Hello 😀; ) = "Hello "
        assert call("replaceEmojiCharacters", "Hello 😀") == "Hello "

    def test_sequences_count_once(self) -> None:
        text = "a👍🏽b👨‍👩‍👧c🇨🇿d1️⃣e"
        assert call("replaceEmojiCharacters", text, "*") == "a*b*c*d*e"

    def test_text_symbols_stay_unless_emoji_styled(self) -> None:
        assert call("replaceEmojiCharacters", "© 2024 ™ 1 #", "?") == "© 2024 ™ 1 #"
        assert call("replaceEmojiCharacters", "©️", "?") == "?"

    def test_growth_is_bounded(self) -> None:
        with pytest.raises(ExpressionLimitError):
            call("replaceEmojiCharacters", "😀" * 5, "x" * 10, ctx=small())


class TestContainsIndexOfLength:
    def test_contains_text(self) -> None:
        # Make: contains(Hello World; Hello) = true, contains(Hello World; hello) = false
        assert call("contains", "Hello World", "Hello") is True
        assert call("contains", "Hello World", "hello") is False

    def test_contains_array(self) -> None:
        # Make: contains(array; value)
        assert call("contains", ["urgent", "billing"], "urgent") is True
        assert call("contains", [1, 2], 2.0) is True
        assert call("contains", [1, 2], "2") is False
        assert call("contains", [{"a": 1}], {"a": 1}) is True

    def test_contains_null_and_bad_types(self) -> None:
        assert call("contains", None, "x") is False
        with pytest.raises(ExpressionError, match="text or an array"):
            call("contains", {"a": 1}, "a")

    def test_index_of(self) -> None:
        # Make: indexOf(Make; k) = 2, indexOf(We love Make; x) = -1,
        # indexOf(We love Make; e; 7) = 11
        assert call("indexOf", "Make", "k") == 2
        assert call("indexOf", "We love Make", "x") == -1
        assert call("indexOf", "We love Make", "e", 7) == 11

    def test_index_of_array_and_clamping(self) -> None:
        assert call("indexOf", ["a", "b", "a"], "a", 1) == 2
        assert call("indexOf", ["a", "b"], "b", -1) == 1
        assert call("indexOf", "abc", "", 10) == 3
        with pytest.raises(ExpressionError, match="start must be a number"):
            call("indexOf", "abc", "a", "x")

    def test_length(self) -> None:
        # Make: length(hello) = 5; length of an array is its item count
        assert call("length", "hello") == 5
        assert call("length", [1, 2, 3]) == 3
        assert call("length", b"\x00\x01") == 2
        assert call("length", None) == 0
        assert call("length", {"a": 1, "b": 2}) == 2
        assert call("length", 1234) == 4


class TestReplace:
    def test_documented_plain(self) -> None:
        # Make: replace(Hello World; Hello; Hi) = Hi World
        assert call("replace", "Hello World", "Hello", "Hi") == "Hi World"

    def test_plain_replaces_every_occurrence_literally(self) -> None:
        assert call("replace", "a.b.c", ".", "-") == "a-b-c"
        assert call("replace", "a.b", ".", "$&$&") == "a$&$&b"
        assert call("replace", "abc", "", "x") == "abc"

    def test_regex_with_groups(self) -> None:
        # Make: replace(...; /(\d{3})(\d{3})/; $1-$2)
        assert call("replace", "phone 123456", r"/(\d{3})(\d{3})/", "$1-$2") == "phone 123-456"

    def test_regex_flags(self) -> None:
        # Make: replace(Make is great; /m/gi; x) replaces every m, any case
        assert call("replace", "Make me", "/m/gi", "x") == "xake xe"
        assert call("replace", "Make me", "/m/i", "x") == "xake me"
        assert call("replace", "aaa", "/a/", "b") == "baa"

    def test_whole_match(self) -> None:
        assert call("replace", "cat hat", "/[ch]at/g", "<$&>") == "<cat> <hat>"

    def test_remove_with_empty_replacement(self) -> None:
        assert call("replace", "a1b22c", r"/\d+/g", "") == "abc"
        assert call("replace", "a1b", r"/\d/", None) == "ab"

    def test_invalid_regex(self) -> None:
        with pytest.raises(ExpressionError, match="invalid regular expression"):
            call("replace", "abc", "/(/g", "x")

    def test_size_limit(self) -> None:
        with pytest.raises(ExpressionLimitError):
            call("replace", "aaaa", "a", "x" * 10, ctx=small())
        with pytest.raises(ExpressionLimitError):
            call("replace", "aaaa", "/a/g", "x" * 10, ctx=small())

    def test_catastrophic_regex_is_refused(self) -> None:
        ctx = EvalContext(limits=Limits(regex_timeout_seconds=0.05))
        with pytest.raises(ExpressionLimitError, match="took too long"):
            call("replace", "a" * 5000 + "!", "/(a+)+$/", "x", ctx=ctx)


class TestSplitSubstring:
    def test_split(self) -> None:
        # Make: split(John, George, Paul; ", ") = [John, George, Paul]
        assert call("split", "John, George, Paul", ", ") == ["John", "George", "Paul"]
        assert call("split", "abc", "") == ["a", "b", "c"]
        assert call("split", "a,,b", ",") == ["a", "", "b"]

    def test_split_empty(self) -> None:
        assert call("split", "", ",") == []
        assert call("split", None, ",") == []

    def test_split_limit(self) -> None:
        with pytest.raises(ExpressionLimitError):
            call("split", "a,b,c,d,e,f", ",", ctx=small())

    def test_substring(self) -> None:
        # Make: substring(Hello; 0; 3) = Hel, substring(Hello; 1; 3) = el
        assert call("substring", "Hello", 0, 3) == "Hel"
        assert call("substring", "Hello", 1, 3) == "el"

    def test_substring_js_semantics(self) -> None:
        assert call("substring", "Hello", 3, 1) == "el"
        assert call("substring", "Hello", -2, 2) == "He"
        assert call("substring", "Hello", 2) == "llo"
        assert call("substring", "Hello", 1, 100) == "ello"
        assert call("substring", "Hello", "1", 2.9) == "e"

    def test_substring_bad_index(self) -> None:
        with pytest.raises(ExpressionError, match="start must be a number"):
            call("substring", "Hello", "x", 2)
        with pytest.raises(ExpressionError, match="start must be a number"):
            call("substring", "Hello", None, 2)


class TestBinary:
    def test_base64(self) -> None:
        # Make: base64(Make) = TWFrZQ==
        assert call("base64", "Make") == "TWFrZQ=="
        assert call("base64", b"\xff") == "/w=="

    def test_to_binary(self) -> None:
        # Make: toBinary(Make) is the buffer 4d 61 6b 65; toBinary(base64(Make); base64) too
        assert call("toBinary", "Make") == b"Make"
        assert call("toBinary", "TWFrZQ==", "base64") == b"Make"
        assert call("toBinary", "TWFrZQ", "base64") == b"Make"
        assert call("toBinary", "4d616b65", "hex") == b"Make"
        assert call("toString", call("toBinary", "Make")) == "Make"

    def test_to_binary_errors(self) -> None:
        with pytest.raises(ExpressionError, match="not valid hex"):
            call("toBinary", "zz", "hex")
        with pytest.raises(ExpressionError, match="unknown encoding"):
            call("toBinary", "a", "utf32")

    def test_md5_sha1(self) -> None:
        # Make: md5(Make) = 529a05ca6c1263aab080ec4f20754411
        assert call("md5", "Make") == "529a05ca6c1263aab080ec4f20754411"
        assert call("sha1", "Make") == "a94431ee22f05f141107f9355ed3127d0f0c4d5a"

    def test_sha2(self) -> None:
        assert call("sha256", "Make") == hashlib.sha256(b"Make").hexdigest()
        assert call("sha512", "Make") == hashlib.sha512(b"Make").hexdigest()

    def test_encodings(self) -> None:
        digest = hashlib.sha256(b"Make").digest()
        assert call("sha256", "Make", "base64") == "zN0l1CMPuZen7hFm+K+r0VckjrgS6lXsfD0bfIr3+hE="
        assert call("sha256", "Make", "latin1") == digest.decode("latin-1")
        with pytest.raises(ExpressionError, match="hex, base64 or latin1"):
            call("sha256", "Make", "utf16")

    def test_hmac(self) -> None:
        expected = hmac.new(b"secret", b"Make", "sha256").hexdigest()
        assert call("sha256", "Make", "hex", "secret") == expected
        assert call("sha256", "Make", "hex", "736563726574", "hex") == expected
        assert call("sha256", "Make", "hex", "c2VjcmV0", "base64") == expected
        assert call("sha1", "Make", "hex", "k") == hmac.new(b"k", b"Make", "sha1").hexdigest()

    def test_buffers_hash_as_bytes(self) -> None:
        assert call("md5", b"\xff") == hashlib.md5(b"\xff").hexdigest()
