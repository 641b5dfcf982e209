"""Reading located YAML nodes by what each place expects, with messages for authors.

Every helper reports a problem as a diagnostic at the exact place and returns ``None``,
so that parsing carries on and the author sees every problem in one run. Every reader of
YAML uses it (the program, locales, safety rules, services, the configuration), so it sits
below all of them, beside ``yaml_source``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from redirection_bot.diagnostics import Diagnostics, Span
from redirection_bot.language.suggest import did_you_mean
from redirection_bot.language.yaml_source import YMapping, YNode, YScalar, YSequence, describe

ID_PATTERN = re.compile(r"[a-z][a-z0-9_]*\Z")
VALUE_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
KEY_PATTERN = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)+\Z")
LOCALE_PATTERN = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z")

_YAML11_BOOLEANS = {"yes", "no", "on", "off", "y", "n"}


class SchemaReader:
    """Typed access to one file's nodes; every problem becomes a located diagnostic."""

    def __init__(self, diagnostics: Diagnostics) -> None:
        self.diagnostics = diagnostics

    def error(self, span: Span, message: str) -> None:
        self.diagnostics.error(span, message)

    def warning(self, span: Span, message: str) -> None:
        self.diagnostics.warning(span, message)

    # --- containers -------------------------------------------------------------------------

    def mapping(self, node: YNode | None, what: str) -> YMapping | None:
        if node is None:
            return None
        if isinstance(node, YMapping):
            return node
        self.error(
            node.span, f"{what} should be a set of named fields, but this is {describe(node)}"
        )
        return None

    def sequence(self, node: YNode | None, what: str) -> YSequence | None:
        if node is None:
            return None
        if isinstance(node, YSequence):
            return node
        self.error(
            node.span,
            f"{what} should be a list (lines starting with `- `), but this is {describe(node)}",
        )
        return None

    def fields(
        self,
        mapping: YMapping,
        allowed: Iterable[str],
        what: str,
        required: Iterable[str] = (),
    ) -> None:
        """Report unknown fields (with a did-you-mean) and missing required ones."""
        allowed_set = list(allowed)
        for key, _value in mapping:
            if key.text not in allowed_set:
                suggestion = did_you_mean(key.text, allowed_set)
                if not suggestion:
                    suggestion = f" (known fields: {', '.join(allowed_set)})"
                self.error(key.span, f"`{key.text}` is not a field of {what}{suggestion}")
        for name in required:
            if mapping.get(name) is None:
                self.error(mapping.span, f"{what} needs a `{name}` field")

    def field_span(self, mapping: YMapping, name: str) -> Span:
        """Where a field's name is written (the mapping's start if it is absent)."""
        key = mapping.key_node(name)
        return key.span if key is not None else mapping.span

    # --- scalars ----------------------------------------------------------------------------

    def scalar(self, node: YNode | None, what: str) -> YScalar | None:
        if node is None:
            return None
        if isinstance(node, YScalar):
            if node.kind == "null" and not node.quoted:
                self.error(node.span, f"{what} is empty")
                return None
            return node
        self.error(node.span, f"{what} should be a single value, but this is {describe(node)}")
        return None

    def text(self, node: YNode | None, what: str) -> str | None:
        """A text as the author wrote it (never turned into a number or a yes/no)."""
        found = self.scalar(node, what)
        return None if found is None else found.text

    def identifier(
        self, node: YNode | None, what: str, pattern: re.Pattern[str] = ID_PATTERN
    ) -> str | None:
        found = self.scalar(node, what)
        if found is None:
            return None
        if not pattern.match(found.text):
            if pattern is VALUE_PATTERN:
                rule = "lower-case letters, digits, `_` and `-`"
            else:
                rule = "lower-case letters, digits and `_`, starting with a letter"
            self.error(found.value_span, f"{what} `{found.text}` should use only {rule}")
            return None
        self.note_yaml11_surprise(found, what)
        return found.text

    def key(self, node: YNode | None, what: str) -> str | None:
        found = self.scalar(node, what)
        if found is None:
            return None
        if not KEY_PATTERN.match(found.text):
            self.error(
                found.value_span,
                f"{what} should be a locale key such as `welcome.hello` "
                f"(words of lower-case letters, digits and `_`, joined by dots), not `{found.text}`",
            )
            return None
        return found.text

    def integer(self, node: YNode | None, what: str) -> int | None:
        found = self.scalar(node, what)
        if found is None:
            return None
        if found.quoted or not re.fullmatch(r"-?\d+", found.text):
            self.error(found.value_span, f"{what} should be a whole number, not `{found.text}`")
            return None
        return int(found.text)

    def boolean(self, node: YNode | None, what: str) -> bool | None:
        found = self.scalar(node, what)
        if found is None:
            return None
        lowered = found.text.lower()
        if not found.quoted and lowered in ("true", "false"):
            return lowered == "true"
        if not found.quoted and lowered in _YAML11_BOOLEANS:
            wanted = "true" if lowered in ("yes", "on", "y") else "false"
            self.warning(
                found.span,
                f"`{found.text}` is read as {wanted} here; write `{wanted}` so every tool agrees",
            )
            return wanted == "true"
        self.error(found.value_span, f"{what} should be true or false, not `{found.text}`")
        return None

    def note_yaml11_surprise(self, scalar: YScalar, what: str) -> None:
        """Warn where other YAML tools would read a plain value differently from us."""
        if scalar.quoted:
            return
        if scalar.kind == "bool":
            self.warning(
                scalar.span,
                f'{what} `{scalar.text}` is kept as the text "{scalar.text}" here, but many YAML '
                f'tools read it as a yes/no value; write it in quotes: "{scalar.text}"',
            )
        elif scalar.kind == "float":
            self.warning(
                scalar.span,
                f"{what} `{scalar.text}` is kept as written here, but many YAML tools read it as "
                f'a number; write it in quotes: "{scalar.text}"',
            )

    def one_or_many(self, node: YNode | None, what: str) -> list[YScalar]:
        """A single scalar or a list of scalars."""
        if node is None:
            return []
        if isinstance(node, YSequence):
            found = [self.scalar(item, what) for item in node]
            return [item for item in found if item is not None]
        single = self.scalar(node, what)
        return [] if single is None else [single]
