"""``python -m funcgrad.cache info|clear``: see funcgrad/cache/__init__.py."""

from __future__ import annotations

import sys

from funcgrad.cache import clear, info
from funcgrad.compile import disk_cache


def main(argv=None) -> int:
    """``python -m funcgrad.cache info|clear``."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["info"]:
        found = info()
        print(f"directory: {found['directory']}\nmodules:   {found['modules']}\n"
              f"size:      {found['bytes'] / 2**20:.1f} MB of {found['limit_bytes'] / 2**20:.0f}"
              " MB (FUNCGRAD_CACHE_MAX_MB)")
        return 0
    if args == ["clear"]:
        print(f"removed {clear()} compiled modules from {disk_cache.cache_root()}")
        return 0
    print("usage: python -m funcgrad.cache info|clear", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
