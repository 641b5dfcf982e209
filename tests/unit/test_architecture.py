"""Promises about the shape of the code: the core stays independent of connectors and of
rasa-sdk's start-up cost, and every package is shipped."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.helpers import REPOSITORY

CORE = REPOSITORY / "src" / "redirection_bot"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_core_never_imports_a_connector() -> None:
    offenders = [
        str(path.relative_to(REPOSITORY))
        for path in CORE.rglob("*.py")
        if any(name.startswith("redirection_bot_connectors") for name in imported_modules(path))
    ]
    assert offenders == []


PLUGINS = REPOSITORY / "connectors"
PLUGIN_API = "redirection_bot.api"


def core_modules_reached(source: str) -> set[str]:
    """The ``redirection_bot`` modules a plug-in's source imports, wherever the import is
    written (at the top, inside a function, under ``TYPE_CHECKING``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "redirection_bot":  # from redirection_bot import api, config
                found.update(f"redirection_bot.{alias.name}" for alias in node.names)
            else:
                found.add(node.module)
    return {name for name in found if name.split(".")[0] == "redirection_bot"}


def test_plugins_import_the_public_api_only() -> None:
    offenders = {
        f"{path.relative_to(REPOSITORY)}: {name}"
        for path in PLUGINS.rglob("*.py")
        for name in core_modules_reached(path.read_text(encoding="utf-8"))
        if name != PLUGIN_API
    }
    assert sorted(offenders) == []


def test_an_import_of_the_core_is_found_wherever_it_is_written() -> None:
    source = """
from typing import TYPE_CHECKING
from redirection_bot.api import Runtime
from redirection_bot import api
import redirection_bot_connectors.webchat
if TYPE_CHECKING:
    from redirection_bot.runtime import Reply
def later():
    import redirection_bot.store.memory
    from redirection_bot import config
"""
    assert core_modules_reached(source) == {
        "redirection_bot.api",
        "redirection_bot.runtime",
        "redirection_bot.store.memory",
        "redirection_bot.config",
    }


def test_the_engine_does_no_io_and_knows_no_i18n_or_rasa() -> None:
    forbidden = (
        "asyncio",
        "socket",
        "aiohttp",
        "i18n",
        "rasa_sdk",
        "time",
        "random",
        "os",
        "pathlib",
        "redirection_bot.i18n",
        "redirection_bot.runtime",
        "redirection_bot.actions",
    )
    for path in (CORE / "engine").glob("*.py"):
        assert not imported_modules(path) & set(forbidden), path.name


def test_rasa_sdk_is_imported_in_one_place_only() -> None:
    importers = {
        path.relative_to(CORE).as_posix()
        for path in CORE.rglob("*.py")
        if any(name.startswith("rasa_sdk") for name in imported_modules(path))
    }
    assert importers <= {
        "actions.py",
        "action_server.py",
        "custom_actions/__init__.py",
        "custom_actions/plan_summary.py",
        "custom_actions/services.py",
    }


def test_loading_a_program_does_not_import_rasa_sdk() -> None:
    code = (
        "import sys, datetime\nfrom pathlib import Path\n"
        "from redirection_bot.cli import load\n"
        "from redirection_bot.dialogue.load import ProgramSources, load_program\n"
        "from redirection_bot.actions import registered_action_names\n"
        f"load_program(ProgramSources(Path({str(REPOSITORY / 'dialogues')!r}), Path({str(REPOSITORY / 'locales')!r})),"
        " registered_action_names(), datetime.date.today())\n"
        "print('rasa_sdk' in sys.modules, 'sanic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


def test_the_default_bot_starts_without_cryptography() -> None:
    """The web chat over the memory store, as the README runs it, stays under its memory
    target (docs/performance.md) by leaving cryptography (7 MB) until it is needed."""
    code = (
        "import sys\n"
        "from redirection_bot.cli import build_parser\n"
        "from redirection_bot.commands import serve\n"
        "import redirection_bot_connectors.webchat\n"
        "args = build_parser().parse_args(['serve'])\n"
        "serve.build_runtime(serve.load(args), serve.settings_from(args))\n"
        "print(any(name.startswith('cryptography') for name in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPOSITORY
    )
    assert out.stdout.strip() == "False"


def test_every_package_is_listed_in_pyproject() -> None:
    listed = set(
        tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        "redirection_bot" + ".".join(["", *init.parent.relative_to(CORE).parts]).rstrip(".")
        for init in CORE.rglob("__init__.py")
    }
    found |= {
        "redirection_bot_connectors"
        + ".".join(["", *init.parent.relative_to(REPOSITORY / "connectors").parts])
        for init in (REPOSITORY / "connectors").rglob("__init__.py")
    }
    assert found == listed
