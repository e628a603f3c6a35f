"""Rule tables: each transformation's (and backend's) rules, keyed by primitive.

A transformation owns one ``RuleTable`` (funcgrad/rules/ declares those of reverse mode,
forward mode, batching and the Numba backend; core/tracing.py the simplifications applied
while tracing). The ops/ modules fill every table where they declare a primitive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from collections.abc import Iterator

if TYPE_CHECKING:
    from funcgrad.core.primitive import Primitive

REGISTRY: dict[str, Primitive] = {}  # every primitive, by name (filled by Primitive())
TABLES: dict[str, RuleTable] = {}    # every rule table, by name (the registry test walks them)


class RuleTable:
    """One transformation's (or backend's) rules, keyed by primitive.

    ``table[p] = rule`` registers; ``table.get(p)`` looks up (None if absent). A primitive that
    needs no rule here says why with ``table.exempt(p, reason)``: the registry test requires
    every primitive to have a rule or an exemption in every table.
    """

    def __init__(self, name: str, doc: str):
        if name in TABLES:
            raise ValueError(f"rule table {name!r} is declared twice")
        self.name = name
        self.__doc__ = doc
        self._rules: dict[Primitive, Any] = {}
        self.exemptions: dict[Primitive, str] = {}
        TABLES[name] = self

    def __setitem__(self, prim: Primitive, rule) -> None:
        self._rules[prim] = rule

    def __getitem__(self, prim: Primitive):
        return self._rules[prim]

    def __contains__(self, prim: Primitive) -> bool:
        return prim in self._rules

    def __iter__(self) -> Iterator[Primitive]:
        return iter(self._rules)

    def get(self, prim: Primitive, default=None):
        return self._rules.get(prim, default)

    def exempt(self, prim: Primitive, reason: str) -> None:
        self.exemptions[prim] = reason

    def missing(self) -> list[str]:
        """The registered primitives with neither a rule nor an exemption here."""
        return sorted(p.name for p in REGISTRY.values()
                      if p not in self._rules and p not in self.exemptions)

    def __repr__(self):
        return f"RuleTable({self.name}: {len(self._rules)} rules)"


def forget(prim: Primitive) -> None:
    """Remove ``prim`` from the registry and every table (for primitives made by tests)."""
    REGISTRY.pop(prim.name, None)
    for table in TABLES.values():
        table._rules.pop(prim, None)
        table.exemptions.pop(prim, None)
