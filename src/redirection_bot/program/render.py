"""Rendering outputs at the edge: locale keys and parameters become the person's text.

The result is plain text. Each channel escapes it for how it shows it (HTML, Matrix
``formatted_body``); the person's own words are cleaned of control characters here, so that
no channel can be tricked by them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from weakref import WeakKeyDictionary

from redirection_bot.engine.outputs import (
    ChoiceOption,
    End,
    HandoffRequest,
    Label,
    Message,
    Output,
    Param,
)
from redirection_bot.engine.step import EngineKeys
from redirection_bot.language.i18n import Catalog, TextLink
from redirection_bot.language.textnorm import clean_user_text

LIST_SEPARATOR = ", "


@dataclass(frozen=True, slots=True)
class ShownChoice:
    id: str
    label: str
    number: int | None = None
    """The number this choice is, on a number scale (0 to 10): channels may lay such choices
    out compactly, in one row."""
    picked: bool = False
    """A checklist item already picked: channels mark it (picking it again takes it off)."""


@dataclass(frozen=True, slots=True)
class ShownMessage:
    """A message as the person sees it (plain text)."""

    key: str
    text: str
    choices: tuple[ShownChoice, ...] = ()
    expects_text: bool = False
    links: tuple[TextLink, ...] = ()
    """Parts of ``text`` that are links (phone numbers as ``tel:``), for channels that show
    links; plain text stays complete without them."""
    forms: dict[object, object] | None = field(default=None, init=False, compare=False, repr=False)
    """What channels made of this message, by channel (``keep_form``): a message rendered
    once is shown in many conversations (``Renderer.message``), each channel's form of it
    is made once too. A cache, never part of the message."""

    def kept_form(self, channel: object) -> object:
        """What ``channel`` (an object of its own, as its name) kept for this message, or None."""
        return None if self.forms is None else self.forms.get(channel)

    def keep_form(self, channel: object, form: object) -> None:
        """Keep ``form`` for ``channel``: made from this message alone, the same for every
        conversation it is shown in."""
        if self.forms is None:
            object.__setattr__(self, "forms", {})
        assert self.forms is not None
        self.forms[channel] = form


@dataclass(frozen=True, slots=True)
class ShownHandoff:
    reason: str
    urgency: str
    flow: str


@dataclass(frozen=True, slots=True)
class ShownEnd:
    erase: bool = False


@dataclass(frozen=True, slots=True)
class ShownOperator:
    """A helpline operator's own words (not the program's), cleaned like the person's; each
    channel shows them as a person's, labelled with ``name`` (a first name or a role)."""

    name: str
    text: str


Shown = ShownMessage | ShownHandoff | ShownEnd | ShownOperator


@dataclass(frozen=True, slots=True)
class OperatorWords:
    """What a helpline operator wrote to the person (admitted at the door like a person's
    words), shown as theirs: ``name`` is how the person was told who joined."""

    name: str
    text: str


Said = Output | OperatorWords
"""What a turn has for the person before rendering: the engine's outputs, the handoff's
messages (as the engine's ``Message``), an operator's words."""


SHOWN_KEPT = 4096
"""At most this many messages are kept rendered per catalog: a program has about as many
questions in all its languages."""
_Rendered = dict[tuple[object, ...], tuple[tuple[ChoiceOption, ...], "ShownMessage"]]
_RENDERED: WeakKeyDictionary[Catalog, _Rendered] = WeakKeyDictionary()
"""The messages rendered with each catalog, gone with it (a reload loads a new one)."""


