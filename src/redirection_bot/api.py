"""The public API for plug-ins: connectors (the channels people use) and operator channels
(how a helpline's people receive handoffs) import from this module only.

Everything a plug-in needs has one name here, so that the core can move its modules
without breaking a plug-in, and a plug-in author reads one page instead of twenty modules.
``tests/unit/test_architecture.py`` keeps the plug-ins under ``connectors/`` to it.

Options: a plug-in class declares ``options_schema``, a frozen dataclass of its options. The
configuration reads the plug-in's section into an instance of it (types, defaults and each
field's ``metadata`` rule, such as ``between(0, 65535)``, with problems at file:line:column)
and, when the schema defines ``checked(self)``, calls it: it raises ``ConfigError`` for what
the fields alone cannot say and returns the options as the plug-in receives them (itself, or
a copy with secrets read from their files). The plug-in finds that instance, typed, in
``context.options``. A field named ``limits`` or ``branding`` receives that section of the
configuration; ``program_locales``, the locales of the program served.
"""

from __future__ import annotations

from redirection_bot.dialogue.model import CommandName, HandoffReason, HandoffUrgency
from redirection_bot.engine import (
    ChoicePicked,
    CommandGiven,
    EngineKeys,
    Event,
    SessionState,
    Start,
    Text,
    Waiting,
)
from redirection_bot.engine.step import COMMAND_CHOICE_PREFIX
from redirection_bot.errors import ConfigError, ConnectorError
from redirection_bot.handoff.appointment_orders import (
    BadSlot,
    Order,
    SlotView,
    booking_line,
    bookings,
    change,
    new_slot,
    slot_views,
)
from redirection_bot.handoff.appointments import (
    AppointmentBook,
    Booking,
    BookingStatus,
    BookResult,
    Slot,
)
from redirection_bot.handoff.channel import ChannelContext
from redirection_bot.handoff.desk import Operator, Outcome
from redirection_bot.handoff.machine import CHOICE_PREFIX as HANDOFF_CHOICE_PREFIX
from redirection_bot.handoff.machine import HandoffKeys, TicketChange
from redirection_bot.handoff.wire import (
    ConversationShared,
    DeskEvent,
    PersonWrote,
    Push,
    TicketChanged,
    TicketOpened,
    desk_event_json,
)
from redirection_bot.language.i18n import Catalog, TextLink
from redirection_bot.language.suggest import did_you_mean
from redirection_bot.language.textnorm import (
    clean_user_text,
    fold,
    has_broken_characters,
    typed_index,
)
from redirection_bot.language.yaml_schema import LOCALE_PATTERN
from redirection_bot.operations.config import (
    BrandingSettings,
    LimitSettings,
    above_zero,
    at_least,
    between,
    read_secret,
)
from redirection_bot.operations.crypto import DecryptionError, Keyring
from redirection_bot.operations.listening import hide_software, http_address, listen
from redirection_bot.operations.listening import runner as listener_runner
from redirection_bot.operations.logs import Tallies, Tally, log_event, session_tag
from redirection_bot.operations.partners import FunnelStage
from redirection_bot.operations.patience import Patience, Stopping
from redirection_bot.program.kept_folder import cache_folder, read_kept, write_kept
from redirection_bot.program.render import (
    Shown,
    ShownChoice,
    ShownEnd,
    ShownHandoff,
    ShownMessage,
    ShownOperator,
)
from redirection_bot.safety.categories import RiskCategory
from redirection_bot.serving.connector import ConnectorContext
from redirection_bot.store import (
    SessionBusy,
    SessionLost,
    SessionStore,
    StoreUnavailable,
    VersionConflict,
)
from redirection_bot.store.resume import ResumeKeys
from redirection_bot.turn.ingress import UnreadableJson, admit, read_json
from redirection_bot.turn.runtime import HandoffView, Reply, Runtime

