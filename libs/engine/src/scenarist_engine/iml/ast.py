"""IML syntax tree: small immutable nodes, built once by the parser and evaluated many times.

Every node carries `pos`, its character offset in the template, so evaluation errors can
point at the exact place. Left-associative operator chains (`a + b - c`, `a & b & c`) are
flat n-ary nodes rather than nested binary ones: evaluating them needs a loop, not recursion,
so a long chain can never exhaust Python's stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


class Node:
    """Base of every expression node."""

    __slots__ = ()
    pos: int

    def children(self) -> Iterator[Node]:
        return iter(())


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """An immutable constant: number, text, boolean, null, or a keyword such as `space`."""

    value: Any
    pos: int


@dataclass(frozen=True, slots=True)
class Variable(Node):
    """A name resolved at evaluation time: now, uuid, emptyarray, or a context variable."""

    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class ModuleRef(Node):
    """The whole output bundle of a module: the `1` in `1.email`, or ``{{`1`}}``."""

    module_id: int
    pos: int


@dataclass(frozen=True, slots=True)
class Key(Node):
    """`.name` or ``.`odd name` `` in a path."""

    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Index(Node):
    """`[expr]`: a 1-based array index, or a key when applied to a collection."""

    expr: Node
    pos: int

    def children(self) -> Iterator[Node]:
        yield self.expr


@dataclass(frozen=True, slots=True)
class Project(Node):
    """`[]`: apply the rest of the path to every item of an array."""

    pos: int


Segment = Key | Index | Project


@dataclass(frozen=True, slots=True)
class Path(Node):
    """A base value followed by keys, indexes and projections: `1.items[1].sku`."""

    base: Node
    segments: tuple[Segment, ...]
    pos: int

    def children(self) -> Iterator[Node]:
        yield self.base
        yield from self.segments


@dataclass(frozen=True, slots=True)
class Call(Node):
    """`name(arg1; arg2)`: a built-in function call, arguments evaluated first."""

    name: str
    args: tuple[Node, ...]
    pos: int

    def children(self) -> Iterator[Node]:
        yield from self.args


@dataclass(frozen=True, slots=True)
class Negate(Node):
    """Unary minus."""

    operand: Node
    pos: int

    def children(self) -> Iterator[Node]:
        yield self.operand


@dataclass(frozen=True, slots=True)
class Link:
    """One `op operand` step of a chain; `pos` is the operator's position."""

    op: str
    operand: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Chain(Node):
    """`first op1 x1 op2 x2 ...` folded left to right (arithmetic or comparison)."""

    first: Node
    links: tuple[Link, ...]
    pos: int

    def children(self) -> Iterator[Node]:
        yield self.first
        for link in self.links:
            yield link.operand


@dataclass(frozen=True, slots=True)
class Logical(Node):
    """`a & b & c` or `a | b | c`: short-circuit, always a boolean."""

    op: str
    operands: tuple[Node, ...]
    pos: int

    def children(self) -> Iterator[Node]:
        yield from self.operands


def walk(node: Node) -> Iterator[Node]:
    """Every node of a tree, depth first; iterative so any tree depth is safe."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(current.children())