class Renderer:
    """Turns engine outputs into plain text in a locale."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog
        rendered = _RENDERED.get(catalog)
        if rendered is None:
            rendered = _RENDERED[catalog] = {}
        self._rendered = rendered

    def reply(self, said: Sequence[Said], locale: str) -> list[Shown]:
        """A turn's messages as the person sees them. The choices go on the last message
        that asks (with choices or for words): a message before it loses its own, so that
        what was said on the way (the handoff's notices, the fallback) never offers answers
        to a question that is no longer the one asked."""
        shown = _said_once(self.outputs(said, locale))
        asking = [i for i, item in enumerate(shown) if _asks(item)]
        for index in asking[:-1]:
            item = shown[index]
            if isinstance(item, ShownMessage) and item.choices:
                shown[index] = replace(item, choices=())
        return shown

    def outputs(self, outputs: Sequence[Said], locale: str) -> list[Shown]:
        shown: list[Shown] = []
        for output in outputs:
            if isinstance(output, OperatorWords):
                shown.append(ShownOperator(output.name, output.text))
            elif isinstance(output, Message):
                shown.append(self.message(output, locale))
            elif isinstance(output, HandoffRequest):
                shown.append(ShownHandoff(output.reason.value, output.urgency.value, output.flow))
            elif isinstance(output, End):
                shown.append(ShownEnd(output.erase))
        return shown

    def message(self, message: Message, locale: str) -> ShownMessage:
        """``message`` rendered. A message with nothing of the conversation in it (no
        parameters; choices the engine made once per program, labels without parameters)
        renders the same every time: it is rendered once, and the same ``ShownMessage`` is
        given to every conversation it is said in. Anything filled from a conversation is
        rendered for that turn only, never kept."""
        if message.params or not all(map(_same_every_time, message.choices)):
            return self._render(message, locale)
        # The kept entry holds the choices, so no other object can have their ids meanwhile.
        key = (message.key, locale, message.expects_text, *map(id, message.choices))
        kept = self._rendered.get(key)
        if kept is not None:
            return kept[1]
        shown = self._render(message, locale)
        if len(self._rendered) >= SHOWN_KEPT:
            self._rendered.clear()
        self._rendered[key] = (message.choices, shown)
        return shown

    def _render(self, message: Message, locale: str) -> ShownMessage:
        params = {name: self.param(value, locale) for name, value in message.params.items()}
        choices = tuple(
            ShownChoice(
                choice.id,
                self.label(choice, locale),
                choice.label if isinstance(choice.label, int) else None,
                choice.picked,
            )
            for choice in message.choices
        )
        text = self.text(message.key, locale, params)
        return ShownMessage(
            message.key, text, choices, message.expects_text, self.links(message, text)
        )

    def label(self, option: ChoiceOption, locale: str) -> str:
        """A choice's label: on its button, and as the person's side once they picked it."""
        return self.param(option.label, locale)

    def links(self, message: Message, text: str) -> tuple[TextLink, ...]:
        """The links of the message's text and of the texts filling it, as far as they show."""
        found = list(self._catalog.links(message.key))
        for value in message.params.values():
            for label in value if isinstance(value, tuple) else (value,):
                if isinstance(label, Label):
                    found.extend(self._catalog.links(label.key))
        if not found:
            return ()
        return tuple(dict.fromkeys(link for link in found if link.text in text))

    def text(self, key: str, locale: str, params: dict[str, str] | None = None) -> str:
        return self._catalog.render(key, locale, params)

    def param(self, value: Param, locale: str) -> str:
        if value is None:
            return self._catalog.render(EngineKeys.UNANSWERED, locale)
        if isinstance(value, Label):
            shown = value.locale or locale
            if not value.params:  # most labels: the catalog keeps them rendered
                return self._catalog.render(value.key, shown)
            filled = {name: self.param(part, shown) for name, part in value.params}
            return self._catalog.render(value.key, shown, filled)
        if isinstance(value, tuple):
            return LIST_SEPARATOR.join(self.param(item, locale) for item in value)
        if isinstance(value, int):
            return str(value)
        return clean_user_text(value)


def _same_every_time(option: ChoiceOption) -> bool:
    """Whether ``option`` shows nothing of a conversation: a checklist's picked items are
    made for one turn, a label with parameters shows slots."""
    label = option.label
    return not option.picked and (isinstance(label, int) or not label.params)


def _asks(item: Shown) -> bool:
    return isinstance(item, ShownMessage) and bool(item.choices or item.expects_text)


def plain_text(shown: list[Shown]) -> str:
    """Messages as a plain-text document (for a downloadable plan)."""
    return "\n\n".join(item.text for item in shown if isinstance(item, ShownMessage)) + "\n"


def _said_once(shown: list[Shown]) -> list[Shown]:
    """A turn's messages with a text said twice said once, where it was said last when that
    one asks (the forty-eighth retest: "Emergency number: 000" twice in one turn, from the
    fallback and from the services a crisis flow lists)."""
    kept: list[Shown] = []
    for item in shown:
        if isinstance(item, ShownMessage):
            earlier = next(
                (
                    i
                    for i, other in enumerate(kept)
                    if isinstance(other, ShownMessage) and other.text == item.text
                ),
                None,
            )
            if earlier is not None:
                if not _asks(item):
                    continue
                del kept[earlier]
        kept.append(item)
    return kept
