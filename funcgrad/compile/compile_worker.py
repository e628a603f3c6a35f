"""Compile one generated module in a separate process, filling Numba's disk cache.

Run as a script, by path (``python compile_worker.py MODULE SIGNATURE``), so that the worker
imports only NumPy and Numba (and funcgrad only if the module calls its routines): the
parent process, which keeps answering calls with the NumPy evaluator, then loads the machine
code from the cache (see background.py). This file imports nothing of funcgrad: it is also
imported by background.py for ``numba_signature``.

A signature travels as JSON, one entry per argument (``signature_spec`` makes them without
importing Numba): ``["array", dtype, ndim, layout, readonly, aligned]``, ``["scalar", dtype]``
(a NumPy scalar), or ``["float"]``, ``["int"]``, ``["bool"]``, ``["complex"]`` (Python
numbers), the types ``numba.typeof`` gives the same values.
"""

from __future__ import annotations

import sys

_PYTHON_NUMBERS = {bool: "bool", int: "int", float: "float", complex: "complex"}


def signature_spec(args) -> list | None:
    """What ``numba.typeof`` would say of each argument, as JSON-able lists (None if an
    argument is of a kind not described here: the caller then compiles in its own process)."""
    import numpy as np
    spec: list = []
    for a in args:
        t = type(a)
        if t is np.ndarray:
            flags = a.flags
            if not a.dtype.isbuiltin or not a.dtype.isnative:
                return None
            layout = "C" if flags.c_contiguous else "F" if flags.f_contiguous else "A"
            spec.append(["array", a.dtype.str, a.ndim, layout, not flags.writeable,
                         bool(flags.aligned)])
        elif t in _PYTHON_NUMBERS:
            if t is int and not -2**63 <= a < 2**63:
                return None
            spec.append([_PYTHON_NUMBERS[t]])
        elif isinstance(a, np.generic) and a.dtype.isbuiltin and a.dtype.kind in "biufc":
            spec.append(["scalar", a.dtype.str])
        else:
            return None
    return spec


def numba_signature(spec) -> tuple:
    """The Numba types of a ``signature_spec``."""
    import numba
    import numpy as np
    from numba import types
    named = {"bool": types.boolean, "int": types.int64, "float": types.float64,
             "complex": types.complex128}
    out: list = []
    for entry in spec:
        kind = entry[0]
        if kind == "array":
            _, dtype, ndim, layout, readonly, aligned = entry
            out.append(types.Array(numba.from_dtype(np.dtype(dtype)), ndim, layout,
                                   readonly=readonly, aligned=aligned))
        elif kind == "scalar":
            out.append(numba.from_dtype(np.dtype(entry[1])))
        else:
            out.append(named[kind])
    return tuple(out)


def main(path: str, module_name: str, spec_json: str) -> int:
    import importlib.util
    import json
    import warnings
    from numba.core.errors import NumbaPerformanceWarning
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # Numba's cache finds the module's globals by its name
    spec.loader.exec_module(module)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumbaPerformanceWarning)
        module.program.compile(numba_signature(json.loads(spec_json)))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
