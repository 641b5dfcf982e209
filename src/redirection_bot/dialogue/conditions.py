"""The condition language: small, safe expressions on slots, parsed once at load.

    importance >= 7 and stage in ["stop", "worried"]
    not wants_diary
    triggers contains "alone"
    reasons                      (true when the slot has been answered)

No ``eval``: expressions are parsed into a tree and evaluated by walking it. A slot that has
not been set compares unequal to everything, and is never less or greater than anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from redirection_bot.diagnostics import Diagnostics, Span
from redirection_bot.dialogue.model import SlotDecl, SlotType, SlotValue
from redirection_bot.language.suggest import did_you_mean

Literal = str | int | bool


class ConditionSyntaxError(Exception):
    """A condition that cannot be parsed; ``offset`` is the character where the problem is."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True, slots=True)
class SlotRef:
    name: str
    offset: int


@dataclass(frozen=True, slots=True)
class Constant:
    value: Literal
    offset: int


@dataclass(frozen=True, slots=True)
class ListConstant:
    values: tuple[Constant, ...]
    offset: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr
    offset: int


@dataclass(frozen=True, slots=True)
class BoolOp:
    operator: str  # "and" | "or"
    operands: tuple[Expr, ...]
    offset: int


@dataclass(frozen=True, slots=True)
class Compare:
    operator: str  # == != < <= > >= in
    left: Expr
    right: Expr
    offset: int


Expr = SlotRef | Constant | ListConstant | Not | BoolOp | Compare


@dataclass(frozen=True, slots=True)
class Condition:
    """A parsed condition with the text and place it came from."""

    source: str
    span: Span
    root: Expr

    def evaluate(self, slots: Mapping[str, SlotValue]) -> bool:
        return _truth(self.root, slots)

    def slot_names(self) -> set[str]:
        names: set[str] = set()
        _collect_slots(self.root, names)
        return names

    def answered_when_true(self) -> frozenset[str]:
        """The slots that surely hold a value wherever this condition is true
        (``importance >= 0``: `importance` was answered)."""
        return _answered_when_true(self.root)


