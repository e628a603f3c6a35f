"""NumPy's own functions called on tracers (``np.exp(x)``, ``np.sum(x)``, ``a + x`` with a
NumPy ``a``): routed to the funcgrad.numpy function of the same name, or refused with an error
that names what to use. A tracer never silently becomes a NumPy object array."""

from __future__ import annotations

import functools
import inspect

from funcgrad.core.errors import FuncgradTypeError

_UFUNC_NAMES = {"absolute": "abs", "divide": "true_divide", "remainder": "mod",
                "conjugate": "positive", "conj": "positive"}
_REDUCE = {"add": "sum", "multiply": "prod", "maximum": "max", "minimum": "min",
           "logical_and": "all", "logical_or": "any"}
_ACCUMULATE = {"add": "cumsum", "multiply": "cumprod"}


def _fnp():
    import funcgrad.numpy as fnp
    return fnp


def ufunc(uf, method, inputs, kwargs):
    name = uf.__name__
    if kwargs.get("out") is not None:
        raise FuncgradTypeError(
            f"numpy.{name}(..., out=...) on a traced value: traced arrays are immutable; "
            "use the returned value")
    kwargs.pop("out", None)
    fnp = _fnp()
    if method == "__call__":
        fn = getattr(fnp, _UFUNC_NAMES.get(name, name), None)
        if fn is not None and not kwargs:
            return fn(*inputs)
    elif method == "reduce" and name in _REDUCE:  # ufunc methods reduce axis 0 by default
        return getattr(fnp, _REDUCE[name])(*inputs, **{"axis": 0, **kwargs})
    elif method == "accumulate" and name in _ACCUMULATE:
        return getattr(fnp, _ACCUMULATE[name])(*inputs, **{"axis": 0, **kwargs})
    what = f"numpy.{name}" + ("" if method == "__call__" else f".{method}")
    raise FuncgradTypeError(
        f"{what} was applied to a traced value and has no funcgrad.numpy equivalent"
        + (f" with arguments {sorted(kwargs)}" if kwargs else "")
        + "; use funcgrad.numpy (import funcgrad.numpy as fnp) functions inside traced code")


def _equivalent(module, name):
    """funcgrad.numpy's function for NumPy's ``module.name`` (np.linalg's in fnp.linalg)."""
    if module == "numpy.linalg":
        return getattr(_fnp().linalg, name, None)
    if module in ("numpy", "numpy._core.fromnumeric") or module.startswith("numpy._core") \
            or module.startswith("numpy.lib"):
        return getattr(_fnp(), name, None)
    return None


def _as_dtype(x):
    """What NumPy's promotion reads of a tracer: its dtype, or a Python number if weak."""
    aval = getattr(x, "aval", None)
    if aval is None:
        return x
    return {"b": False, "i": 0, "u": 0, "f": 0.0}[aval.dtype.kind] if aval.weak_type \
        else aval.dtype


def array_function(func, args, kwargs):
    module = func.__module__ or "numpy"
    name = func.__name__
    fn = _equivalent(module, name)
    if fn is func:  # NumPy's own, re-exported (result_type): it needs the dtypes alone
        return func(*map(_as_dtype, args), **kwargs)
    if fn is None or not callable(fn):
        where = module.replace("numpy._core.", "numpy.").replace("._core", "")
        raise FuncgradTypeError(
            f"{where}.{name} was applied to a traced value; funcgrad.numpy"
            f"{'.linalg' if module == 'numpy.linalg' else ''} has no {name}. "
            "Inside traced code use funcgrad.numpy (fnp) functions, which record themselves "
            "in the program")
    try:  # NumPy's options that funcgrad's function lacks: say so, not a bare TypeError
        _signature(fn).bind(*args, **kwargs)
    except TypeError as err:
        raise FuncgradTypeError(
            f"numpy.{name} was applied to a traced value with arguments that "
            f"funcgrad.numpy.{name} does not support ({err})") from None
    return fn(*args, **kwargs)


@functools.cache
def _signature(fn):
    return inspect.signature(fn)
