"""Reverse mode's rule tables (used by transforms/reverse.py).

``vjp_rules[p](cts, inputs, outputs, active, **params) -> input cotangents``
    The cotangents of the inputs (None: zero) given those of the outputs (``cts``, a list),
    the input and output values, and ``active[i]`` (whether input i needs a cotangent). Rules
    are written with funcgrad's own operations, so the backward pass they build is recorded
    as a Program that can be compiled and differentiated again.

``vjp_split_rules[p] = (fwd, bwd)``, for primitives that must choose what their forward pass
saves (those holding sub-programs: call, custom_vjp_call):
    ``fwd(inputs, active, **params) -> (outputs, residuals)``
    ``bwd(residuals, cts, active, **params) -> input cotangents``
"""

from funcgrad.core.rules import RuleTable

vjp_rules = RuleTable("vjp", "Reverse mode: each primitive's vector-Jacobian product.")
vjp_split_rules = RuleTable(
    "vjp_split", "Reverse mode for primitives that hold sub-programs: a forward rule that "
    "returns residuals and a backward rule that reads them.")
