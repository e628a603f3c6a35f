"""Forward mode's rule table (used by transforms/forward.py).

``jvp_rules[p](primals, tangents, **params) -> (outputs, output_tangents)``
    ``primals`` and ``tangents`` are lists with one entry per input (a tangent is None where
    it is zero); the rule returns lists with one entry per output (None: zero tangent).
    Rules are written with funcgrad's own operations, so the forward pass they build is
    recorded as a Program (printable, compilable, differentiable again).
"""

from funcgrad.core.rules import RuleTable

jvp_rules = RuleTable("jvp", "Forward mode: each primitive's Jacobian-vector product.")
