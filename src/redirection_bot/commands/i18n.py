"""``redirection-bot i18n``: the translators' commands (status, export, import, add-locale,
mark-done). See docs/translating.md."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from redirection_bot.cli import print_diagnostics, sources_from

if TYPE_CHECKING:
    from redirection_bot.program.translation_workspace import TranslationWorkspace

FORMATS = ("csv", "xliff12", "xliff20")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(title="actions", required=True, metavar="ACTION")

    status = _action(actions, "status", "how far each locale is translated")
    status.add_argument("--locale", help="one locale only (default: every locale)")
    status.add_argument(
        "--list", action="store_true", help="list the keys that are not done, with their status"
    )

    export = _action(actions, "export", "write a file for translators (CSV or XLIFF)")
    export.add_argument("--locale", required=True, help="the locale to translate into")
    export.add_argument("--format", choices=FORMATS, default="csv")
    export.add_argument("--output", type=Path, help="the file to write (default: standard output)")
    export.add_argument(
        "--todo",
        action="store_true",
        help="only texts that are missing, need an update or are untracked",
    )

    imported = _action(
        actions, "import", "read a translated file back (nothing is written if it has errors)"
    )
    imported.add_argument("file", type=Path, help="a CSV or XLIFF file made by `i18n export`")
    imported.add_argument(
        "--locale", help="the locale it translates into (XLIFF files say it themselves)"
    )
    imported.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    imported.add_argument(
        "--force",
        action="store_true",
        help="replace translations changed in the repository since the file was exported",
    )

    add_locale = _action(actions, "add-locale", "start a new locale, with every text to translate")
    add_locale.add_argument("locale", help="the new locale's code, for example pt or pt-BR")

    mark_done = _action(
        actions, "mark-done", "record that translations were checked against today's source texts"
    )
    mark_done.add_argument("--locale", required=True)
    mark_done.add_argument(
        "keys", nargs="*", help="keys, or namespaces such as `welcome` (all their keys)"
    )
    mark_done.add_argument("--all", action="store_true", help="every translated text of the locale")


def _action(
    actions: argparse._SubParsersAction[argparse.ArgumentParser], name: str, summary: str
) -> argparse.ArgumentParser:
    parser = actions.add_parser(name, help=summary, description=summary)
    parser.set_defaults(i18n_action=name)
    # Accept the program options after the action too (`i18n export --locales x`).
    parser.add_argument("--dialogues", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    parser.add_argument("--locales", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def run(args: argparse.Namespace) -> int:
    from redirection_bot.program.translation_workspace import open_workspace  # noqa: PLC0415
    from redirection_bot.turn.actions import registered_action_names  # noqa: PLC0415

    workspace = open_workspace(sources_from(args), registered_action_names(), dt.date.today())
    action = {
        "status": _status,
        "export": _export,
        "import": _import,
        "add-locale": _add_locale,
        "mark-done": _mark_done,
    }[args.i18n_action]
    return action(workspace, args)


def _status(workspace: TranslationWorkspace, args: argparse.Namespace) -> int:
    from redirection_bot.translation.status import (  # noqa: PLC0415
        TranslationStatus,
        count_statuses,
        target_locales,
    )

    locales = (
        [args.locale]
        if args.locale
        else target_locales(workspace.catalog, workspace.records, workspace.program.locales)
    )
    source = workspace.source_locale
    print(f"source texts: {source}, {len(list(workspace.catalog.entries(source)))} texts")
    for locale in locales:
        if locale == source:
            continue
        rows = workspace.rows(locale)
        counts = count_statuses(rows)
        shown = ", ".join(f"{counts[status]} {status.value}" for status in TranslationStatus)
        note = "" if locale in workspace.program.locales else " (not yet in the program's locales)"
        print(f"{locale}: {shown}{note}")
        if args.list:
            for row in rows:
                if row.status is not TranslationStatus.DONE:
                    print(f"  {row.status.value:<13} {row.key}")
    return 0


def _export(workspace: TranslationWorkspace, args: argparse.Namespace) -> int:
    from redirection_bot.program.translation_workspace import text_places  # noqa: PLC0415
    from redirection_bot.translation.exchange import (  # noqa: PLC0415
        ExchangeFormat,
        ExportHeader,
        ExportRow,
    )
    from redirection_bot.translation.formats import export_file  # noqa: PLC0415
    from redirection_bot.translation.status import TranslationStatus  # noqa: PLC0415

    if not _locale_ok(args.locale, workspace):
        return 2
    places = text_places(workspace.program)
    rows = [
        ExportRow(row, tuple(places.get(row.key, ())))
        for row in workspace.rows(args.locale)
        if not (args.todo and row.status is TranslationStatus.DONE)
    ]
    header = ExportHeader(workspace.program.id, workspace.source_locale, args.locale)
    text = export_file(header, rows, ExchangeFormat(args.format))
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8", newline="")
        print(f"wrote {len(rows)} texts for `{args.locale}` to {args.output}", file=sys.stderr)
    return 0


def _import(workspace: TranslationWorkspace, args: argparse.Namespace) -> int:
    from redirection_bot.diagnostics import Diagnostics  # noqa: PLC0415
    from redirection_bot.translation.formats import read_file  # noqa: PLC0415
    from redirection_bot.translation.importing import apply_import, plan_import  # noqa: PLC0415

    shown = str(args.file)
    try:
        data = args.file.read_bytes()
    except OSError as error:
        print(f"error: cannot read {shown}: {error.strerror}", file=sys.stderr)
        return 2
    diagnostics = Diagnostics()
    imported = read_file(data, shown, diagnostics)
    locale = args.locale or (imported.locale if imported is not None else None)
    if imported is not None and locale is None:
        print("error: say which locale this file translates into: --locale es", file=sys.stderr)
        return 2
    if imported is not None and locale is not None:
        if not _locale_ok(locale, workspace):
            return 2
        plan = plan_import(
            imported,
            shown,
            workspace.catalog,
            locale,
            workspace.source_locale,
            diagnostics,
            force=args.force,
        )
    broken = workspace.locale_file_errors()
    if broken.has_errors():
        print_diagnostics(broken.errors, sys.stderr)
        print("nothing was imported: fix the locale files first", file=sys.stderr)
        return 1
    if imported is None or diagnostics.has_errors():
        print_diagnostics(diagnostics.items, sys.stderr)
        if imported is not None and plan.conflicts:
            print(
                f"changed in the repository since {shown} was exported: "
                f"{', '.join(plan.conflicts)}",
                file=sys.stderr,
            )
        print(
            f"nothing was imported: {len(diagnostics.errors)} problem(s) in {shown}",
            file=sys.stderr,
        )
        return 1
    written = (
        []
        if args.dry_run
        else apply_import(plan, workspace.locales, workspace.catalog, workspace.records)
    )
    verb = "would write" if args.dry_run else "wrote"
    print(
        f"{locale}: {verb} {len(plan.texts)} text(s), recorded {len(plan.records)} as done, "
        f"{plan.unchanged} unchanged"
    )
    for key in plan.outdated:
        print(
            f"  needs update: `{key}` was translated from an older `{workspace.source_locale}` text"
        )
    for key in plan.kept:
        print(
            f"  kept: `{key}` was changed in the repository after the export; the file left it as it was"
        )
    if args.force:
        for key in plan.conflicts:
            print(
                f"  replaced (--force): `{key}` had been changed in the repository after the export"
            )
    for key in plan.copies:
        print(
            f"  not imported: `{key}` is the same as the `{workspace.source_locale}` text "
            "(mark it done if it really is the same in this language)"
        )
    for path in written:
        print(f"  {path}")
    return 0


def _add_locale(workspace: TranslationWorkspace, args: argparse.Namespace) -> int:
    from redirection_bot.language.yaml_schema import LOCALE_PATTERN  # noqa: PLC0415
    from redirection_bot.translation.records import records_path, write_records  # noqa: PLC0415

    locale = args.locale
    if not LOCALE_PATTERN.match(locale):
        print(f"error: `{locale}` is not a locale code such as `pt` or `pt-BR`", file=sys.stderr)
        return 2
    if locale == workspace.source_locale:
        print(
            f"error: `{locale}` is the source locale (`default_locale` in the program): the "
            "texts are written in it and every other locale is translated from it",
            file=sys.stderr,
        )
        return 2
    if locale in workspace.records:
        print(
            f"error: `{locale}` is already being translated (records in "
            f"{records_path(workspace.locales, locale)}); see `redirection-bot i18n status "
            f"--locale {locale}`",
            file=sys.stderr,
        )
        return 2
    write_records(workspace.locales, locale, workspace.source_locale, {})
    total = len(list(workspace.catalog.entries(workspace.source_locale)))
    print(
        f"{locale}: {total} texts to translate (records in {records_path(workspace.locales, locale)})"
    )
    print(
        f"  next: redirection-bot i18n export --locale {locale} --format xliff20 --output {locale}.xlf"
    )
    print(f"  once translated, add `{locale}` to `locales:` in dialogues/program.yaml")
    return 0


def _mark_done(workspace: TranslationWorkspace, args: argparse.Namespace) -> int:
    from redirection_bot.translation.importing import record_translations  # noqa: PLC0415

    if not _locale_ok(args.locale, workspace):
        return 2
    if not args.keys and not args.all:
        print("error: name the keys to mark done, or use --all", file=sys.stderr)
        return 2
    chosen = {}
    for row in workspace.rows(args.locale):
        wanted = args.all or any(row.key == k or row.key.startswith(k + ".") for k in args.keys)
        if wanted and row.translation is not None:
            chosen[row.key] = row.source.text
    unknown = [
        k for k in args.keys if not any(key == k or key.startswith(k + ".") for key in chosen)
    ]
    for key in unknown:
        print(f"error: `{key}` names no translated text in `{args.locale}`", file=sys.stderr)
    if unknown:
        return 1
    path = record_translations(
        workspace.locales,
        args.locale,
        workspace.source_locale,
        workspace.catalog,
        workspace.records,
        chosen,
    )
    print(f"{args.locale}: {len(chosen)} translation(s) marked done ({path})")
    return 0


def _locale_ok(locale: str, workspace: TranslationWorkspace) -> bool:
    if locale == workspace.source_locale:
        print(f"error: `{locale}` is the source locale; translations go from it", file=sys.stderr)
        return False
    from redirection_bot.translation.status import target_locales  # noqa: PLC0415

    known = target_locales(workspace.catalog, workspace.records, workspace.program.locales)
    if locale not in known:
        print(
            f"error: nobody translates into `{locale}` yet; start with "
            f"`redirection-bot i18n add-locale {locale}`",
            file=sys.stderr,
        )
        return False
    return True
