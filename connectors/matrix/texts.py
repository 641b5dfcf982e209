"""The connector's own texts: clinician-reviewed words in ``locales/matrix.<locale>.yml``.

They are declared in the program's ``interface_texts``, so the validator requires them in
every locale of the program. The connector checks again at start, in case it runs with a
program that does not declare them.
"""

from __future__ import annotations

import enum

from redirection_bot.api import Catalog, ConnectorError


class MatrixText(enum.StrEnum):
    GROUP_REFUSED = "matrix.group_refused"
    """Said when the bot is invited to a room with more people than the person and itself."""
    GROUP_LEFT = "matrix.group_left"
    """Said when a one-to-one room becomes a group: the bot erases and leaves."""
    ERASED = "matrix.erased"
    """Said after "leave now": what was erased, and what stays in the person's app."""
    ONLY_TEXT = "matrix.only_text"
    UNDECRYPTABLE = "matrix.undecryptable"
    PLAN_FILE_NAME = "matrix.plan_file_name"


def check_texts(catalog: Catalog, locales: tuple[str, ...]) -> None:
    """Raise ConnectorError naming every text this connector needs and the program lacks."""
    missing = [
        f"{key.value} ({locale})"
        for key in MatrixText
        for locale in locales
        if not catalog.can_show(key.value, locale)
    ]
    if missing:
        raise ConnectorError(
            "the program's locales lack texts the Matrix connector shows: "
            + ", ".join(missing)
            + " (see locales/matrix.en.yml, and add `matrix` to interface_texts)"
        )


def render(catalog: Catalog, key: MatrixText, locale: str) -> str:
    return catalog.render(key.value, locale)
