"""A small XML reader that keeps each element's line and column, for located import errors.

Built on expat directly: ElementTree forgets positions. A translation file comes from
outside the project, so a DOCTYPE (and with it every entity trick) is refused outright.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.parsers import expat

from redirection_bot.diagnostics import Span
from redirection_bot.errors import RedirectionBotError

_SEPARATOR = "}"


class XmlError(RedirectionBotError):
    """The file is not well-formed XML (or uses what we refuse); ``span`` says where."""

    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.span = span


@dataclass(slots=True)
class XmlElement:
    """An element: namespace and local name, attributes, children, text and position."""

    namespace: str
    name: str
    attributes: dict[str, str]
    span: Span
    children: list[XmlElement] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    """Text directly inside the element, in order (text after children included)."""
    content: list[str | XmlElement] = field(default_factory=list)
    """Text and children in document order (for inline elements such as ``<ph>``)."""

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def find(self, name: str) -> XmlElement | None:
        return next((child for child in self.children if child.name == name), None)

    def find_all(self, name: str) -> list[XmlElement]:
        return [child for child in self.children if child.name == name]

    def iter(self, name: str) -> list[XmlElement]:
        """Every element called ``name`` below this one, in document order."""
        found = []
        for child in self.children:
            if child.name == name:
                found.append(child)
            found.extend(child.iter(name))
        return found


def parse_xml(data: bytes, shown: str) -> XmlElement:
    """The document's root element; raises XmlError at the place of the first problem."""
    parser = expat.ParserCreate(namespace_separator=_SEPARATOR)
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    stack: list[XmlElement] = []
    roots: list[XmlElement] = []

    def here() -> Span:
        return Span(shown, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1)

    def start(name: str, attributes: dict[str, str]) -> None:
        namespace, local = _split(name)
        element = XmlElement(
            namespace, local, {_split(k)[1]: v for k, v in attributes.items()}, here()
        )
        if stack:
            stack[-1].children.append(element)
            stack[-1].content.append(element)
        else:
            roots.append(element)
        stack.append(element)

    def end(_name: str) -> None:
        stack.pop()

    def characters(text: str) -> None:
        if stack:
            stack[-1].parts.append(text)
            stack[-1].content.append(text)

    def doctype(*_args: object) -> None:
        raise XmlError("a translation file must not have a DOCTYPE", here())

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise XmlError(
            f"this is not well-formed XML: {expat.ErrorString(error.code)}",
            Span(shown, error.lineno, error.offset + 1),
        ) from error
    if not roots:
        raise XmlError("this file has no XML element", Span(shown, 1, 1))
    return roots[0]


def _split(name: str) -> tuple[str, str]:
    namespace, separator, local = name.rpartition(_SEPARATOR)
    return (namespace, local) if separator else ("", name)
