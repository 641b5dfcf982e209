"""``evolve``: ``dataclasses.replace`` for the engine's frozen state, about twice as fast.

A turn copies the session state with one or two changed fields, and the state has fifteen
fields: ``dataclasses.replace`` reads every field's metadata and rebuilds the whole object
through its frozen ``__init__`` each time, about a quarter of an engine step. ``evolve``
does the same with a function written once per class, which sets the fields of a new
object directly (``object.__setattr__``, as the frozen ``__init__`` does). A class with a
``__post_init__`` or fields outside ``__init__`` gets ``dataclasses.replace`` itself.

For type checkers ``evolve`` *is* ``dataclasses.replace``, so mypy checks its field names
and types at every call as it checks ``replace``'s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

__all__ = ["evolve"]

_Make = Callable[[Any, dict[str, Any]], Any]
_MAKERS: dict[type, _Make] = {}


def _maker(cls: type) -> _Make:
    """A function (object, changes) -> a copy of the object with the changes."""
    fields = dataclasses.fields(cls)
    if hasattr(cls, "__post_init__") or not all(field.init for field in fields):
        return lambda obj, changes: dataclasses.replace(obj, **changes)
    names = [field.name for field in fields]
    lines = [
        "def make(obj, changes):",
        "    if not _names.issuperset(changes):",
        "        unknown = ', '.join(sorted(set(changes) - _names))",
        "        raise TypeError(f'{_cls.__name__} has no field {unknown}')",
        "    new = _new(_cls)",
        *(f"    _set(new, {n!r}, changes[{n!r}] if {n!r} in changes else obj.{n})" for n in names),
        "    return new",
    ]
    scope: dict[str, Any] = {
        "_names": frozenset(names),
        "_cls": cls,
        "_new": object.__new__,
        "_set": object.__setattr__,
    }
    exec("\n".join(lines), scope)  # code made of the class's own field names only
    make: _Make = scope["make"]
    return make


def _evolve(obj: Any, /, **changes: Any) -> Any:
    make = _MAKERS.get(type(obj))
    if make is None:
        make = _MAKERS[type(obj)] = _maker(type(obj))
    return make(obj, changes)


if TYPE_CHECKING:
    from dataclasses import replace as evolve
else:
    evolve = _evolve
