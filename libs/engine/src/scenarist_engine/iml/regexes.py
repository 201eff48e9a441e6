"""JavaScript regular expressions, run safely on the `regex` module.

Make evaluates regexes in JavaScript, so patterns, flags and replacement strings here follow
ECMAScript. Every match runs with a timeout: a catastrophic pattern such as `(a+)+$` is refused
with an ExpressionLimitError instead of hanging the worker.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import regex  # type: ignore[import-untyped]

from scenarist_engine.errors import ExpressionError, ExpressionLimitError

JS_FLAGS = frozenset("gimsuyd")
MAX_PATTERN_LENGTH = 32_768
_CACHE_SIZE = 256

# JavaScript's \d and \w are ASCII-only, unlike Python's Unicode-aware defaults.
_ASCII_CLASSES = {"d": "[0-9]", "D": "[^0-9]", "w": "[A-Za-z0-9_]", "W": "[^A-Za-z0-9_]"}
_ASCII_IN_CLASS = {"d": "0-9", "w": "A-Za-z0-9_"}
# Escapes JavaScript understands; any other escaped ASCII letter is that letter (Annex B).
_KNOWN_ESCAPES = frozenset("dDwWsSbBnrtfv0123456789xukcpP")
# Characters the `regex` module may read as set operators inside a class.
_CLASS_SPECIAL = frozenset("[&~|")
_JS_DOT = r"[^\n\r\u2028\u2029]"


def parse_regex_literal(text: str) -> tuple[str, str] | None:
    """(pattern, flags) for a `/pattern/flags` literal, else None (the text is plain)."""
    if len(text) < 3 or not text.startswith("/"):
        return None
    end = text.rfind("/")
    if end <= 1:
        return None
    pattern, flags = text[1:end], text[end + 1 :]
    if any(flag not in JS_FLAGS for flag in flags) or len(set(flags)) != len(flags):
        return None
    return pattern, flags


def compile_pattern(pattern: str, flags: str) -> Any:
    """The compiled form of a JavaScript pattern with its flags; ExpressionError if invalid."""
    return _compile(pattern, flags)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _compile(pattern: str, flags: str) -> Any:
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ExpressionLimitError(f"regular expression is longer than {MAX_PATTERN_LENGTH}")
    unknown = [flag for flag in flags if flag not in JS_FLAGS]
    if unknown or len(set(flags)) != len(flags):
        raise ExpressionError(f"invalid regular expression flags {flags!r}")
    options = regex.V0
    if "i" in flags:
        options |= regex.IGNORECASE
    if "m" in flags:
        options |= regex.MULTILINE
    if "s" in flags:
        options |= regex.DOTALL
    translated = _translate(pattern, dot_all="s" in flags, multiline="m" in flags)
    if "y" in flags:
        # Sticky: each match must start where the previous one ended (or at the start).
        translated = rf"\G(?:{translated})"
    try:
        return regex.compile(translated, options)
    except (regex.error, ValueError, OverflowError) as exc:
        raise ExpressionError(f"invalid regular expression /{pattern}/: {exc}") from exc


def _translate(pattern: str, *, dot_all: bool, multiline: bool) -> str:
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            text, i = _escape(pattern, i + 1, in_class)
            out.append(text)
            continue
        if in_class:
            if char == "]":
                in_class = False
            out.append("\\" + char if char in _CLASS_SPECIAL else char)
        elif char == "[":
            text, i, in_class = _open_class(pattern, i)
            out.append(text)
            continue
        elif char == "." and not dot_all:
            out.append(_JS_DOT)
        elif char == "$" and not multiline:
            out.append(r"\Z")  # without m, JS `$` never matches before a final newline
        else:
            out.append(char)
        i += 1
    return "".join(out)


def _open_class(pattern: str, i: int) -> tuple[str, int, bool]:
    """Handle `[` at i: JS's `[]` matches nothing and `[^]` matches anything."""
    if pattern.startswith("[]", i):
        return "(?!)", i + 2, False
    if pattern.startswith("[^]", i):
        return r"[\s\S]", i + 3, False
    if pattern.startswith("[^", i):
        return "[^", i + 2, True
    return "[", i + 1, True


def _escape(pattern: str, i: int, in_class: bool) -> tuple[str, int]:
    """Translate the escape whose letter is at i; returns (text, index after it)."""
    char = pattern[i]
    if in_class and char in _ASCII_IN_CLASS:
        return _ASCII_IN_CLASS[char], i + 1
    if not in_class and char in _ASCII_CLASSES:
        return _ASCII_CLASSES[char], i + 1
    if char == "u":
        return _unicode_escape(pattern, i)
    if char == "k" and pattern.startswith("<", i + 1):
        end = pattern.find(">", i + 2)
        if end > 0:
            return f"(?P={pattern[i + 2 : end]})", end + 1
    if char == "c":
        control = pattern[i + 1 : i + 2]
        if control.isascii() and control.isalpha():
            return f"\\x{ord(control) % 32:02x}", i + 2
        return r"\\c", i + 1  # Annex B: a backslash followed by "c"
    if char.isascii() and char.isalpha() and char not in _KNOWN_ESCAPES:
        return char, i + 1
    return "\\" + char, i + 1


