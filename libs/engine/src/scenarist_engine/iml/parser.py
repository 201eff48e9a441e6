"""IML parser: tokens of one `{{…}}` expression to a syntax tree (recursive descent).

Precedence, lowest first: `|` (or, ||); `&` (and, &&); comparisons (= == != < > <= >=);
`+ -`; `* / %` (mod); unary `-`; postfix paths (`.key`, `[index]`, `[]`). All binary
operators are left-associative. Only parentheses, call arguments, indexes and unary minus
nest, and that nesting is bounded by `max_depth`, which keeps both parsing and evaluation
far from Python's recursion limit.
"""

from __future__ import annotations

import math
from typing import Any

from scenarist_engine.errors import ExpressionError, ExpressionLimitError
from scenarist_engine.iml.ast import (
    Call,
    Chain,
    Index,
    Key,
    Link,
    Literal,
    Logical,
    ModuleRef,
    Negate,
    Node,
    Path,
    Project,
    Segment,
    Variable,
)
from scenarist_engine.iml.lexer import BACKTICK, END, NAME, NUMBER, OPERATOR, STRING, Token
from scenarist_engine.iml.values import ERASE, IGNORE

# Keywords whose value never changes; everything else a bare name can mean is resolved
# at evaluation time (see evaluator.VARIABLES).
CONSTANTS: dict[str, Any] = {
    "null": None,
    "true": True,
    "false": False,
    "emptystring": "",
    "space": " ",
    "tab": "\t",
    "newline": "\n",
    "nbsp": "\u00a0",
    "carriagereturn": "\r",
    "ignore": IGNORE,
    "erase": ERASE,
    "pi": math.pi,
}

_LEVELS: tuple[frozenset[str], ...] = (
    frozenset({"|"}),
    frozenset({"&"}),
    frozenset({"=", "!=", "<", ">", "<=", ">="}),
    frozenset({"+", "-"}),
    frozenset({"*", "/", "%"}),
)
_LOGICAL_LEVELS = 2


def describe(token: Token) -> str:
    if token.kind == END:
        return "end of expression"
    if token.kind == STRING:
        return "text literal"
    return repr(str(token.value))


