"""IML text functions: ascii, capitalize, decodeURL, encodeURL, escapeHTML, escapeMarkdown,
lower, upper, replaceEmojiCharacters, startcase, stripHTML, toString, trim.

Functions that search or cut text (contains, indexOf, length, replace, split, substring) live
in text_search.py; hashing and buffers in binary.py.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from typing import Any

import regex  # type: ignore[import-untyped]

from scenarist_engine.errors import ExpressionError, ExpressionLimitError
from scenarist_engine.iml.context import EvalContext
from scenarist_engine.iml.functions._helpers import any_text, builtin, check_text, text_arg
from scenarist_engine.iml.values import truthy

CATEGORY = "text"

# Letters NFKD does not decompose, spelled the way lodash's deburr spells them.
_DEBURR = str.maketrans(
    {
        "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
        "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th",
        "ı": "i", "ĳ": "ij", "Ĳ": "IJ", "ŀ": "l", "Ŀ": "L", "ŉ": "'n", "ĸ": "k", "ſ": "s",
        "ħ": "h", "Ħ": "H", "ŧ": "t", "Ŧ": "T", "ŋ": "n", "Ŋ": "N",
    }
)  # fmt: skip
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
# JavaScript's String.prototype.trim whitespace, which includes the byte-order mark.
_JS_WHITESPACE = (
    " \t\n\v\f\r\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_HTML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})
_MARKDOWN_SPECIAL = "\\`*_{}[]()#+-.!|<>~"
_MARKDOWN_ESCAPES = str.maketrans({char: "\\" + char for char in _MARKDOWN_SPECIAL})
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# One emoji, including skin tones, ZWJ sequences, flags, keycaps and tag sequences. Text-style
# symbols such as © only count when followed by the emoji variation selector U+FE0F.
_EMOJI_PART = (
    r"(?:\p{Emoji_Presentation}|\p{Extended_Pictographic}\uFE0F)"
    r"(?:\p{Emoji_Modifier}|\uFE0F|[\U000E0020-\U000E007F])*"
)
_EMOJI_JOINED = r"(?:\p{Extended_Pictographic}|\p{Emoji_Presentation})\uFE0F?\p{Emoji_Modifier}?"
_EMOJI = regex.compile(
    rf"\p{{Regional_Indicator}}{{2}}|[#*0-9]\uFE0F?\u20E3|{_EMOJI_PART}(?:\u200D{_EMOJI_JOINED})*"
)


def _text(ctx: EvalContext, value: Any, fn: str) -> str:
    return text_arg(value, fn)


@builtin(
    "ascii", min_args=1, max_args=2, signature="ascii(text; [removeDiacritics])", category=CATEGORY
)
def ascii_(ctx: EvalContext, value: Any, remove_diacritics: Any = False) -> str:
    """Text with non-ASCII characters removed; with true, accented letters lose their accents."""
    text = _text(ctx, value, "ascii")
    if truthy(remove_diacritics):
        decomposed = unicodedata.normalize("NFKD", text.translate(_DEBURR))
        text = "".join(char for char in decomposed if not unicodedata.combining(char))
    return check_text(ctx, _NON_ASCII.sub("", text), "ascii")


@builtin("capitalize", min_args=1, max_args=1, signature="capitalize(text)", category=CATEGORY)
def capitalize(ctx: EvalContext, value: Any) -> str:
    """Text with its first character in upper case; the rest is unchanged."""
    text = _text(ctx, value, "capitalize")
    return check_text(ctx, text[:1].upper() + text[1:], "capitalize")


@builtin("startcase", min_args=1, max_args=1, signature="startcase(text)", category=CATEGORY)
def startcase(ctx: EvalContext, value: Any) -> str:
    """Every word capitalised and the rest of it lower-cased ("hello WORLD" -> "Hello World")."""
    text = _text(ctx, value, "startcase")
    result = _WORD.sub(lambda m: m.group(0)[:1].upper() + m.group(0)[1:].lower(), text)
    return check_text(ctx, result, "startcase")


@builtin("lower", min_args=1, max_args=1, signature="lower(text)", category=CATEGORY)
def lower(ctx: EvalContext, value: Any) -> str:
    """Text in lower case."""
    return check_text(ctx, _text(ctx, value, "lower").lower(), "lower")


@builtin("upper", min_args=1, max_args=1, signature="upper(text)", category=CATEGORY)
def upper(ctx: EvalContext, value: Any) -> str:
    """Text in upper case."""
    return check_text(ctx, _text(ctx, value, "upper").upper(), "upper")


@builtin("trim", min_args=1, max_args=1, signature="trim(text)", category=CATEGORY)
def trim(ctx: EvalContext, value: Any) -> str:
    """Text without leading and trailing whitespace."""
    return _text(ctx, value, "trim").strip(_JS_WHITESPACE)


@builtin("toString", min_args=1, max_args=1, signature="toString(value)", category=CATEGORY)
def to_string(ctx: EvalContext, value: Any) -> str:
    """Any value as text: buffers decode as UTF-8, collections become JSON."""
    return check_text(ctx, any_text(value), "toString")


@builtin("encodeURL", min_args=1, max_args=1, signature="encodeURL(text)", category=CATEGORY)
def encode_url(ctx: EvalContext, value: Any) -> str:
    """Text percent-encoded for use in a URL, like JavaScript's encodeURIComponent."""
    text = _text(ctx, value, "encodeURL")
    try:
        encoded = urllib.parse.quote(text, safe="!*'()", errors="strict")
    except UnicodeEncodeError as exc:
        raise ExpressionError("encodeURL(): text contains an unpaired surrogate") from exc
    return check_text(ctx, encoded, "encodeURL")


