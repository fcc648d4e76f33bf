"""What the contexts share is written once, in `fabrikam.contract` (issue 20): the contract
depends on no context, and no context restates a piece of it."""

from __future__ import annotations

import ast
from pathlib import Path

import fabrikam
from fabrikam.contract import ids

ROOT = Path(fabrikam.__file__).parent
CONTRACT = ROOT / "contract"

# Names the contract defines: a context that binds one at module level restates it.
CONTRACT_NAMES = {
    "TASK_NAME",
    "OPERATIONS",
    "MAX_WEIGHT_KG",
    "ConfirmationType",
    "DeliveryStage",
    "ID_PATTERN",
    "ID_RULE",
}
# Literals that are the contract's values: the id rule's characters and the task's name.
CONTRACT_LITERALS = ("A-Za-z0-9_.", "workflow.handle_delivery_request")


def modules(under: Path) -> list[Path]:
    return [p for p in sorted(under.rglob("*.py")) if "migrations" not in p.parts]


def imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_contract_imports_no_context_and_no_platform_code():
    for path in modules(CONTRACT):
        for name in imported(ast.parse(path.read_text())):
            if name.startswith("fabrikam"):
                assert name.startswith("fabrikam.contract"), f"{path.name} imports {name}"


def test_no_context_restates_a_piece_of_the_contract():
    found = []
    for path in modules(ROOT / "apps"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            targets = []
            if isinstance(node, ast.Assign):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                targets = [node.target.id]
            elif isinstance(node, ast.ClassDef):
                targets = [node.name]
            found += [
                f"{path.relative_to(ROOT)}: {name}" for name in targets if name in CONTRACT_NAMES
            ]
        for node in ast.walk(tree):
            text = node.value if isinstance(node, ast.Constant) else None
            if isinstance(text, str) and any(literal in text for literal in CONTRACT_LITERALS):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text!r}")
    assert found == []


def test_the_id_rule_is_the_one_every_context_applies():
    from django.urls import resolve

    from fabrikam.apps.accounts.models import Business
    from fabrikam.apps.ingestion.api.serializers import DeliveryIdSerializer

    ok, too_long, slash = "a.b_c-D9", "x" * (ids.ID_MAX_LENGTH + 1), "a/b"
    for value, valid in ((ok, True), (too_long, False), (slash, False), ("a b", False)):
        assert DeliveryIdSerializer(data={"deliveryId": value}).is_valid() is valid, value
        field = Business._meta.get_field("owner_id")
        assert all(_passes(v, value) for v in field.validators) is valid, value
    assert resolve(f"/api/packages/{ok}").kwargs == {"package_id": ok}


def _passes(validator, value: str) -> bool:
    from django.core.exceptions import ValidationError

    try:
        validator(value)
    except ValidationError:
        return False
    return True


def test_a_location_as_a_dict_has_every_field_in_order():
    from dataclasses import asdict

    from fabrikam.contract.geo import Location

    location = Location(47.6, -122.3, 120.5)
    assert list(location.as_dict().items()) == list(asdict(location).items())
