"""Test session setup.

Numba compiles slowly, so the suite shares one disk cache of compiled programs across runs
(a test directory under the system temp dir, never the user's cache) and asks LLVM for less
optimisation, which halves compile time without changing results (no fast-math either way).
Compiled code checks every array index in the tests: generated code that reads out of
bounds fails loudly here instead of reading a neighbour's memory. A warning from Numba fails
the test that caused it (``pytest_configure`` below).

jit compiles synchronously here (FUNCGRAD_COMPILE=sync): the tests of compiled code (its
results, its errors, the compile counters) mean compiled code from the first call. The
tests of tiered execution (tests/test_tiered.py) ask for it with ``jit(f, compile="tiered")``.
"""

import os
import tempfile

os.environ.setdefault("NUMBA_OPT", "0")
os.environ.setdefault("NUMBA_BOUNDSCHECK", "1")
os.environ.setdefault("FUNCGRAD_COMPILE", "sync")
os.environ.setdefault("FUNCGRAD_CACHE_DIR",
                      os.path.join(tempfile.gettempdir(), "funcgrad-test-cache-checked"))


def pytest_configure(config):
    # Generated code gives Numba no cause for a warning (a performance warning, a function
    # it cannot cache): one is a defect of the code generator, so the suite fails on it.
    # (Here, not in pyproject.toml: pytest imports a warning's module when it reads its
    # filters, and Numba imported before the lines above reads its settings without them.)
    config.addinivalue_line("filterwarnings", "error::numba.core.errors.NumbaWarning")