class Parser:
    """Parses one expression's tokens (ending with an END token)."""

    def __init__(self, tokens: list[Token], source: str, max_depth: int) -> None:
        self.tokens = tokens
        self.source = source
        self.max_depth = max_depth
        self.i = 0
        self.depth = 0

    # --- helpers -------------------------------------------------------------------------

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.i]
        if token.kind != END:
            self.i += 1
        return token

    def error(self, message: str, token: Token) -> ExpressionError:
        return ExpressionError(message, position=token.pos, source=self.source)

    def expect(self, kind: str, what: str) -> Token:
        token = self.peek()
        if token.kind != kind:
            raise self.error(f"expected {what}, found {describe(token)}", token)
        return self.advance()

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > self.max_depth:
            raise ExpressionLimitError(
                f"expression is nested more than {self.max_depth} levels deep",
                position=token.pos,
                source=self.source,
            )

    # --- grammar -------------------------------------------------------------------------

    def parse(self) -> Node:
        first = self.peek()
        if first.kind == END:
            raise self.error("empty expression", first)
        node = self.expression()
        last = self.peek()
        if last.kind != END:
            raise self.error(f"unexpected {describe(last)}", last)
        return node

    def expression(self) -> Node:
        self.enter(self.peek())
        node = self.binary(0)
        self.depth -= 1
        return node

    def binary(self, level: int) -> Node:
        if level == len(_LEVELS):
            return self.unary()
        operators = _LEVELS[level]
        first = self.binary(level + 1)
        links: list[Link] = []
        while (token := self.peek()).kind == OPERATOR and token.value in operators:
            self.advance()
            links.append(Link(str(token.value), self.binary(level + 1), token.pos))
        if not links:
            return first
        if level < _LOGICAL_LEVELS:
            operands = (first, *(link.operand for link in links))
            return Logical(str(links[0].op), operands, first.pos)
        return Chain(first, tuple(links), first.pos)

    def unary(self) -> Node:
        token = self.peek()
        if token.kind == OPERATOR and token.value == "-":
            self.advance()
            self.enter(token)
            operand = self.unary()
            self.depth -= 1
            if isinstance(operand, Literal) and type(operand.value) in (int, float):
                return Literal(-operand.value, token.pos)
            return Negate(operand, token.pos)
        return self.postfix(self.primary())

    def postfix(self, base: Node) -> Node:
        segments: list[Segment] = []
        projections = 0
        while True:
            token = self.peek()
            if token.kind == ".":
                self.advance()
                segments.append(self.key())
            elif token.kind == "[":
                self.advance()
                segment = self.bracket(token)
                projections += isinstance(segment, Project)
                if projections > self.max_depth:
                    raise ExpressionLimitError(
                        f"more than {self.max_depth} [] projections in one path",
                        position=token.pos,
                        source=self.source,
                    )
                segments.append(segment)
            else:
                break
        return Path(base, tuple(segments), base.pos) if segments else base

    def key(self) -> Key:
        token = self.peek()
        if token.kind in (NAME, BACKTICK):
            self.advance()
            return Key(str(token.value), token.pos)
        raise self.error(f"expected a key after '.', found {describe(token)}", token)

    def bracket(self, opening: Token) -> Segment:
        if self.peek().kind == "]":
            self.advance()
            return Project(opening.pos)
        expr = self.expression()
        self.expect("]", "']'")
        return Index(expr, opening.pos)

    def primary(self) -> Node:
        token = self.peek()
        handler = _PRIMARY.get(token.kind)
        if handler is None:
            raise self.error(f"unexpected {describe(token)}", token)
        self.advance()
        return handler(self, token)

    def number(self, token: Token) -> Node:
        # `1.email`: an integer literal directly followed by a dot names a module's bundle.
        if token.is_integer_literal and isinstance(token.value, int) and self.peek().kind == ".":
            return ModuleRef(token.value, token.pos)
        return Literal(token.value, token.pos)

    def string(self, token: Token) -> Node:
        return Literal(token.value, token.pos)

    def backtick(self, token: Token) -> Node:
        name = str(token.value)
        if name.isascii() and name.isdigit():
            return ModuleRef(int(name), token.pos)
        return Variable(name, token.pos)

    def name(self, token: Token) -> Node:
        name = str(token.value)
        if self.peek().kind == "(":
            return self.call(name, token)
        if name in CONSTANTS:
            return Literal(CONSTANTS[name], token.pos)
        return Variable(name, token.pos)

    def call(self, name: str, token: Token) -> Node:
        self.advance()
        args: list[Node] = []
        if self.peek().kind == ")":
            self.advance()
        else:
            while True:
                args.append(self.argument())
                separator = self.peek()
                if separator.kind == ")":
                    self.advance()
                    break
                if separator.kind != ";":
                    raise self.error(
                        f"expected ';' or ')' in call to {name}(), found {describe(separator)}",
                        separator,
                    )
                self.advance()
        return Call(name, tuple(args), token.pos)

    def argument(self) -> Node:
        token = self.peek()
        # An empty argument (`if(1.a; ; "x")`) is null, as when a field is left blank.
        if token.kind in (";", ")"):
            return Literal(None, token.pos)
        return self.expression()

    def parenthesized(self, token: Token) -> Node:
        node = self.expression()
        self.expect(")", "')'")
        return node


_PRIMARY = {
    NUMBER: Parser.number,
    STRING: Parser.string,
    BACKTICK: Parser.backtick,
    NAME: Parser.name,
    "(": Parser.parenthesized,
}


def parse_expression(tokens: list[Token], source: str, max_depth: int) -> Node:
    """The syntax tree of one expression's tokens."""
    return Parser(tokens, source, max_depth).parse()
