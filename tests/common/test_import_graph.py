"""The Celery app, the readiness checks, the metrics and telemetry import one another in one
direction only: none of them can reach itself through the imports of the others (function-level
imports included, which hide a cycle from Python but not from a reader)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.live import ROOT

PLATFORM = (
    "fabrikam.celery",
    "fabrikam.apps.common.health",
    "fabrikam.observability.metrics",
    "fabrikam.observability.telemetry",
)


def modules(root: Path) -> dict[str, Path]:
    found = {}
    for path in (root / "fabrikam").rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """module -> the project modules it imports anywhere in its body."""
    known = modules(root)
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                edges |= {alias.name for alias in node.names if alias.name in known}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:  # `from fabrikam import metrics` names a module
                    target = f"{node.module}.{alias.name}"
                    edges.add(target if target in known else node.module)
        graph[name] = {e for e in edges if e in known and e != name}
    return graph


def cycle_through(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path of imports from `start` back to itself, if there is one."""
    stack = [(start, [start])]
    seen = set()
    while stack:
        module, path = stack.pop()
        for target in sorted(graph.get(module, ())):
            if target == start:
                return [*path, start]
            if target not in seen:
                seen.add(target)
                stack.append((target, [*path, target]))
    return None


@pytest.mark.parametrize("module", PLATFORM)
def test_no_import_cycle_runs_through_the_celery_app_health_metrics_or_telemetry(module):
    graph = import_graph(ROOT)
    cycle = cycle_through(graph, module)
    assert cycle is None, " -> ".join(cycle)
