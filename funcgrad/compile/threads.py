"""How many threads compiled programs use, and which loops run on them.

A program compiled for more than one thread (the function is compiled with ``parallel=``
enabling Numba's ``prange`` only: no other automatic parallelisation) runs its large work
at the top level on several threads:

- Row regions (compile/row_blocks.py): consecutive work that goes row by row (matrix
  products by the rows of their left operand, fused loops over those rows, products and
  sums over the rows, such as a linear model's ``X @ w``, the loop over its rows and
  ``X.T @ g``, or a whole MLP's gradient) runs as ONE ``prange`` loop over blocks of rows,
  one block per thread: each block's products are BLAS calls into rows of existing arrays
  (or into its own partial result, for sums over the rows), each block's loops cover its
  rows; after the loop, the partial results are added. One start and join of the threads
  for all of it.
- Other large fused loop groups: their outermost loop is a ``prange`` (emitter.py).
- Other large matrix products: split into row blocks, one BLAS call per thread
  (ops/linalg.py).

BLAS runs one thread of its own inside these loops (blas.py ``blas_threads``): OpenBLAS's
threads on top of the loop's would be more threads than cores. Small work, loops inside
control flow (lax loops and conds), loops whose reductions over the outermost axis are not
sums or products (max, min, all, any), and sin and cos in loops long enough to check
their arguments' range stay serial or outside row regions, and a program with none of
them generates exactly the code it does on one thread.

What is guaranteed: elementwise results are bit-identical for every thread count (each
element is computed by the same code: a loop in a row region uses the vector math it
would use on one thread); a sum or product over the parallel axis is accumulated per
thread and the partial results combined, so it may differ from the one-thread result by
rounding (as NumPy's pairwise sums differ from a loop's); so may a matrix product whose
contracted axis is split (``X.T @ v``), its per-thread partial products being summed. A
product split by output rows (``X @ v``) computes each row with the same BLAS kernel as on
one thread (identical in practice, which BLAS does not promise).
"""

from __future__ import annotations

import os

from funcgrad.core.errors import FuncgradValueError

# Work worth starting threads for, in element operations (a loop's elements times the
# operations it computes per element; a product's multiply-adds): about 10-30 µs on one
# core, against a few µs to wake the threads. The 2,000-element loop of 18 operations
# with an exp in logreg's gradient gains from two threads; a 1,000-element loop of a few
# operations would lose.
PARALLEL_MIN_WORK = int(os.environ.get("FUNCGRAD_PARALLEL_MIN_WORK", "32768"))


def check_threads(value, where: str) -> int:
    """``value`` as a thread count (a positive integer), or a clear error naming ``where``
    it came from."""
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit():
            raise FuncgradValueError(f"{where}={value!r}: the number of threads must be a "
                                     "positive integer")
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        raise FuncgradValueError(f"{where}={value!r}: the number of threads must be a "
                                 f"positive integer, not {type(value).__name__}")
    if value < 1:
        raise FuncgradValueError(f"{where}={value!r}: the number of threads must be at "
                                 "least 1")
    return value


def default_threads() -> int:
    """``FUNCGRAD_NUM_THREADS`` (default 1: one thread, as before threads existed)."""
    value = os.environ.get("FUNCGRAD_NUM_THREADS", "").strip()
    return check_threads(value, "FUNCGRAD_NUM_THREADS") if value else 1


def usable(threads: int) -> int:
    """At most the threads Numba's pool has (NUMBA_NUM_THREADS, by default the cores)."""
    from numba.core import config
    return max(1, min(threads, config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]


_counts: dict[int, int] = {}  # threads asked for -> usable(threads)
_set_count = None  # Numba's own setter, once its threads run (see set_threads)


def set_threads(threads: int):
    """Run the parallel loops of this Python thread's next calls on ``threads`` threads.
    Called before every call of a parallel program (the count is per calling thread), so
    after the first call it goes straight to the setter of Numba's thread pool (0.3 µs,
    where ``numba.set_num_threads``, checking its argument and the pool each time, takes
    1.5 µs: 5% of logreg's gradient on two threads)."""
    global _set_count
    count = _counts.get(threads)
    if count is not None and _set_count is not None:
        _set_count(count)
        return
    import numba
    from numba.np.ufunc import parallel
    count = _counts[threads] = usable(threads)
    numba.set_num_threads(count)  # (starts the pool the first time)
    setter = getattr(parallel, "_set_num_threads", None)
    _set_count = setter if callable(setter) else numba.set_num_threads
