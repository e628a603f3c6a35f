"""The Numba backend: code generation (codegen.py, the entry point; context.py, the API
lowering rules write code with; scheduler.py, fusion and placement; emitter.py), the disk
cache (disk_cache.py) and executables (executable.py). The lowering kinds primitives declare
are funcgrad/rules/lowering.py. Numba itself is imported only when something is compiled."""


def stats() -> dict:
    """Counters of this process's compilation work: ``traces`` (jit traced a function for a
    new signature), ``programs_generated`` (Numba source written for a program),
    ``modules_written``/``modules_loaded`` (the disk cache), ``numba_compilations`` (Numba
    compiled machine code rather than loading it from disk) and ``cache_repairs``;
    ``background_compiles`` (compiles started in the background by tiered jit),
    ``worker_processes`` (of them, in a worker process) and ``background_failures``.

    Example:
        >>> from funcgrad.compile import stats
        >>> sorted(stats())[:2]
        ['background_compiles', 'background_failures']
    """
    from funcgrad.compile import background, disk_cache, executable
    return {**executable.stats, **disk_cache.stats, **background.stats}
