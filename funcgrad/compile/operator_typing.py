"""Numba's typing of arithmetic and comparisons on float64 and int64 scalars, answered first.

Numba types ``a * b`` by trying the templates registered for ``operator.mul`` in turn, and
the first it tries is NumPy's: it looks up the ufunc loop for the operand types (twice:
with and without literal types) and only then sees that neither operand is an array.
Generated code is mostly such operations (a fused loop's body and its index arithmetic, a
scalar program): in the elementwise-chain benchmark's gradient, a tenth of its cold compile.
The templates below are tried first (Numba orders templates for its CPU target before
generic ones) and give two float64 (or int64) operands the signature Numba's own scalar
templates give them, so the same implementation is lowered; any other operands fall
through to Numba's templates.

They are registered in the process when funcgrad first loads a generated module
(disk_cache.py), and so apply to any Numba code compiled after that, with the same result.
"""

from __future__ import annotations

import operator

from numba.core import types
from numba.core.typing.templates import AbstractTemplate, infer_global, signature

_ARITHMETIC = (operator.add, operator.sub, operator.mul, operator.truediv, operator.pow)
_CLOSED_ON_INT = (operator.add, operator.sub, operator.mul)  # int64 and int64 -> int64
_COMPARISONS = (operator.lt, operator.le, operator.gt, operator.ge, operator.eq,
                operator.ne)


def _register(op, operands: dict, arity: int):
    """Type ``op`` on ``arity`` operands of one of the types in ``operands`` (type -> result
    type)."""

    class ScalarTemplate(AbstractTemplate):
        key = op
        metadata = {"target": "cpu"}  # (sorted before the generic templates)

        def generic(self, args, kws):
            if kws or len(args) != arity:
                return None
            result = operands.get(args[0])
            if result is None or any(a != args[0] for a in args[1:]):
                return None
            return signature(result, *args)

    ScalarTemplate.__name__ = f"Scalar_{op.__name__}"
    infer_global(op)(ScalarTemplate)


_FLOAT, _INT = types.float64, types.int64
for _op in _ARITHMETIC:  # (int64 / int64 is a float64, ** of integers checks its sign)
    _register(_op, {_FLOAT: _FLOAT, _INT: _INT} if _op in _CLOSED_ON_INT else {_FLOAT: _FLOAT},
              2)
for _op in _COMPARISONS:
    _register(_op, {_FLOAT: types.boolean, _INT: types.boolean}, 2)
_register(operator.neg, {_FLOAT: _FLOAT}, 1)
