"""Checks and order of a parsed framework's hierarchy, the same for every format: no cycles,
siblings numbered, each item's level."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plugin.performance.frameworks.parsed import FrameworkImportError, ParsedItem


def check_tree(items: list[ParsedItem]) -> None:
    """Refuse a hierarchy with a cycle, naming the items on it (each a child of the next)."""
    parent_of = {item.identifier: item.parent for item in items}
    by_identifier = {item.identifier: item for item in items}
    done: set[str] = set()
    for start in parent_of:
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = start
        while node is not None and node not in done:
            if node in on_path:
                cycle = [*path[path.index(node) :], node]
                raise FrameworkImportError(
                    "The hierarchy has a cycle: "
                    + " → ".join(by_identifier[n].short_label for n in cycle)
                    + " (each is a child of the next)."
                )
            on_path.add(node)
            path.append(node)
            node = parent_of.get(node)
        done.update(path)


def order_siblings(items: list[ParsedItem], key: Callable[[ParsedItem], Any]) -> None:
    """Number each item's ``sort_order`` among the children of its parent, in ``key`` order."""
    groups: dict[str | None, list[ParsedItem]] = {}
    for item in items:
        groups.setdefault(item.parent, []).append(item)
    for siblings in groups.values():
        for order, item in enumerate(sorted(siblings, key=key)):
            item.sort_order = order


def depths(items: list[ParsedItem]) -> dict[str, int]:
    """Level of each item (top level = 1); the tree is known to be acyclic."""
    parent_of = {item.identifier: item.parent for item in items}
    depth: dict[str, int] = {}
    for item in items:
        chain: list[str] = []
        node: str | None = item.identifier
        while node is not None and node not in depth:
            chain.append(node)
            node = parent_of[node]
        level = depth[node] if node is not None else 0
        for member in reversed(chain):
            level += 1
            depth[member] = level
    return depth
