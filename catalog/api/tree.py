"""The visible category tree: active categories whose ancestors are all active.

A category under an inactive parent is as invisible as the parent, and so are
its medicines. The tree is small (hundreds of rows at most) and read by almost
every request, so it is built once per catalogue version: kept in the Django
cache for the other workers and in this process for the next request.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from catalog.models import Category

from .caching import versioned_get_or_set


@dataclass
class VisibleTree:
    # id -> (parent_id, name, slug, icon), in display order (sort_order, name).
    nodes: dict[int, tuple[int | None, str, str, str]] = field(default_factory=dict)
    children: dict[int | None, list[int]] = field(default_factory=dict)
    by_slug: dict[str, int] = field(default_factory=dict)
    # Categories that exist but are not visible: usually none or a few, so
    # excluding them is a cheaper filter than listing every visible one.
    hidden_ids: list[int] = field(default_factory=list)

    def with_category(self, row: dict) -> dict:
        """Add ``category__slug`` and ``category__name`` to a medicine row of a visible category."""
        _parent, row["category__name"], row["category__slug"], _icon = self.nodes[row["category_id"]]
        return row

    def descendants_and_self(self, category_id: int) -> list[int]:
        out, stack = [], [category_id]
        while stack:
            current = stack.pop()
            out.append(current)
            stack.extend(self.children.get(current, ()))
        return out


def _build() -> VisibleTree:
    rows = list(
        Category.objects.order_by("sort_order", "name", "id").values_list(
            "id", "parent_id", "name", "slug", "icon", "is_active"
        )
    )
    by_id = {row[0]: row for row in rows}
    visible: dict[int, bool] = {}

    def is_visible(category_id: int) -> bool:
        # Iterative walk up the parents; a cycle (prevented by Category.clean,
        # but not by the database) counts as invisible rather than looping.
        path, current, seen = [], category_id, set()
        result = True
        while current is not None:
            if current in visible:
                result = visible[current]
                break
            if current in seen or current not in by_id:
                result = False
                break
            seen.add(current)
            path.append(current)
            row = by_id[current]
            if not row[5]:
                result = False
                break
            current = row[1]
        for node in path:
            # Every node on the path is visible only if all above it are.
            visible[node] = result and by_id[node][5]
        return visible.get(category_id, result)

    tree = VisibleTree()
    for row in rows:
        if is_visible(row[0]):
            tree.nodes[row[0]] = (row[1], row[2], row[3], row[4] or "")
            tree.children.setdefault(row[1], []).append(row[0])
            tree.by_slug[row[3]] = row[0]
        else:
            tree.hidden_ids.append(row[0])
    return tree


# Part of the cache key: a deploy that changes VisibleTree never unpickles the old shape.
TREE_FORMAT = "2"


def visible_tree(version: int | None = None) -> VisibleTree:
    """The tree of ``version`` (the current one by default): from this process, else the cache, else built."""
    return versioned_get_or_set("tree", ("visible", TREE_FORMAT), _build, version=version)
