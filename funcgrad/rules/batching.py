"""vmap's rule table (used by transforms/batching.py).

``batch_rules[p](args, dims, **params) -> (outputs, output_dims)``
    ``args`` holds one value per input and ``dims[i]`` the axis of ``args[i]`` that is the
    batch axis (None: the input is not batched, the same for every example). The rule
    returns lists with one entry per output: the batched outputs and the axis of each that is
    the batch axis (None: the same for every example). Rules are written with funcgrad's own
    operations, so the batched program is recorded like any other.
"""

from funcgrad.core.rules import RuleTable

batch_rules = RuleTable("batching", "vmap: how each primitive computes on a batch axis.")
