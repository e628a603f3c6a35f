"""Lowering Programs to Numba: lowering kinds (lowering.py), code generation (codegen.py),
the disk cache (cache.py) and jit (jit.py). Nothing is imported here, so that primitives can
declare their lowerings without loading Numba."""


def stats() -> dict:
    """Counters of this process's compilation work: ``traces`` (jit traced a function for a
    new signature), ``programs_generated`` (Numba source written for a program),
    ``modules_written``/``modules_loaded`` (the disk cache), ``numba_compilations`` (Numba
    compiled machine code rather than loading it from disk) and ``cache_repairs``.

    Example:
        >>> from funcgrad.compile import stats
        >>> sorted(stats())[:2]
        ['cache_repairs', 'modules_loaded']
    """
    from funcgrad.compile import cache, jit
    return {**jit.stats, **cache.stats}
