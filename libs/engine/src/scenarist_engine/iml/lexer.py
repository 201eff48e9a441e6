r"""IML lexer: the characters between `{{` and `}}` as a list of tokens.

Lexing stops at the first `}}` outside a string, backtick name or regex literal, which is how
the template parser finds where an expression ends (IML itself has no braces).

Regular-expression literals. Make accepts an unquoted regex as a function argument, as in
`replace(1.text; /\s+/g; "-")`. The rule that tells it from division: a `/` at the START of a
function argument (the previous token is the `(` of a call or a `;`) begins a regex literal;
a `/` anywhere else is division. Division can never start an argument (IML has no unary `/`),
so the rule takes nothing away: `{{4 / 2}}`, `{{f(4 / 2)}}` and `{{f(a; b / 2)}}` divide. The
literal runs to the next `/` that is neither escaped (`\/`) nor inside a `[...]` class, is
followed by flags (a subset of `gimsuyd`, each once), and becomes the text token
`"/pattern/flags"`, the form `replace` and the other regex-taking functions already read. Like a
string, it may contain `}}`; it may not contain a line break, as in JavaScript.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from scenarist_engine.errors import ExpressionError
from scenarist_engine.iml.regexes import JS_FLAGS

# Token kinds. Punctuation tokens use the character itself as their kind.
NUMBER = "number"
STRING = "string"
NAME = "name"
BACKTICK = "backtick"
OPERATOR = "operator"
END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    value: str | int | float
    pos: int
    is_integer_literal: bool = False


_WORD_OPERATORS = {"and": "&", "or": "|", "mod": "%"}
# Longest first so "<=" wins over "<"; aliases map onto one canonical spelling.
_SYMBOL_OPERATORS = (
    ("&&", "&"),
    ("||", "|"),
    ("==", "="),
    ("!=", "!="),
    ("<=", "<="),
    (">=", ">="),
    ("&", "&"),
    ("|", "|"),
    ("=", "="),
    ("<", "<"),
    (">", ">"),
    ("+", "+"),
    ("-", "-"),
    ("*", "*"),
    ("/", "/"),
    ("%", "%"),
)
_PUNCTUATION = frozenset("()[];.")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "0": "\0",
}
# Past this many digits an integer literal is read as a float, as JavaScript would.
_MAX_EXACT_DIGITS = 15


def is_name_char(char: str) -> bool:
    return char.isalnum() or char in "_$"


class Lexer:
    """Tokenizes one expression starting at `start`; `end` is the offset after its `}}`."""

    def __init__(self, source: str, start: int) -> None:
        self.source = source
        self.start = start
        self.i = start
        self.tokens: list[Token] = []
        self.end = start

    def error(self, message: str, pos: int) -> ExpressionError:
        return ExpressionError(message, position=pos, source=self.source)

    def run(self) -> list[Token]:
        source, length = self.source, len(self.source)
        while True:
            while self.i < length and source[self.i].isspace():
                self.i += 1
            if self.i >= length:
                raise self.error("'{{' is never closed with '}}'", self.start - 2)
            char = source[self.i]
            if source.startswith("}}", self.i):
                self.tokens.append(Token(END, "}}", self.i))
                self.end = self.i + 2
                return self.tokens
            handler = _DISPATCH.get(char) or self._fallback(char)
            handler(self)

    def _fallback(self, char: str) -> Callable[[Lexer], None]:
        if "0" <= char <= "9":
            return Lexer._number
        if is_name_char(char):
            return Lexer._name
        return Lexer._operator

    def _after_dot(self) -> bool:
        return bool(self.tokens) and self.tokens[-1].kind == "."

    def _punctuation(self) -> None:
        self.tokens.append(Token(self.source[self.i], self.source[self.i], self.i))
        self.i += 1

    def _name(self) -> None:
        start, source = self.i, self.source
        while self.i < len(source) and is_name_char(source[self.i]):
            self.i += 1
        word = source[start : self.i]
        # After a dot every word is a key, so `1.and` and `1.null` reach bundle fields.
        if not self._after_dot() and word in _WORD_OPERATORS:
            self.tokens.append(Token(OPERATOR, _WORD_OPERATORS[word], start))
        else:
            self.tokens.append(Token(NAME, word, start))

    def _number(self) -> None:
        if self._after_dot():
            self._name()  # `items.1` and `data.2fa` are keys, not numbers
            return
        start, source = self.i, self.source
        match = _NUMBER.match(source, start)
        assert match is not None  # dispatched on a digit, so a number matches
        end = match.end()
        # `1.2fa` or `1.2.x`: the number is only the integer part, the rest is a path.
        if (
            "." in match.group()
            and end < len(source)
            and (is_name_char(source[end]) or source[end] == ".")
        ):
            end = source.index(".", start)
        elif end < len(source) and is_name_char(source[end]):
            raise self.error(f"invalid number {source[start : end + 1]!r}", start)
        text = source[start:end]
        self.i = end
        if text.isascii() and text.isdigit():
            value: int | float = int(text) if len(text) <= _MAX_EXACT_DIGITS else float(text)
            self.tokens.append(Token(NUMBER, value, start, is_integer_literal=True))
            return
        number = float(text)
        self.tokens.append(
            Token(
                NUMBER,
                int(number) if number.is_integer() and abs(number) < 2**53 else number,
                start,
            )
        )

    def _string(self) -> None:
        source, quote, start = self.source, self.source[self.i], self.i
        self.i += 1
        chunks: list[str] = []
        while True:
            stop = _next_special(source, self.i, quote)
            if stop < 0:
                raise self.error("unterminated string", start)
            chunks.append(source[self.i : stop])
            if source[stop] == quote:
                self.i = stop + 1
                break
            chunks.append(self._escape(stop))
        self.tokens.append(Token(STRING, "".join(chunks), start))

    def _escape(self, backslash: int) -> str:
        source = self.source
        if backslash + 1 >= len(source):
            raise self.error("unterminated string", backslash)
        char = source[backslash + 1]
        self.i = backslash + 2
        if char == "u":
            digits = source[backslash + 2 : backslash + 6]
            if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise self.error("invalid \\u escape", backslash)
            self.i = backslash + 6
            return chr(int(digits, 16))
        return _ESCAPES.get(char, char)

    def _backtick(self) -> None:
        start = self.i
        stop = self.source.find("`", start + 1)
        if stop < 0:
            raise self.error("unterminated backtick name", start)
        self.tokens.append(Token(BACKTICK, self.source[start + 1 : stop], start))
        self.i = stop + 1

    def _slash(self) -> None:
        if self._starts_argument():
            self._regex()
        else:
            self._operator()

    def _starts_argument(self) -> bool:
        tokens = self.tokens
        if not tokens:
            return False
        if tokens[-1].kind == ";":
            return True
        # `(` opens a call's arguments only after a name; `(/` elsewhere is a syntax error anyway.
        return tokens[-1].kind == "(" and len(tokens) >= 2 and tokens[-2].kind == NAME

    def _regex(self) -> None:
        source, start = self.source, self.i
        i, in_class = start + 1, False
        while True:
            if i >= len(source) or source[i] in "\r\n\u2028\u2029":
                raise self.error("unterminated regular expression literal", start)
            char = source[i]
            if char == "\\":
                i += 2  # the escaped character never ends the literal or a class
                continue
            if char == "[":
                in_class = True
            elif char == "]":
                in_class = False
            elif char == "/" and not in_class:
                break
            i += 1
        if i == start + 1:
            raise self.error("empty regular expression literal", start)
        pattern_end = i
        i += 1
        while i < len(source) and is_name_char(source[i]):
            i += 1
        flags = source[pattern_end + 1 : i]
        for offset, flag in enumerate(flags):
            if flag not in JS_FLAGS or flag in flags[:offset]:
                raise self.error(
                    f"invalid regular expression flag {flag!r}", pattern_end + 1 + offset
                )
        self.tokens.append(Token(STRING, source[start:i], start))
        self.i = i

    def _operator(self) -> None:
        for text, canonical in _SYMBOL_OPERATORS:
            if self.source.startswith(text, self.i):
                self.tokens.append(Token(OPERATOR, canonical, self.i))
                self.i += len(text)
                return
        raise self.error(f"unexpected character {self.source[self.i]!r}", self.i)


def _next_special(source: str, start: int, quote: str) -> int:
    """Offset of the next closing quote or backslash, or -1."""
    quote_at = source.find(quote, start)
    backslash_at = source.find("\\", start)
    if backslash_at < 0 or (0 <= quote_at < backslash_at):
        return quote_at
    return backslash_at


_DISPATCH: dict[str, Callable[[Lexer], None]] = {
    **{char: Lexer._punctuation for char in _PUNCTUATION},
    '"': Lexer._string,
    "'": Lexer._string,
    "`": Lexer._backtick,
    "/": Lexer._slash,
}


def tokenize(source: str, start: int) -> tuple[list[Token], int]:
    """Tokens of the expression starting at `start` (just after `{{`), and the offset just
    after its closing `}}`."""
    lexer = Lexer(source, start)
    tokens = lexer.run()
    return tokens, lexer.end
