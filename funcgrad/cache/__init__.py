"""The disk cache of compiled code: where it is, how large, and emptying it.

    python -m funcgrad.cache info     # the directory, its modules and their size
    python -m funcgrad.cache clear    # delete every compiled module

The cache lives in ``FUNCGRAD_CACHE_DIR`` (default ``~/.cache/funcgrad``), one directory per
funcgrad, Numba, Python version and CPU; it is bounded by ``FUNCGRAD_CACHE_MAX_MB`` megabytes
(default 2048), the modules used least recently deleted first. See compile/disk_cache.py.
(``python -m`` runs funcgrad/cache/__main__.py.)
"""

from __future__ import annotations

import shutil

from funcgrad.compile import disk_cache

__all__ = ["info", "clear"]


def info() -> dict:
    """The cache: its directory, the number of compiled modules in it, their size in bytes,
    and the size limit.

    Example:
        >>> sorted(fg.cache.info())
        ['bytes', 'directory', 'limit_bytes', 'modules']
    """
    root = disk_cache.cache_root()
    modules, size = 0, 0
    if root.is_dir():
        for directory in root.iterdir():
            if directory.is_dir():
                found = disk_cache.entries(directory)
                modules += len(found)
                size += sum(n for _, n, _ in found)
    return {"directory": str(root), "modules": modules, "bytes": size,
            "limit_bytes": disk_cache.max_bytes()}


def clear() -> int:
    """Delete every compiled module of the cache (of every version and CPU); returns how many.
    Programs already loaded by running processes keep working.

    Example:
        >>> n = fg.cache.clear()  # doctest: +SKIP
    """
    root = disk_cache.cache_root()
    removed = 0
    if not root.is_dir():
        return 0
    for directory in root.iterdir():
        if directory.is_dir() and disk_cache.unsafe(directory, directory=True) is None:
            removed += len(disk_cache.entries(directory))
            shutil.rmtree(directory, ignore_errors=True)
    disk_cache.forget_directories()
    return removed
