"""Promises about the shape of the code: the core stays independent of connectors and of
rasa-sdk's start-up cost, its packages and modules import one another one way only, and
every package is shipped."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
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
    from redirection_bot.turn.runtime import Reply
def later():
    import redirection_bot.store.memory
    from redirection_bot import config
"""
    assert core_modules_reached(source) == {
        "redirection_bot.api",
        "redirection_bot.turn.runtime",
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
        "redirection_bot.language.i18n",
        "redirection_bot.turn.runtime",
        "redirection_bot.turn.actions",
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
        "turn/actions.py",
        "turn/action_server.py",
        "custom_actions/__init__.py",
        "custom_actions/plan_summary.py",
        "custom_actions/services.py",
    }


def test_loading_a_program_does_not_import_rasa_sdk() -> None:
    code = (
        "import sys, datetime\nfrom pathlib import Path\n"
        "from redirection_bot.cli import load\n"
        "from redirection_bot.program.load import ProgramSources, load_program\n"
        "from redirection_bot.turn.actions import registered_action_names\n"
        f"load_program(ProgramSources(Path({str(REPOSITORY / 'dialogues')!r}), Path({str(REPOSITORY / 'locales')!r})),"
        " registered_action_names(), datetime.date.today())\n"
        "print('rasa_sdk' in sys.modules, 'sanic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


LOADED_ONLY_WHEN_NEEDED = (
    "cryptography",  # 7 MB: sealing for a store outside the process
    "sqlite3",  # the SQLite store and its evaluation counts
    "prometheus_client",  # writing the metrics out, when the admin listener is asked
    "redirection_bot.dialogue.parse",  # reading and checking the program's files...
    "redirection_bot.program.checks",
    "redirection_bot.translation",
    "redirection_bot.commands.validate",  # ...and the other commands
    "difflib",  # did-you-mean, for an author's mistakes
    "rasa_sdk",  # 16 MB: loaded when a custom action first runs (a constant imported from an
    # action's module at start loaded it, 61 -> 77 MB, found by bench/web.py)
)


def test_the_default_bot_leaves_what_it_does_not_use(tmp_path: Path) -> None:
    """The web chat over the memory store, as the README runs it, stays under its memory
    target (docs/performance.md) by not loading what it does not use. Started the second
    time (its program kept), it does not even load the readers of the program's files."""
    code = (
        "import sys\n"
        "from redirection_bot import cli\n"
        "from redirection_bot.commands import serve\n"
        "import redirection_bot_connectors.webchat\n"
        "args = cli.build_parser(cli._command_named(['serve'])).parse_args(['serve'])\n"
        "serve.build_runtime(serve.load(args, kept=True), serve.settings_from(args))\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    environment = {**os.environ, "REDIRECTION_BOT_PROGRAM_CACHE": str(tmp_path)}

    def loaded() -> set[str]:
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPOSITORY,
            env=environment,
        )
        return set(out.stdout.split())

    def unwanted(modules: set[str], names: Iterable[str]) -> list[str]:
        return [n for n in names if any(m == n or m.startswith(n + ".") for m in modules)]

    first, again = loaded(), loaded()
    assert unwanted(first, ("cryptography", "sqlite3", "prometheus_client")) == []
    assert unwanted(again, LOADED_ONLY_WHEN_NEEDED) == []


Edges = dict[tuple[str, str], set[str]]
"""``(importer, imported) -> the files (relative to the root) whose imports make the edge``."""

KNOWN_MODULE_CYCLES: set[frozenset[str]] = {
    # The model's fields are annotated with Condition and Lexicon (under TYPE_CHECKING), which
    # are built from the model's slot and command types. Shrink this list; never grow it.
    frozenset({"dialogue.model", "dialogue.conditions", "dialogue.lexicon"}),
}


def module_name(path: Path, root: Path) -> str:
    """``root/handoff/desk.py`` -> ``redirection_bot.handoff.desk`` (root being the package)."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path, root: Path) -> Iterator[str]:
    """Every name the file's import statements bring in, wherever they are (inside functions,
    under ``if TYPE_CHECKING:``), relative imports resolved. ``from a import b`` gives both
    ``a`` and ``a.b``, since ``b`` may be a module."""
    own = module_name(path, root)
    package = own if path.name == "__init__.py" else own.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = package.rsplit(".", node.level - 1)[0] if node.level else ""
            source = ".".join(part for part in (source, node.module or "") if part)
            yield source
            yield from (f"{source}.{alias.name}" for alias in node.names)


def import_edges(root: Path, unit_of: Mapping[str, str]) -> Edges:
    """Imports between units, ``unit_of`` naming each module's unit (modules left out are
    outside the graph); an imported name counts for the longest module it starts with."""
    edges: Edges = defaultdict(set)
    for path in sorted(root.rglob("*.py")):
        importer = unit_of.get(module_name(path, root))
        if importer is None:
            continue
        for name in imported_names(path, root):
            module = name
            while module and module not in unit_of:
                module = module.rpartition(".")[0]
            if module and unit_of[module] != importer:
                edges[importer, unit_of[module]].add(path.relative_to(root).as_posix())
    return edges


def top_level_units(root: Path) -> dict[str, str]:
    """Each module's unit: its package right under ``root``, or itself for a top-level module."""
    units: dict[str, str] = {}
    for path in root.rglob("*.py"):
        name = module_name(path, root)
        parts = name.split(".")
        if len(parts) > 1:
            units[name] = parts[1]
    return units