@builtin("decodeURL", min_args=1, max_args=1, signature="decodeURL(text)", category=CATEGORY)
def decode_url(ctx: EvalContext, value: Any) -> str:
    """Percent-encoded text decoded, like JavaScript's decodeURIComponent ("+" stays "+")."""
    text = _text(ctx, value, "decodeURL")
    try:
        return urllib.parse.unquote(text, errors="strict")
    except UnicodeDecodeError as exc:
        raise ExpressionError("decodeURL(): text is not valid percent-encoded UTF-8") from exc


@builtin("escapeHTML", min_args=1, max_args=1, signature="escapeHTML(text)", category=CATEGORY)
def escape_html(ctx: EvalContext, value: Any) -> str:
    """Text with &, <, >, " and ' replaced by HTML entities."""
    escaped = _text(ctx, value, "escapeHTML").translate(_HTML_ESCAPES)
    return check_text(ctx, escaped, "escapeHTML")


@builtin(
    "escapeMarkdown", min_args=1, max_args=1, signature="escapeMarkdown(text)", category=CATEGORY
)
def escape_markdown(ctx: EvalContext, value: Any) -> str:
    """Text with Markdown's special characters backslash-escaped ("#Header" -> "\\#Header")."""
    escaped = _text(ctx, value, "escapeMarkdown").translate(_MARKDOWN_ESCAPES)
    return check_text(ctx, escaped, "escapeMarkdown")


def _tag_end(text: str, start: int) -> int:
    """Index after the tag or comment opening at `start`; -1 to drop the rest of the text."""
    if text.startswith("<!--", start):
        end = text.find("-->", start + 4)
        return -1 if end < 0 else end + 3
    end = text.find(">", start + 1)
    return -1 if end < 0 else end + 1


@builtin("stripHTML", min_args=1, max_args=1, signature="stripHTML(text)", category=CATEGORY)
def strip_html(ctx: EvalContext, value: Any) -> str:
    """Text with HTML tags and comments removed; a "<" that starts no tag is kept."""
    text = _text(ctx, value, "stripHTML")
    # A linear scan rather than a regex: no input can make it backtrack.
    out: list[str] = []
    position = 0
    while (start := text.find("<", position)) >= 0:
        following = text[start + 1 : start + 2]
        if not (following.isalpha() or following in ("/", "!", "?")):
            out.append(text[position : start + 1])
            position = start + 1
            continue
        end = _tag_end(text, start)
        out.append(text[position:start])
        if end < 0:
            if not text.startswith("<!--", start):
                out.append(text[start:])  # an unclosed "<x" is text, not a tag
            position = len(text)
            break
        position = end
    out.append(text[position:])
    return "".join(out)


@builtin(
    "replaceEmojiCharacters",
    min_args=1,
    max_args=2,
    signature="replaceEmojiCharacters(text; [replacement])",
    category=CATEGORY,
)
def replace_emoji_characters(ctx: EvalContext, value: Any, replacement: Any = None) -> str:
    """Text with every emoji replaced by the replacement (removed by default)."""
    text = _text(ctx, value, "replaceEmojiCharacters")
    substitute = text_arg(replacement, "replaceEmojiCharacters", "replacement")
    # Count first so a long replacement cannot build a huge string before the limit check.
    count = sum(1 for _ in _EMOJI.finditer(text, timeout=ctx.limits.regex_timeout_seconds))
    if len(text) + count * len(substitute) > ctx.limits.max_text_length:
        raise ExpressionLimitError(
            f"replaceEmojiCharacters(): result is longer than {ctx.limits.max_text_length}"
        )
    timeout = ctx.limits.regex_timeout_seconds
    return str(_EMOJI.sub(lambda _match: substitute, text, timeout=timeout))