_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?!\w))
      | (?P<string>"[^"]*"|'[^']*')
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
    )""",
    re.VERBOSE,
)
_KEYWORDS = frozenset({"and", "or", "not", "in", "contains", "true", "false"})


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # number string word op end
    text: str
    offset: int


def _tokenise(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(source):
        if source[position:].strip() == "":
            break
        match = _TOKEN.match(source, position)
        if match is None or match.lastgroup is None:
            offset = position + (len(source[position:]) - len(source[position:].lstrip()))
            char = source[offset]
            hint = " (use == to compare)" if char == "=" else ""
            raise ConditionSyntaxError(f"unexpected character `{char}`{hint}", offset)
        text = match.group(match.lastgroup)
        tokens.append(_Token(match.lastgroup, text, match.start(match.lastgroup)))
        position = match.end()
    tokens.append(_Token("end", "", len(source)))
    return tokens


class _Parser:
    """Recursive descent: or > and > not > comparison > operand."""

    def __init__(self, source: str) -> None:
        self._tokens = _tokenise(source)
        self._index = 0

    def parse(self) -> Expr:
        if self._peek().kind == "end":
            raise ConditionSyntaxError("the condition is empty", 0)
        expr = self._or()
        token = self._peek()
        if token.kind != "end":
            raise ConditionSyntaxError(
                f"unexpected `{token.text}`; join conditions with `and` or `or`", token.offset
            )
        return expr

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _take(self) -> _Token:
        token = self._tokens[self._index]
        self._index += 1
        return token

    def _at_word(self, word: str) -> bool:
        token = self._peek()
        return token.kind == "word" and token.text == word

    def _or(self) -> Expr:
        return self._bool_chain("or", self._and)

    def _and(self) -> Expr:
        return self._bool_chain("and", self._not)

    def _bool_chain(self, word: str, operand: Callable[[], Expr]) -> Expr:
        first = operand()
        operands = [first]
        while self._at_word(word):
            self._take()
            operands.append(operand())
        if len(operands) == 1:
            return first
        return BoolOp(word, tuple(operands), _offset(first))

    def _not(self) -> Expr:
        if self._at_word("not"):
            token = self._take()
            return Not(self._not(), token.offset)
        return self._comparison()

    def _comparison(self) -> Expr:
        left = self._operand()
        token = self._peek()
        if token.kind == "op" and token.text in ("==", "!=", "<", "<=", ">", ">="):
            self._take()
            return Compare(token.text, left, self._operand(), token.offset)
        if self._at_word("in"):
            self._take()
            return Compare("in", left, self._operand(), token.offset)
        if self._at_word("contains"):
            self._take()
            return Compare("in", self._operand(), left, token.offset)
        if self._at_word("not") and self._tokens[self._index + 1].text == "in":
            self._take()
            self._take()
            return Not(Compare("in", left, self._operand(), token.offset), token.offset)
        return left

    def _operand(self) -> Expr:
        token = self._take()
        if token.kind == "number":
            return Constant(int(token.text), token.offset)
        if token.kind == "string":
            return Constant(token.text[1:-1], token.offset)
        if token.kind == "word" and token.text in ("true", "false"):
            return Constant(token.text == "true", token.offset)
        if token.kind == "word" and token.text not in _KEYWORDS:
            return SlotRef(token.text, token.offset)
        if token.kind == "op" and token.text == "(":
            inner = self._or()
            closing = self._take()
            if closing.text != ")":
                raise ConditionSyntaxError("a `(` is never closed", token.offset)
            return inner
        if token.kind == "op" and token.text == "[":
            return self._list(token)
        if token.kind == "end":
            raise ConditionSyntaxError("the condition stops too early", token.offset)
        raise ConditionSyntaxError(f"unexpected `{token.text}`", token.offset)

    def _list(self, opening: _Token) -> ListConstant:
        values: list[Constant] = []
        while True:
            token = self._peek()
            if token.kind == "op" and token.text == "]":
                self._take()
                return ListConstant(tuple(values), opening.offset)
            item = self._operand()
            if not isinstance(item, Constant):
                raise ConditionSyntaxError(
                    "a list holds quoted values or numbers only", _offset(item)
                )
            values.append(item)
            separator = self._take()
            if separator.text == "]":
                return ListConstant(tuple(values), opening.offset)
            if separator.text != ",":
                raise ConditionSyntaxError("separate list items with `,`", separator.offset)


def _offset(expr: Expr) -> int:
    if isinstance(expr, Compare):
        return _offset(expr.left)
    return expr.offset


def parse_condition(source: str, span: Span) -> Condition:
    """Parse a condition; raises ConditionSyntaxError with the offset of the problem."""
    return Condition(source, span, _Parser(source).parse())


# --- evaluation -----------------------------------------------------------------------------


def _value(expr: Expr, slots: Mapping[str, SlotValue]) -> object:
    if isinstance(expr, SlotRef):
        return slots.get(expr.name)
    if isinstance(expr, Constant):
        return expr.value
    if isinstance(expr, ListConstant):
        return tuple(item.value for item in expr.values)
    return _truth(expr, slots)


def _truth(expr: Expr, slots: Mapping[str, SlotValue]) -> bool:
    if isinstance(expr, BoolOp):
        if expr.operator == "and":
            return all(_truth(operand, slots) for operand in expr.operands)
        return any(_truth(operand, slots) for operand in expr.operands)
    if isinstance(expr, Not):
        return not _truth(expr.operand, slots)
    if isinstance(expr, Compare):
        return _compare(expr.operator, _value(expr.left, slots), _value(expr.right, slots))
    value = _value(expr, slots)
    return value not in (None, False, "", ())


def _compare(operator: str, left: object, right: object) -> bool:
    if operator == "==":
        return left is not None and left == right
    if operator == "!=":
        return left is None or left != right
    if operator == "in":
        return isinstance(right, tuple) and left is not None and left in right
    if not isinstance(left, int) or not isinstance(right, int):
        return False
    if operator == "<":
        return left < right
    if operator == "<=":
        return left <= right
    if operator == ">":
        return left > right
    return left >= right


def _answered_when_true(expr: Expr) -> frozenset[str]:
    if isinstance(expr, SlotRef):
        return frozenset({expr.name})
    if isinstance(expr, BoolOp):
        parts = [_answered_when_true(operand) for operand in expr.operands]
        return frozenset.union(*parts) if expr.operator == "and" else frozenset.intersection(*parts)
    if isinstance(expr, Compare) and expr.operator != "!=":
        # `==` and `in` need the left side to hold a value; an ordering needs both sides to
        sides = (expr.left, expr.right) if expr.operator not in ("==", "in") else (expr.left,)
        names = {side.name for side in sides if isinstance(side, SlotRef)}
        if expr.operator == "==" and isinstance(expr.right, SlotRef):
            names.add(expr.right.name)  # equal to a value that is not None
        return frozenset(names)
    return frozenset()


def _collect_slots(expr: Expr, names: set[str]) -> None:
    if isinstance(expr, SlotRef):
        names.add(expr.name)
    elif isinstance(expr, Not):
        _collect_slots(expr.operand, names)
    elif isinstance(expr, BoolOp):
        for operand in expr.operands:
            _collect_slots(operand, names)
    elif isinstance(expr, Compare):
        _collect_slots(expr.left, names)
        _collect_slots(expr.right, names)


# --- type checking ----------------------------------------------------------------------------


class ConditionChecker:
    """Checks a condition against the declared slots, so that typos fail at load, not mid-chat."""

    def __init__(self, slots: Mapping[str, SlotDecl], diagnostics: Diagnostics) -> None:
        self._slots = slots
        self._diagnostics = diagnostics

    def check(self, condition: Condition) -> None:
        self._span_base = condition.span
        self._check_boolean(condition.root)

    def _at(self, offset: int) -> Span:
        return self._span_base.shifted(offset)

    def _error(self, offset: int, message: str) -> None:
        self._diagnostics.error(self._at(offset), message)

    def _check_boolean(self, expr: Expr) -> None:
        if isinstance(expr, BoolOp):
            for operand in expr.operands:
                self._check_boolean(operand)
        elif isinstance(expr, Not):
            self._check_boolean(expr.operand)
        elif isinstance(expr, Compare):
            self._check_compare(expr)
        elif isinstance(expr, SlotRef):
            self._slot(expr)
        else:
            self._error(expr.offset, "a value on its own is not a condition; compare it to a slot")

    def _slot(self, ref: SlotRef) -> SlotDecl | None:
        declared = self._slots.get(ref.name)
        if declared is None:
            self._error(
                ref.offset,
                f"`{ref.name}` is not a declared slot{did_you_mean(ref.name, self._slots)}",
            )
        return declared

    def _check_compare(self, expr: Compare) -> None:
        if expr.operator == "in":
            self._check_membership(expr)
            return
        left, right = expr.left, expr.right
        if isinstance(left, Constant) and isinstance(right, SlotRef):
            left, right = right, left
        if not isinstance(left, SlotRef):
            self._error(expr.offset, "one side of a comparison must be a slot")
            return
        declared = self._slot(left)
        if declared is None:
            return
        if isinstance(right, SlotRef):
            other = self._slot(right)
            if other is not None and other.type is not declared.type:
                self._error(
                    expr.offset, f"`{left.name}` and `{right.name}` hold different kinds of value"
                )
            return
        if not isinstance(right, Constant):
            self._error(
                expr.offset, "compare a slot with a single value; use `in [...]` for a list"
            )
            return
        if expr.operator in ("<", "<=", ">", ">=") and declared.type is not SlotType.INTEGER:
            self._error(
                expr.offset,
                f"`{expr.operator}` compares numbers, and `{left.name}` is a {declared.type} slot",
            )
            return
        self._check_constant_fits(declared, right)

    def _check_membership(self, expr: Compare) -> None:
        left, right = expr.left, expr.right
        if isinstance(right, SlotRef):
            declared = self._slot(right)
            if declared is None:
                return
            if declared.type is not SlotType.LIST:
                self._error(right.offset, f"`{right.name}` is a {declared.type} slot, not a list")
                return
            if isinstance(left, Constant):
                self._check_constant_fits(declared, left)
            elif isinstance(left, SlotRef):
                self._slot(left)
            return
        if isinstance(right, ListConstant) and isinstance(left, SlotRef):
            declared = self._slot(left)
            if declared is not None:
                for item in right.values:
                    self._check_constant_fits(declared, item)
            return
        self._error(expr.offset, 'write `slot in ["a", "b"]` or `list_slot contains "a"`')

    def _check_constant_fits(self, declared: SlotDecl, constant: Constant) -> None:
        value = constant.value
        kind = declared.type
        if kind in (SlotType.CHOICE, SlotType.LIST):
            if not isinstance(value, str):
                self._error(
                    constant.offset,
                    f"`{declared.name}` holds values such as {_example(declared)}; "
                    "put the value in quotes",
                )
            elif value not in declared.values:
                self._error(
                    constant.offset,
                    f'"{value}" is not one of the values of `{declared.name}`'
                    f"{did_you_mean(value, declared.values)}",
                )
        elif kind is SlotType.INTEGER:
            if isinstance(value, bool) or not isinstance(value, int):
                self._error(
                    constant.offset, f"`{declared.name}` holds a number; compare it with a number"
                )
        elif kind is SlotType.BOOLEAN:
            if not isinstance(value, bool):
                self._error(
                    constant.offset, f"`{declared.name}` is yes/no; compare it with true or false"
                )
        elif kind is SlotType.TEXT and not isinstance(value, str):
            self._error(constant.offset, f"`{declared.name}` holds text; put the value in quotes")


def _example(declared: SlotDecl) -> str:
    return f'"{declared.values[0]}"' if declared.values else '"a value"'
