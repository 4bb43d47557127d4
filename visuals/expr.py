"""A small, safe evaluator for ISF pass size expressions.

ISF passes may give ``WIDTH`` and ``HEIGHT`` as expressions such as
``floor($WIDTH/3.0)`` or ``max($HEIGHT*$scale, 1.0)``. This module parses them with a
recursive-descent parser of its own; nothing is handed to Python's ``eval``.

Grammar::

    expr    := term (('+' | '-') term)*
    term    := unary (('*' | '/' | '%') unary)*
    unary   := ('-' | '+') unary | power
    power   := atom ('^' unary)?
    atom    := NUMBER | '$' NAME | NAME '(' args ')' | NAME | '(' expr ')'
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping

from visuals.errors import ExpressionError

__all__ = ["evaluate"]

_TOKEN = re.compile(
    r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|(?P<var>\$[A-Za-z_]\w*)"
    r"|(?P<name>[A-Za-z_]\w*)|(?P<op>[-+*/%^(),]))"
)

_FUNCTIONS: dict[str, Callable[..., float]] = {
    "floor": math.floor,
    "ceil": math.ceil,
    "round": round,
    "abs": abs,
    "sqrt": math.sqrt,
    "pow": math.pow,
    "min": min,
    "max": max,
    "clamp": lambda x, lo, hi: min(max(x, lo), hi),
    "mod": math.fmod,
    "log": math.log,
    "exp": math.exp,
    "sin": math.sin,
    "cos": math.cos,
}
_CONSTANTS = {"PI": math.pi, "pi": math.pi, "true": 1.0, "false": 0.0}


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ExpressionError(f"unexpected character {text[pos:].lstrip()[:1]!r} in {text!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str, variables: Mapping[str, float]):
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0
        self.variables = variables

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ExpressionError(f"unexpected end of expression {self.text!r}")
        self.pos += 1
        return token

    def expect(self, op: str) -> None:
        kind, value = self.take()
        if kind != "op" or value != op:
            raise ExpressionError(f"expected {op!r} but found {value!r} in {self.text!r}")

    def at_op(self, *ops: str) -> str | None:
        token = self.peek()
        if token is not None and token[0] == "op" and token[1] in ops:
            return token[1]
        return None

    def expr(self) -> float:
        value = self.term()
        while (op := self.at_op("+", "-")) is not None:
            self.pos += 1
            rhs = self.term()
            value = value + rhs if op == "+" else value - rhs
        return value

    def term(self) -> float:
        value = self.unary()
        while (op := self.at_op("*", "/", "%")) is not None:
            self.pos += 1
            rhs = self.unary()
            if op == "*":
                value *= rhs
            elif rhs == 0:
                raise ExpressionError(f"division by zero in {self.text!r}")
            elif op == "/":
                value /= rhs
            else:
                value = math.fmod(value, rhs)
        return value

    def unary(self) -> float:
        op = self.at_op("-", "+")
        if op is not None:
            self.pos += 1
            value = self.unary()
            return -value if op == "-" else value
        return self.power()

    def power(self) -> float:
        value = self.atom()
        if self.at_op("^") is not None:
            self.pos += 1
            value = math.pow(value, self.unary())
        return value

    def atom(self) -> float:
        kind, value = self.take()
        if kind == "num":
            return float(value)
        if kind == "var":
            name = value[1:]
            if name not in self.variables:
                raise ExpressionError(f"unknown variable ${name} in {self.text!r}")
            return float(self.variables[name])
        if kind == "name":
            if self.at_op("(") is not None:
                return self.call(value)
            if value in _CONSTANTS:
                return _CONSTANTS[value]
            raise ExpressionError(f"unknown name {value!r} in {self.text!r}")
        if value == "(":
            inner = self.expr()
            self.expect(")")
            return inner
        raise ExpressionError(f"unexpected {value!r} in {self.text!r}")

    def call(self, name: str) -> float:
        func = _FUNCTIONS.get(name)
        if func is None:
            raise ExpressionError(f"unknown function {name}() in {self.text!r}")
        self.expect("(")
        args: list[float] = []
        if self.at_op(")") is None:
            args.append(self.expr())
            while self.at_op(",") is not None:
                self.pos += 1
                args.append(self.expr())
        self.expect(")")
        try:
            return float(func(*args))
        except (TypeError, ValueError, OverflowError) as err:
            raise ExpressionError(f"bad arguments to {name}() in {self.text!r}: {err}") from err


def evaluate(text: str | float | int, variables: Mapping[str, float]) -> float:
    """Evaluate a size expression.

    Args:
        text: the expression (``"floor($WIDTH/3.0)"``) or an already numeric value.
        variables: values for ``$NAME`` references, e.g. ``{"WIDTH": 1920, "HEIGHT": 1080}``.

    Returns:
        The value as a float.

    Raises:
        ExpressionError: the expression is malformed or refers to an unknown name.
    """
    if isinstance(text, bool):
        return float(text)
    if isinstance(text, int | float):
        return float(text)
    parser = _Parser(str(text), variables)
    value = parser.expr()
    if parser.peek() is not None:
        raise ExpressionError(f"unexpected {parser.peek()[1]!r} in {text!r}")  # type: ignore[index]
    if not math.isfinite(value):
        raise ExpressionError(f"expression {text!r} is not finite")
    return value
