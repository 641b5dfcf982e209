"""Writing a locale's texts back into python-i18n's layout, ``<namespace>.<locale>.yml``.

A translated file mirrors its source file: the same folder and name with the locale
changed, the same nesting, the keys in the source's order (keys the source no longer has
are kept at the end, so nothing is lost). Texts are written in double quotes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from redirection_bot.language.i18n import LocaleFile, locale_files
from redirection_bot.translation.records import write_atomically, yaml_string

_PLAIN_KEY = re.compile(r"[a-z_][a-z0-9_]*\Z")
_YAML11_WORDS = frozenset({"yes", "no", "on", "off", "y", "n", "true", "false", "null"})


@dataclass(slots=True)
class _Tree:
    """Nested texts: a key holds a text or a subtree, in insertion order."""

    children: dict[str, str | _Tree] = field(default_factory=dict)

    def put(self, parts: list[str], text: str) -> None:
        head, rest = parts[0], parts[1:]
        if not rest:
            self.children[head] = text
            return
        child = self.children.get(head)
        if not isinstance(child, _Tree):
            child = _Tree()
            self.children[head] = child
        child.put(rest, text)

    def lines(self, indent: int) -> Iterable[str]:
        pad = "  " * indent
        for key, value in self.children.items():
            shown = key if _PLAIN_KEY.match(key) and key not in _YAML11_WORDS else f'"{key}"'
            if isinstance(value, _Tree):
                yield f"{pad}{shown}:"
                yield from value.lines(indent + 1)
            else:
                yield f"{pad}{shown}: {yaml_string(value)}"


def namespace_of(key: str, namespaces: Iterable[str]) -> str | None:
    """The longest namespace that ``key`` belongs to."""
    fitting = [ns for ns in namespaces if key.startswith(ns + ".")]
    return max(fitting, key=len) if fitting else None


def write_locale_texts(
    locales: Path,
    locale: str,
    source_locale: str,
    source_keys: list[str],
    texts: Mapping[str, str],
    changed: Iterable[str],
) -> list[Path]:
    """Rewrite the ``locale`` files holding any ``changed`` key, with all of ``texts``.

    ``source_keys`` gives the order; ``texts`` is every text of the locale after the change.
    Returns the files written.
    """
    files = [(f.namespace, f) for f in locale_files(locales) if f.namespace is not None]
    source_files = {ns: f for ns, f in files if f.locale == source_locale}
    target_files = {ns: f for ns, f in files if f.locale == locale}
    namespaces = set(source_files) | set(target_files)
    by_namespace: dict[str, list[str]] = {}
    order = {key: index for index, key in enumerate(source_keys)}
    for key in sorted(texts, key=lambda k: (order.get(k, len(order)), k)):
        namespace = namespace_of(key, namespaces)
        if namespace is not None:
            by_namespace.setdefault(namespace, []).append(key)
    touched = {namespace_of(key, namespaces) for key in changed}
    written = []
    for namespace in sorted(n for n in touched if n is not None and n in source_files):
        path = _target_path(locales, locale, target_files.get(namespace), source_files[namespace])
        tree = _Tree()
        for key in by_namespace.get(namespace, []):
            tree.put(key[len(namespace) + 1 :].split("."), texts[key])
        write_atomically(path, "\n".join([f"{locale}:", *tree.lines(1)]) + "\n")
        written.append(path)
    return written


def _target_path(
    locales: Path, locale: str, existing: LocaleFile | None, source: LocaleFile
) -> Path:
    if existing is not None:
        return existing.path
    folder = source.path.parent
    assert source.namespace is not None
    name = source.namespace.rsplit(".", 1)[-1]
    return folder / f"{name}.{locale}{source.path.suffix}"