def _unicode_escape(pattern: str, i: int) -> tuple[str, int]:
    """`\\uXXXX` and `\\u{X…}`; a bare `\\u` is the letter u, as in JavaScript."""
    if pattern.startswith("{", i + 1):
        end = pattern.find("}", i + 2)
        digits = pattern[i + 2 : end] if end > 0 else ""
        if digits and all(c in "0123456789abcdefABCDEF" for c in digits) and len(digits) <= 6:
            code = int(digits, 16)
            if code <= 0x10FFFF:
                return f"\\U{code:08x}", end + 1
    hex4 = pattern[i + 1 : i + 5]
    if len(hex4) == 4 and all(c in "0123456789abcdefABCDEF" for c in hex4):
        return "\\u" + hex4, i + 5
    return "u", i + 1


def _timed(action: Callable[[], Any], pattern: str) -> Any:
    try:
        return action()
    except TimeoutError as exc:
        raise ExpressionLimitError(
            f"regular expression /{pattern}/ took too long (catastrophic backtracking?)"
        ) from exc


def search(pattern: str, text: str, *, ignore_case: bool = False, timeout: float) -> bool:
    """Whether a JavaScript pattern (no slashes, no flags) matches anywhere in text."""
    compiled = compile_pattern(pattern, "i" if ignore_case else "")
    return _timed(lambda: compiled.search(text, timeout=timeout), pattern) is not None


def sub(
    pattern: str,
    flags: str,
    replacement_js: str,
    text: str,
    *,
    timeout: float,
    max_length: int | None = None,
) -> str:
    """JavaScript's text.replace(/pattern/flags, replacement): `g` replaces every match,
    and the replacement may use $&, $`, $', $1..$99, $<name> and $$."""
    compiled = compile_pattern(pattern, flags)
    tokens = _parse_replacement(replacement_js, compiled.groups, bool(compiled.groupindex))
    budget = [len(text)]

    def expand(match: Any) -> str:
        piece = "".join(_render(token, match, text) for token in tokens)
        budget[0] += len(piece) - (match.end() - match.start())
        if max_length is not None and budget[0] > max_length:
            raise ExpressionLimitError(f"replace(): result is longer than {max_length}")
        return piece

    count = 0 if "g" in flags else 1
    result = _timed(lambda: compiled.sub(expand, text, count=count, timeout=timeout), pattern)
    return str(result)


Token = str | tuple[str, int | str]


def _parse_replacement(replacement: str, groups: int, named: bool) -> list[Token]:
    tokens: list[Token] = []
    literal: list[str] = []
    i = 0
    while i < len(replacement):
        token, length = _dollar(replacement, i, groups, named)
        if token is None:
            literal.append(replacement[i])
            i += 1
            continue
        if isinstance(token, str):
            literal.append(token)
        else:
            if literal:
                tokens.append("".join(literal))
                literal = []
            tokens.append(token)
        i += length
    if literal:
        tokens.append("".join(literal))
    return tokens


def _dollar(text: str, i: int, groups: int, named: bool) -> tuple[Token | None, int]:
    """The `$` substitution at i: a literal str, a (kind, ref) token, or None if not one."""
    if text[i] != "$" or i + 1 >= len(text):
        return None, 1
    nxt = text[i + 1]
    simple: dict[str, Token] = {"$": "$", "&": ("group", 0), "`": ("before", 0), "'": ("after", 0)}
    if nxt in simple:
        return simple[nxt], 2
    if nxt.isascii() and nxt.isdigit():
        two = text[i + 1 : i + 3]
        if len(two) == 2 and two.isascii() and two.isdigit() and 1 <= int(two) <= groups:
            return ("group", int(two)), 3
        if 1 <= int(nxt) <= groups:
            return ("group", int(nxt)), 2
        return None, 1
    if nxt == "<" and named:
        end = text.find(">", i + 2)
        if end > 0:
            return ("name", text[i + 2 : end]), end - i + 1
    return None, 1


def _render(token: Token, match: Any, text: str) -> str:
    if isinstance(token, str):
        return token
    kind, ref = token
    if kind == "before":
        return text[: match.start()]
    if kind == "after":
        return text[match.end() :]
    if kind == "name" and ref not in match.re.groupindex:
        return ""
    return str(match.group(ref) or "")
