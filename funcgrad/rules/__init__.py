"""The rule tables of funcgrad's transformations and backends, one module each.

    reverse.py    vjp_rules, vjp_split_rules   reverse mode (transforms/reverse.py)
    forward.py    jvp_rules                    forward mode
    batching.py   batch_rules                  vmap
    lowering.py   lowerings                    the Numba code generator (compile/)

(Simplifications applied while tracing are core/tracing.py's ``simplify_rules``.) Each table
is a ``RuleTable`` keyed by primitive. The ops/ modules fill them where they declare each
primitive; the transformations only read them. This layer sits between core and ops, so that
ops can register rules without importing the transformations that use them.
"""

from funcgrad.rules.batching import batch_rules
from funcgrad.rules.forward import jvp_rules
from funcgrad.rules.lowering import lowerings
from funcgrad.rules.reverse import vjp_rules, vjp_split_rules


class _ZeroDerivative:
    """The rule of a primitive whose derivative is zero wherever it exists (comparisons,
    floor, argmax, integer results): reverse mode sends no cotangent through it and forward
    mode no tangent; its outputs never depend on differentiated inputs."""

    def __repr__(self):
        return "zero_derivative"


ZERO_DERIVATIVE = _ZeroDerivative()


def zero_derivative(*prims) -> None:
    """Declare that each of ``prims`` has a zero derivative, for every mode of AD."""
    for p in prims:
        vjp_rules[p] = ZERO_DERIVATIVE
        jvp_rules[p] = ZERO_DERIVATIVE


def is_differentiable(prim) -> bool:
    return vjp_rules.get(prim) is not ZERO_DERIVATIVE


__all__ = ["vjp_rules", "vjp_split_rules", "jvp_rules", "batch_rules", "lowerings",
           "ZERO_DERIVATIVE", "zero_derivative", "is_differentiable"]
