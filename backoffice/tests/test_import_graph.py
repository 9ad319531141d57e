"""The apps' import graph: no cycle between modules, and no domain module depending on the API or the admin.

Dependencies point one way: API -> services/selectors -> models; admin ->
services/selectors; tasks -> services. The graph is read from the source with
``ast`` (module-level and function-level imports alike, so an import moved into
a function to hide a cycle is still seen). ``from package import name`` is an
edge to ``package.name`` when that is a module, else to the package. Importing
``a.b.c`` also runs ``a/b/__init__.py``, but that is how packages load, not a
dependency of ``c``'s code: only the modules named are edges.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "catalog", "tasks", "orders", "payments", "backoffice")
# A module is domain code when a part of its name after the app's says so.
DOMAIN_PARTS = {
    *("models", "services", "selectors", "stock", "imports", "tasks", "exceptions", "signals", "receivers"),
    *("versioning", "thumbnails", "ledger", "otp", "roles", "sms", "notifications", "schedules", "queue"),
    *("rules", "fiscal", "exports"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if {"tests", "migrations"} & set(path.relative_to(ROOT).parts):
                continue
            found[_module_name(path)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def import_graph() -> dict[str, dict[str, int]]:
    """``{module: {imported module: line}}`` over the apps' own modules."""
    modules = _modules()
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        edges = graph.setdefault(module, {})
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                    source = f"{base}.{node.module}" if node.module else base
                else:
                    source = node.module
                targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names]
            else:
                continue
            for target in targets:
                resolved = _resolve(target, modules)
                if resolved and resolved != module:
                    edges.setdefault(resolved, node.lineno)
    return graph


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, {}))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def is_domain(module: str) -> bool:
    return bool(DOMAIN_PARTS & {part.split("_")[0] for part in module.split(".")[1:]})


def is_api_or_admin(module: str) -> bool:
    return any(part in ("api", "admin") or part.startswith(("api_", "admin_")) for part in module.split("."))


def test_the_walk_sees_the_apps_and_their_imports():
    graph = import_graph()

    assert {"accounts.services.otp", "catalog.api.views", "tasks.services", "backoffice.dashboard"} <= set(graph)
    assert "catalog.selectors" in graph["catalog.api.views"]  # a module-level import
    assert is_domain("catalog.imports.engine") and is_domain("tasks.tasks") and is_domain("catalog.stock.bulk")
    # The packages that say what is inside: each module of theirs is walked, and is domain code.
    packages = {
        *("accounts.services.staff", "accounts.services.customers", "accounts.services.otp"),
        *("catalog.models.medicines", "catalog.models.stock", "catalog.models.transfers", "catalog.models.imports"),
        *("catalog.selectors.search", "catalog.selectors.alternatives", "catalog.selectors.stock", "catalog.exports"),
    }
    assert packages <= set(graph) and all(is_domain(module) for module in packages)
    assert "catalog.models.medicines" in graph["catalog.models.stock"]  # a relative import inside a package
    assert "catalog.selectors" in graph["backoffice.selectors_dashboard.stock"]  # the catalogue's one ranking
    assert not is_domain("tasks.admin") and is_api_or_admin("backoffice.api_errors")


def test_no_module_of_the_apps_is_in_an_import_cycle():
    graph = import_graph()

    cycles = [
        " <-> ".join(component)
        + ": "
        + ", ".join(f"{a} imports {b} (line {graph[a][b]})" for a in component for b in graph[a] if b in component)
        for component in _cycles(graph)
    ]
    assert cycles == []


def test_no_domain_module_imports_the_api_or_the_admin():
    graph = import_graph()

    back_edges = [
        f"{module} imports {target} (line {line})"
        for module, edges in sorted(graph.items())
        if is_domain(module)
        for target, line in edges.items()
        if is_api_or_admin(target)
    ]
    assert back_edges == []
