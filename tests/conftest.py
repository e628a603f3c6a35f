"""Test session setup.

Numba compiles slowly, so the suite shares one disk cache of compiled programs across runs
(a test directory under the system temp dir, never the user's cache) and asks LLVM for less
optimisation, which halves compile time without changing results (no fast-math either way).
Compiled code checks every array index in the tests: generated code that reads out of
bounds fails loudly here instead of reading a neighbour's memory.
"""

import os
import tempfile

os.environ.setdefault("NUMBA_OPT", "0")
os.environ.setdefault("NUMBA_BOUNDSCHECK", "1")
os.environ.setdefault("FUNCGRAD_CACHE_DIR",
                      os.path.join(tempfile.gettempdir(), "funcgrad-test-cache-checked"))
