"""Only the stock core (``catalog/stock/``) writes stock: quantities, ledger movements, derived stock columns.

Read from the source (the abstract syntax tree of every non-test module), so a
new module that writes stock by itself fails here before it ships.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "catalog" / "stock"
# Benchmarks are left out: they reset their own throwaway databases between runs.
APPS = ("accounts", "backoffice", "catalog", "tasks", "orders", "delivery", "payments")

STOCK_MODELS = {"StockMovement", "LotStock", "MedicineStock", "Lot"}
WRITES = {"create", "bulk_create", "update", "bulk_update", "get_or_create", "update_or_create", "delete", "raw"}
DERIVED = {"sellable_quantity", "nearest_expiry"}
TABLES = re.compile(
    r"\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM|COPY)\s+\"?catalog_(lot|lotstock|medicinestock|stockmovement)\b", re.I
)
MEDICINE_DERIVED_SQL = re.compile(
    r"UPDATE\s+\"?catalog_medicine\b[^;]*\b(sellable_quantity|nearest_expiry)\b", re.I | re.S
)
# A person's setting on the per-place row, not a derived column: written by its own service.
ALLOWED = {("catalog/services.py", "MedicineStock")}


def modules():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if CORE in path.parents or "tests" in relative.parts or "migrations" in relative.parts:
                continue
            yield relative.as_posix(), ast.parse(path.read_text(), filename=str(path))


def _model_of(node, querysets: dict[str, str] | None = None) -> str | None:
    """``Lot`` in ``Lot.objects.update(...)`` / ``Lot.objects.filter(...).update(...)`` / ``lots.update()``
    where ``lots = Lot.objects.filter(...)`` (``querysets``: such names, module-wide)."""
    while isinstance(node, ast.Call | ast.Attribute):
        if isinstance(node, ast.Attribute) and node.attr == "objects" and isinstance(node.value, ast.Name):
            return node.value.id
        node = node.func if isinstance(node, ast.Call) else node.value
    if querysets and isinstance(node, ast.Name):
        return querysets.get(node.id)
    return None


def _querysets(tree) -> dict[str, str]:
    """Names bound to a queryset of a stock model anywhere in the module (``moved = StockMovement.objects…``)."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            model = _model_of(node.value)
            if model in STOCK_MODELS:
                names[node.targets[0].id] = model
    return names


def offences(name: str, tree) -> list[str]:
    found = []
    querysets = _querysets(tree)
    for node in ast.walk(tree):
        where = f"{name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in WRITES:
                model = _model_of(func.value, querysets)
                if model in STOCK_MODELS and (name, model) not in ALLOWED:
                    found.append(f"{where}: {model}.objects…{func.attr}()")
                if func.attr in {"update", "bulk_update"}:
                    written = {kw.arg for kw in node.keywords} | {
                        elt.value
                        for arg in node.args
                        for elt in getattr(arg, "elts", [])
                        if isinstance(elt, ast.Constant)
                    }
                    if written & DERIVED:
                        found.append(f"{where}: writes {sorted(written & DERIVED)}")
            if isinstance(func, ast.Name) and func.id == "StockMovement":
                found.append(f"{where}: builds a StockMovement")
            called = getattr(func, "id", getattr(func, "attr", ""))
            if called in {"bulk_create_with_history", "bulk_update_with_history"} and len(node.args) > 1:
                model = node.args[1]
                if isinstance(model, ast.Name) and model.id in STOCK_MODELS:
                    found.append(f"{where}: {called}(…, {model.id})")
        elif isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr in DERIVED:
                    found.append(f"{where}: assigns .{target.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if TABLES.search(node.value) or MEDICINE_DERIVED_SQL.search(node.value):
                found.append(f"{where}: SQL writing stock tables")
        elif isinstance(node, ast.ImportFrom) and node.module == "catalog.stock.copy":
            found.append(f"{where}: imports the COPY writer")
    return found


def test_no_module_outside_the_stock_core_writes_stock():
    problems = [offence for name, tree in modules() for offence in offences(name, tree)]
    assert problems == [], "\n".join(problems)


def test_the_check_sees_a_write_when_there_is_one():
    sample = ast.parse(
        "Lot.objects.filter(pk=1).update(quantity=2)\n"
        "Medicine.objects.filter(pk=1).update(sellable_quantity=0)\n"
        "StockMovement(lot=lot)\n"
        "m.nearest_expiry = None\n"
        "cursor.execute('UPDATE catalog_lotstock SET quantity = 0')\n"
        "from catalog.stock.copy import copy_rows\n"
        "bulk_update_with_history(lots, Lot, ['quantity'])\n"
        "moved = StockMovement.objects.filter(reference='x')\n"
        "moved.update(created_at=None)\n"
    )
    assert len(offences("sample.py", sample)) == 8