def cycles(edges: Edges) -> list[set[str]]:
    """The strongly connected components of more than one unit (Tarjan's algorithm)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for importer, imported in edges:
        graph[importer].add(imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[set[str]] = []

    def visit(unit: str) -> None:
        index[unit] = low[unit] = len(index)
        stack.append(unit)
        for other in sorted(graph[unit]):
            if other not in index:
                visit(other)
                low[unit] = min(low[unit], low[other])
            elif other in stack:
                low[unit] = min(low[unit], index[other])
        if low[unit] == index[unit]:
            component = {stack.pop()}
            while unit not in component:
                component.add(stack.pop())
            if len(component) > 1:
                found.append(component)

    for unit in sorted(graph):
        if unit not in index:
            visit(unit)
    return found


def describe(component: set[str], edges: Edges) -> str:
    lines = [f"cycle between {', '.join(sorted(component))}:"]
    lines += [
        f"  {importer} -> {imported}: {', '.join(sorted(files))}"
        for (importer, imported), files in sorted(edges.items())
        if importer in component and imported in component
    ]
    return "\n".join(lines)


def test_packages_and_top_level_modules_import_one_another_one_way_only() -> None:
    edges = import_edges(CORE, top_level_units(CORE))
    assert not any(unit.startswith("redirection_bot_connectors") for pair in edges for unit in pair)
    found = cycles(edges)
    assert found == [], "\n".join(describe(component, edges) for component in found)


LAYERS: list[set[str]] = [
    {"diagnostics", "work_lane"},
    {"errors"},
    {"language"},
    {"safety", "translation", "services"},
    {"dialogue"},
    {"engine", "operations"},
    {"program", "store"},
    {"handoff", "custom_actions"},
    {"turn"},
    {"serving", "authoring", "cli"},
    {"api", "lsp", "studio"},
    {"commands"},
]
"""The core's packages and top-level modules, lowest first, as docs/architecture.md draws
them: each imports only from the layers before its own, never from its own or a later one."""


def test_every_package_and_top_level_module_has_its_place_in_the_layers() -> None:
    placed = [unit for layer in LAYERS for unit in layer]
    assert len(placed) == len(set(placed))
    assert set(placed) == set(top_level_units(CORE).values())


def test_each_layer_imports_only_from_the_layers_below_it() -> None:
    level = {unit: number for number, layer in enumerate(LAYERS) for unit in layer}
    upward = [
        f"{importer} -> {imported}: {', '.join(sorted(files))}"
        for (importer, imported), files in sorted(import_edges(CORE, top_level_units(CORE)).items())
        if level[imported] >= level[importer]
    ]
    assert upward == []


def test_modules_inside_a_package_import_one_another_one_way_only() -> None:
    units = top_level_units(CORE)
    modules = {name: name.removeprefix("redirection_bot.") for name in units}
    edges = {
        pair: files
        for pair, files in import_edges(CORE, modules).items()
        if units["redirection_bot." + pair[0]] == units["redirection_bot." + pair[1]]
    }
    found = {frozenset(component) for component in cycles(edges)}
    assert found == KNOWN_MODULE_CYCLES, "\n".join(
        describe(set(component), edges) for component in found - KNOWN_MODULE_CYCLES
    )


def test_the_cycle_finder_sees_lazy_relative_and_type_checking_imports(tmp_path: Path) -> None:
    root = tmp_path / "redirection_bot"
    for folder in ("base", "top"):
        (root / folder).mkdir(parents=True)
        (root / folder / "__init__.py").write_text("")
    (root / "base" / "model.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..top import bundle\n"
    )
    (root / "top" / "bundle.py").write_text("def load():\n    from redirection_bot.lone import x\n")
    (root / "lone.py").write_text("from .base.model import Thing\n")
    edges = import_edges(root, top_level_units(root))
    assert cycles(edges) == [{"base", "top", "lone"}]
    assert "base -> top: base/model.py" in describe({"base", "top", "lone"}, edges)


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
