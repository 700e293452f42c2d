"""Which files of the package a stage runs: its module and all it imports from `pipeline`,
transitively, read from the source (no import executed), so that a rule can list them as
inputs and an edit of any of them reruns the rule."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]


@cache
def _direct(module: str) -> frozenset[str]:
    """The `pipeline` modules that `module` ("stages.data") imports, anywhere in its source;
    for a package that imports all its modules by name (a registry), all of them."""
    path = PACKAGE / f"{module.replace('.', '/')}.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            if name.startswith("pipeline."):
                found |= {m for m in _modules_of(name[len("pipeline.") :])}
    package = module.removesuffix(".__init__")
    if package != module and "iter_modules(" in path.read_text():  # a registry of its modules
        folder = PACKAGE / package.replace(".", "/")
        found |= {f"{package}.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__"}
    return frozenset(found - {module})


def _modules_of(dotted: str) -> list[str]:
    """The package's modules that the dotted name can mean: 'plots.save' -> ['plots']."""
    parts = dotted.split(".")
    found = []
    for i in range(1, len(parts) + 1):
        name = ".".join(parts[:i])
        if (PACKAGE / f"{name.replace('.', '/')}.py").is_file():
            found.append(name)
        elif (PACKAGE / name.replace(".", "/") / "__init__.py").is_file():
            found.append(f"{name}.__init__")
    return found


def modules(module: str) -> list[str]:
    """`module` and every package module it needs, transitively, as paths below pipeline/
    without '.py' (e.g. 'stages/data', 'inference', 'plots/__init__'), sorted."""
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo += _direct(current)
    parents = {
        ".".join(m.split(".")[:i]) + ".__init__" for m in seen for i in range(1, m.count(".") + 1)
    }
    every = seen | {
        p for p in parents if (PACKAGE / p.replace(".", "/")).with_suffix(".py").is_file()
    }
    return sorted({m.replace(".", "/") for m in every} | {"__init__"})
