"""Data flows one way: no module imports from a layer above its own, not even inside a function.

Layers, lowest first (README, Architecture): core (plumbing) → registry → campaigns (configuration) →
ballots (collection) → scoring (tally and reports) → demo. Inside ballots, the shared modules
(models, reading, storage, services) sit below the ways in — online/, paper/, intake/, scan/ —
which do not import each other (scan/ builds on paper/, whose ballots it reads); only ballots' wiring (apps, admin, receivers, management
commands) sees them all. scoring/engine.py imports neither Django nor the project.

The check reads every module's source with `ast`, so an import inside a function or under
`if TYPE_CHECKING` counts as much as one at the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PROJECT

LAYERS = ["core", "registry", "campaigns", "ballots", "scoring", "assessments", "rectification",
          "workspace", "demo", "evalsite"]
WAYS_IN = ["ballots.online", "ballots.paper", "ballots.intake", "ballots.scan"]
# Scanning reads the ballots paper prints (printed ranges, box maps, the keying keys): it builds
# on ballots.paper, never the other way round.
BUILDS_ON = {("ballots.scan", "ballots.paper")}
# Modules of ballots that connect the ways in to the rest (they may import all of them).
BALLOTS_WIRING = ("ballots.apps", "ballots.admin", "ballots.receivers", "ballots.management")


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, name: str) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import in a file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:  # `from ballots import paper` names a module too
                yield node.lineno, f"{target}.{alias.name}"


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _layer(module: str) -> int | None:
    top = module.split(".")[0]
    return LAYERS.index(top) if top in LAYERS else None


def back_edges(root: Path) -> list[str]:
    """Every import under `root` that goes against the layers, as 'file:line: a -> b'."""
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] not in LAYERS or "migrations" in rel.parts:
            continue
        name = module_name(root, path)
        mine = _layer(name)
        assert mine is not None
        for line, target in imports_of(path, name):
            where = f"{rel}:{line}: {name} -> {target}"
            theirs = _layer(target)
            if theirs is not None and theirs > mine:
                found.append(where)
                continue
            if name == "scoring.engine" and (
                _within(target, "django") or theirs is not None
            ):
                found.append(where)
                continue
            if not _within(name, "ballots") or not _within(target, "ballots"):
                continue
            own = next((w for w in WAYS_IN if _within(name, w)), None)
            other = next((w for w in WAYS_IN if _within(target, w)), None)
            if other is None or own == other or (own, other) in BUILDS_ON:
                continue
            if own is None and any(_within(name, w) for w in BALLOTS_WIRING):
                continue
            found.append(where)
    return found


def test_no_module_imports_a_layer_above_its_own() -> None:
    assert back_edges(PROJECT) == []


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("rel", "source", "edge"),
    [
        # configuration reaching up into collection, inside a function
        ("campaigns/services.py", "def f():\n    from ballots.models import Ballot\n",
         "campaigns.services -> ballots.models"),
        # plumbing naming a domain app
        ("core/audit.py", "import campaigns.models\n", "core.audit -> campaigns.models"),
        # collection reaching scoring through a relative import
        ("ballots/paper/keying.py", "from ...scoring import tally\n",
         "ballots.paper.keying -> scoring"),
        # one way in using another
        ("ballots/intake/imports.py", "from ballots.paper import cells\n",
         "ballots.intake.imports -> ballots.paper"),
        # a shared ballots module depending on a way in
        ("ballots/services.py", "from ballots.online.codes import normalise\n",
         "ballots.services -> ballots.online.codes"),
        # the engine importing Django
        ("scoring/engine.py", "from django.db import models\n",
         "scoring.engine -> django.db"),
    ],
)
def test_a_back_edge_is_found(tmp_path: Path, rel: str, source: str, edge: str) -> None:
    for package in ("core", "campaigns", "ballots", "ballots/paper", "ballots/intake",
                    "ballots/online", "scoring"):
        _write(tmp_path, f"{package}/__init__.py", "")
    _write(tmp_path, "ballots/receivers.py", "from ballots.paper import disputes\n")
    _write(tmp_path, rel, source)
    found = back_edges(tmp_path)
    assert len(found) == 1 and f": {edge}" in found[0], found


def test_downward_imports_and_wiring_are_allowed(tmp_path: Path) -> None:
    for package in ("core", "campaigns", "ballots", "ballots/paper", "scoring"):
        _write(tmp_path, f"{package}/__init__.py", "")
    _write(tmp_path, "scoring/tally.py", "from ballots.models import Ballot\nimport core.audit\n")
    _write(tmp_path, "ballots/receivers.py", "def f():\n    from ballots.paper import disputes\n")
    _write(tmp_path, "ballots/paper/keying.py", "from ballots.services import WRITABLE\n")
    assert back_edges(tmp_path) == []


def test_no_module_outside_migrations_is_over_600_lines() -> None:
    long = [
        f"{p.relative_to(PROJECT)}: {n}"
        for p in PROJECT.rglob("*.py")
        if ".venv" not in p.parts and "migrations" not in p.parts
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    ]
    assert long == []
