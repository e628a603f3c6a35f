"""The registry of primitives and the rule tables of every transformation and backend.

Every primitive has a rule in every table, or is declared exempt there with a reason; and all
of them are registered by a bare ``import funcgrad``, not on first use.
"""

import subprocess
import sys

import pytest

import funcgrad  # noqa: F401  (registers every primitive)
from funcgrad.core.rules import REGISTRY, TABLES

# Tables whose transformation has not landed yet: their registry check is an expected failure
# (strict, so it must be removed the moment the table is complete).
PENDING: dict[str, str] = {
}

EXPECTED_TABLES = {"vjp", "vjp_split", "jvp", "batching", "lowering", "simplify"}


def test_every_table_is_declared_on_import():
    assert EXPECTED_TABLES <= set(TABLES)


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES - {"vjp_split", "simplify"}))
def test_every_primitive_has_a_rule_or_an_exemption(name):
    if name in PENDING:
        pytest.xfail(PENDING[name])
    table = TABLES[name]
    missing = table.missing()
    if name == "vjp":  # primitives holding sub-programs differentiate by their split rule
        missing = [p for p in missing if REGISTRY[p] not in TABLES["vjp_split"]]
    assert not missing, f"primitives with no {name} rule and no exemption: {missing}"


def test_exemptions_say_why_and_do_not_shadow_rules():
    for table in TABLES.values():
        for prim, reason in table.exemptions.items():
            assert isinstance(reason, str) and len(reason) > 10, (table.name, prim.name)
            assert prim not in table, f"{prim.name} has both a {table.name} rule and an exemption"


def test_only_primitives_key_the_tables():
    for table in TABLES.values():
        for prim in table:
            assert REGISTRY.get(prim.name) is prim, (table.name, prim)


def test_a_bare_import_registers_every_primitive():
    """Importing funcgrad alone registers everything the rest of the package can declare."""
    script = ("import funcgrad\n"
              "from funcgrad.core.rules import REGISTRY, TABLES\n"
              "before = (len(REGISTRY), {n: len(list(t)) for n, t in TABLES.items()})\n"
              "import funcgrad.testing.strategies, funcgrad.scipy.special, funcgrad.nn\n"
              "import funcgrad.compile.codegen\n"
              "after = (len(REGISTRY), {n: len(list(t)) for n, t in TABLES.items()})\n"
              "print(before == after, before[0])\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    same, count = out.stdout.split()
    assert same == "True" and int(count) == len(REGISTRY)
