"""SciPy's own compiled special functions, called from generated code.

scipy.special.cython_special exports its C routines (the Cephes and AMOS Bessel functions
among them). Generated code calls them by symbol name: llvmlite learns each symbol's address
when this module is imported, and Numba links the call like any C function. Unlike a ctypes
pointer (a "dynamic global"), a named symbol lets Numba cache the compiled function on disk;
the address is looked up again in every process that imports funcgrad. Each routine takes
float64 and returns float64, with SciPy's conventions (nan outside the domain, never an
exception); cython_special's entry points take one more argument, 0, which says to skip
Python dispatch. sici and fresnel return their two values through pointers: each of
their wrappers here passes a two-element buffer and returns one of the values.
"""

from __future__ import annotations

import llvmlite.binding as llvm
import numpy as np
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
# the special functions of funcgrad.scipy.special computed by SciPy's routines
_exp1, _expi, _erfcx, _dawsn, _spence, _loggamma = (
    _routine(f"__pyx_fuse_1{name}", 1)
    for name in ("exp1", "expi", "erfcx", "dawsn", "spence", "loggamma"))
_expn = _routine("__pyx_fuse_0expn", 2)
_boxcox, _boxcox1p, _owens_t, _poch = (_routine(name, 2)
                                       for name in ("boxcox", "boxcox1p", "owens_t", "poch"))
_hyp1f1 = _routine("__pyx_fuse_1hyp1f1", 3)


def _pair_routine(capi_name: str):
    """A routine ``void f(double x, double *first, double *second)`` (no dispatch flag)."""
    symbol = f"funcgrad_cython_special_{capi_name}"
    llvm.add_symbol(symbol, get_cython_function_address("scipy.special.cython_special",
                                                        capi_name))
    pointer = types.CPointer(types.float64)
    return types.ExternalFunction(symbol, types.void(types.float64, pointer, pointer))


_sici, _fresnel = _pair_routine("__pyx_fuse_1sici"), _pair_routine("__pyx_fuse_1fresnel")


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


@register_jitable
def exp1(x):
    return _exp1(float(x), 0)


@register_jitable
def expi(x):
    return _expi(float(x), 0)


@register_jitable
def expn(n, x):
    return _expn(float(n), float(x), 0)


@register_jitable
def erfcx(x):
    return _erfcx(float(x), 0)


@register_jitable
def dawsn(x):
    return _dawsn(float(x), 0)


@register_jitable
def spence(x):
    return _spence(float(x), 0)


@register_jitable
def loggamma(x):
    return _loggamma(float(x), 0)


@register_jitable
def boxcox(x, lmbda):
    return _boxcox(float(x), float(lmbda), 0)


@register_jitable
def boxcox1p(x, lmbda):
    return _boxcox1p(float(x), float(lmbda), 0)


@register_jitable
def owens_t(h, a):
    return _owens_t(float(h), float(a), 0)


@register_jitable
def poch(z, m):
    return _poch(float(z), float(m), 0)


@register_jitable
def hyp1f1(a, b, x):
    return _hyp1f1(float(a), float(b), float(x), 0)


@register_jitable
def si(x):
    out = np.empty(2)
    _sici(float(x), out[0:].ctypes, out[1:].ctypes)
    return out[0]


@register_jitable
def ci(x):
    out = np.empty(2)
    _sici(float(x), out[0:].ctypes, out[1:].ctypes)
    return out[1]


@register_jitable
def fresnel_s(x):
    out = np.empty(2)
    _fresnel(float(x), out[0:].ctypes, out[1:].ctypes)
    return out[0]


@register_jitable
def fresnel_c(x):
    out = np.empty(2)
    _fresnel(float(x), out[0:].ctypes, out[1:].ctypes)
    return out[1]
