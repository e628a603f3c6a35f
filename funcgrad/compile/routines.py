"""``fgm``, the namespace through which generated code calls funcgrad's compiled-in routines
(``fgm.empty(...)``, ``fgm.exp(...)``, ``fgm.digamma(...)``): each name is imported from the
module that defines it when Numba first looks it up (a module ``__getattr__``).

Importing all of them at once (scalar_math.py re-exports them) took 15-20 ms of every cold
compile: a gradient that only makes arrays now imports allocation.py alone, one with
vectorised math vector_math.py, one with a long loop's sum sums.py, and only a program
calling a special function imports scalar_math.py. Every routine generated code calls
must be listed in _HOMES (tests/test_compile_intrinsics.py checks scalar_math's,
vector_math's and the others').
"""

from __future__ import annotations

import importlib

_VECTOR_MATH = ("cos_small", "exp", "expm1", "log", "log1p", "logistic", "pow", "sin_small",
                "tanh", "where", "cos_small_f32", "exp_f32", "expm1_f32", "log1p_f32",
                "log_f32", "logistic_f32", "pow_f32", "sin_small_f32", "tanh_f32")
_SCALAR_MATH = ("betainc", "betaln", "binomial_draw", "digamma", "erfinv", "floor_divide",
                "gammainc", "gammaincc", "i0e", "i1e", "left_shift", "log_ndtr", "ndtri",
                "polygamma", "power", "random_gamma_grad", "right_shift", "spacing",
                "threefry2x32", "zeta")
_HOMES = {"empty": "allocation", "full": "allocation", "LargeTrigArgument": "signals",
          "add_reassociable": "sums", "dot": "blas", "argsort_stable": "sorting_routines",
          "searchsorted": "sorting_routines", **dict.fromkeys(_VECTOR_MATH, "vector_math"),
          **dict.fromkeys(_SCALAR_MATH, "scalar_math")}


def __getattr__(name: str):
    if name not in _HOMES:  # (Numba probes a module for name, _numba_type_...: no import)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    home = importlib.import_module(f"funcgrad.compile.{_HOMES[name]}")
    value = getattr(home, name)
    globals()[name] = value
    _refresh_numba()
    return value


def _refresh_numba():
    """Numba's typing and lowering tables take in the intrinsics and overloads of a module
    imported just now. The lookup is Numba's, typing generated code, and a compile loads
    its tables when it starts: without this, a routine whose module no compile had imported
    before in this process was an "Unknown attribute" of ``fgm``."""
    from numba.core.registry import cpu_target
    cpu_target.typing_context.refresh()
    cpu_target.target_context.refresh()
