"""Every bounded context has the same anatomy (DESIGN.md, issue 20): its exceptions in
`exceptions.py`, `_redis` always the store's connection, its states `StrEnum`s."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from enum import StrEnum
from pathlib import Path

import fabrikam.apps
from fabrikam.apps.workflow import services

CONTEXTS = ("ingestion", "workflow", "deliveries", "packages", "dronescheduler")


def context_modules() -> list[str]:
    names = []
    for context in CONTEXTS:
        package = importlib.import_module(f"fabrikam.apps.{context}")
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if ".migrations" not in module.name:
                names.append(module.name)
    return names


def test_a_contexts_exceptions_are_declared_in_its_exceptions_module():
    misplaced = []
    for name in context_modules():
        if name.endswith(".exceptions"):
            continue
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == name and issubclass(cls, BaseException):
                misplaced.append(f"{name}.{cls.__name__}")
    assert misplaced == []


def test_redis_means_the_stores_connection_in_every_context():
    """Not a context manager that turns errors into answers, nor anything else."""
    root = Path(fabrikam.apps.__file__).parent
    for context in CONTEXTS:
        for path in (root / context).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef) and node.name == "_redis":
                    returned = node.body[-1]
                    assert not node.decorator_list, path
                    assert isinstance(returned, ast.Return), path
                    assert isinstance(returned.value, ast.Call), path
                    assert ast.unparse(returned.value.func) == "get_redis_connection", path


def test_the_sagas_states_are_str_enums_stored_as_their_values():
    for states in (services.Status, services.OperationOutcome):
        assert issubclass(states, StrEnum)
    assert f"{services.Status.COMPLETED}" == "completed"
    assert services.Status("compensated") is services.Status.COMPENSATED
