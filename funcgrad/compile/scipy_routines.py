"""SciPy's own compiled special functions, called from generated code.

scipy.special.cython_special exports its C routines (the Cephes and AMOS Bessel functions
among them). Generated code calls them by symbol name: llvmlite learns each symbol's address
when this module is imported, and Numba links the call like any C function. Unlike a ctypes
pointer (a "dynamic global"), a named symbol lets Numba cache the compiled function on disk;
the address is looked up again in every process that imports funcgrad. Each routine takes
float64 and returns float64, with SciPy's conventions (nan outside the domain, never an
exception); cython_special's entry points take one more argument, 0, which says to skip
Python dispatch.
"""

from __future__ import annotations

import llvmlite.binding as llvm
from numba import types
from numba.extending import get_cython_function_address, register_jitable


def _routine(capi_name: str, n_args: int):
    """The cython_special routine ``capi_name`` as a function Numba can call and cache."""
    symbol = f"funcgrad_cython_special_{capi_name}"
    llvm.add_symbol(symbol, get_cython_function_address("scipy.special.cython_special",
                                                        capi_name))
    return types.ExternalFunction(symbol, types.float64(*[types.float64] * n_args,
                                                        types.intc))


# cython_special's double-precision variants ("__pyx_fuse_1": real order, real argument)
_j0, _j1, _y0, _y1 = (_routine(name, 1) for name in ("j0", "j1", "y0", "y1"))
_k0, _k1, _k0e, _k1e = (_routine(name, 1) for name in ("k0", "k1", "k0e", "k1e"))
_jv, _yv, _iv, _ive, _kv, _kve = (_routine(f"__pyx_fuse_1{name}", 2)
                                  for name in ("jv", "yv", "iv", "ive", "kv", "kve"))


@register_jitable
def j0(x):
    return _j0(float(x), 0)


@register_jitable
def j1(x):
    return _j1(float(x), 0)


@register_jitable
def y0(x):
    return _y0(float(x), 0)


@register_jitable
def y1(x):
    return _y1(float(x), 0)


@register_jitable
def k0(x):
    return _k0(float(x), 0)


@register_jitable
def k1(x):
    return _k1(float(x), 0)


@register_jitable
def k0e(x):
    return _k0e(float(x), 0)


@register_jitable
def k1e(x):
    return _k1e(float(x), 0)


@register_jitable
def jv(v, x):
    return _jv(float(v), float(x), 0)


@register_jitable
def yv(v, x):
    return _yv(float(v), float(x), 0)


@register_jitable
def iv(v, x):
    return _iv(float(v), float(x), 0)


@register_jitable
def ive(v, x):
    return _ive(float(v), float(x), 0)


@register_jitable
def kv(v, x):
    return _kv(float(v), float(x), 0)


@register_jitable
def kve(v, x):
    return _kve(float(v), float(x), 0)