__all__ = [  # noqa: RUF022 (grouped by what a plug-in author looks for)
    # the contract
    "ConnectorContext",  # what a connector is given: the runtime, its options, a stop signal
    "ChannelContext",  # what an operator channel is given: its service desk, options, stop
    "Runtime",  # the core a connector talks to: handle(session, event) -> Reply, erase, pushes
    "Reply",  # what one turn produced: what to show (``shown``), its locale, the new state
    "HandoffView",  # where a person's handoff stands, for a connector to show it
    # options
    "ConfigError",  # raise it from ``checked()`` for a problem in the options
    "ConnectorError",  # raise it when a channel cannot work (bad texts, a server refusing)
    "LimitSettings",  # the ``limits`` section, given to an options field named ``limits``
    "BrandingSettings",  # the ``branding`` section, given to a field named ``branding``
    "at_least",  # field metadata: a number that must be this or more
    "between",  # field metadata: a number within a range (a port: ``between(0, 65535)``)
    "above_zero",  # field metadata: a number of seconds (or hours) above 0
    "read_secret",  # a secret option given inline or as ``<name>_file`` (never both)
    "did_you_mean",  # " (did you mean `x`?)" for a message about an unknown name
    "LOCALE_PATTERN",  # the shape of a locale code (``en``, ``pt-BR``)
    # a conversation
    "Event",  # anything a person sends: one of the four below
    "Start",  # a conversation begins (in a locale, or the program's default; ``partner``)
    "FunnelStage",  # a partner platform's funnel: shown, started, reached help, asked person
    "Text",  # the person's words
    "ChoicePicked",  # the person picked a choice, by its id
    "CommandGiven",  # the person gave a command (help, back, restart, ...)
    "CommandName",  # the commands a person can give
    "COMMAND_CHOICE_PREFIX",  # a choice id starting with it gives a command ("command:restart")
    "HANDOFF_CHOICE_PREFIX",  # a choice id starting with it answers a handoff question
    "Waiting",  # what a conversation waits for (a choice, text, a person, nothing: ended)
    "SessionState",  # a conversation's saved state (what ``Runtime.state`` returns)
    "Shown",  # one thing to show: one of the five below, rendered in the person's language
    "ShownMessage",  # a message with its choices (and its links: phone numbers as tel:)
    "TextLink",  # a part of a message's text that is a link (a phone number: tel:...)
    "ShownChoice",  # one choice of a message: its id and label
    "ShownHandoff",  # a request for a person from a helpline was made
    "ShownOperator",  # words an operator wrote
    "ShownEnd",  # the conversation ended (and whether to erase what the channel shows)
    "Catalog",  # the texts of the program's languages: ``render(key, locale, params)``
    "EngineKeys",  # keys of the engine's own texts (too long, language name, ...)
    "HandoffKeys",  # keys of the handoff's texts (an operator's words, ...)
    "ResumeKeys",  # keys of the resume words' texts (``PHRASE``: shown once, to who asked)
    "HandoffReason",  # why a handoff can be asked for
    "HandoffUrgency",  # how urgent a handoff is
    "RiskCategory",  # what safety screening found
    "admit",  # the door typed text comes in by: ``admit(text).text`` is what the program reads
    "clean_user_text",  # the one cleaning of typed text (the runtime admits messages with it)
    "has_broken_characters",  # half a character (a lone surrogate): refused in ids
    "fold",  # text folded for comparing labels (case, accents, spaces)
    "typed_index",  # the choice a typed number picks
    "read_json",  # the one reader of a JSON request (UTF-8, not nested too deeply)
    "UnreadableJson",  # what read_json raises: answer it politely, as a bad request
    # the service desk
    "Operator",  # a helpline person acting on the desk (id and the name the person is told)
    "Outcome",  # what an operator's act did (applied, a duplicate, not theirs, ...)
    "DeskEvent",  # what an operator channel reads from ``desk.events``: one of the four below
    "TicketOpened",  # a person asks for a human
    "TicketChange",  # what happened to a ticket (claimed, closed, requeued, ...)
    "TicketChanged",  # a ticket was claimed, transferred, closed, or timed out
    "PersonWrote",  # the person wrote to their operator
    "ConversationShared",  # the conversation so far, shared with the person's consent
    "desk_event_json",  # a desk event as JSON, as the webhook sends it
    "Push",  # what the desk sends to a person's channel (an operator's words, a notice)
    # the appointment book (``context.appointments``), for operators
    "AppointmentBook",  # slots and bookings, shared by every instance
    "Order",  # what operators may ask of it: list slots or bookings, add, remove, cancel, no-show
    "new_slot",  # a slot from an operator's fields, checked as in the configuration
    "BadSlot",  # what new_slot raises: its message says what is wrong
    "slot_views",  # every slot with the places taken (``SlotView.line()`` for a listing)
    "Slot",  # a time a counsellor keeps free (start in seconds since the epoch, UTC)
    "SlotView",  # a slot and how many of its places are taken
    "bookings",  # the bookings of a slot or of all (ids, slots, statuses: nothing about a person)
    "booking_line",  # a booking as one line: id, slot, status (its label, when given)
    "Booking",  # a place in a slot: its id, slot and status
    "BookingStatus",  # a booking's status: booked, arrived, cancelled, no_show
    "change",  # remove a slot, cancel a booking or mark a no-show: a BookResult
    "BookResult",  # what a change did (done, unknown, exists, has_bookings, unchanged)
    # running
    "hide_software",  # make an aiohttp app answer ``Server: web`` (listener_runner does it)
    "listener_runner",  # the aiohttp runner of a listener: no access log, no software in Server
    "listen",  # start an aiohttp runner on host:port, with a clear message when the port is taken
    "http_address",  # http://host:port/ as opened in a browser (an IPv6 host in brackets)
    "Patience",  # how long to wait before trying a server again; stops waiting on ``stop``
    "Stopping",  # raised while waiting when the plug-in was asked to stop
    "SessionBusy",  # the conversation is in use by another turn: try again shortly
    "SessionLost",  # the store lost a conversation its channel knew: tell the person, start anew
    "StoreUnavailable",  # the session store cannot be reached: say so, try again later
    "SessionStore",  # the store contract (Runtime.store): get, save with a version check, delete
    "VersionConflict",  # a save whose expected version was not the stored one
    "Keyring",  # the operator's keys, newest first: seal what a plug-in keeps on disk
    "DecryptionError",  # sealed data that no key of the keyring opens
    "log_event",  # log an event (never message text, addresses or identifiers)
    "session_tag",  # a session id as a short keyed hash, for logs
    "Tally",  # a repeated event logged at most once a minute, counted
    "Tallies",  # such events by name and reason (refusals a script can repeat)
    # kept between starts (program/kept_folder.py: this user's folder alone, checked whole)
    "cache_folder",  # where ``serve`` keeps what a start made, from the environment (or None)
    "read_kept",  # what a kept file holds, or None (not this user's alone, damaged, other)
    "write_kept",  # keep bytes as a file there, written whole, with their digest
]
