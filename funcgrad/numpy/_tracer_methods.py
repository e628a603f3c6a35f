"""The array methods of Tracers (operators, ``.sum()``, ``.T``, ``.at[]``...), installed by the
NumPy layer: core/tracing.py defines what a Tracer is, and this module what it can do as an
array, in terms of funcgrad.numpy (as JAX's ``array_methods`` does for its tracers)."""

from __future__ import annotations

import funcgrad.numpy as fnp
from funcgrad.core.errors import FuncgradTypeError
from funcgrad.core.tracing import Tracer


class _ArrayMethods:
    """Everything below becomes a method of Tracer."""

    T = property(lambda self: fnp.transpose(self))
    mT = property(lambda self: fnp.swapaxes(self, -1, -2))
    at = property(lambda self: _IndexUpdateHelper(self))

    # -- NumPy's own functions on tracers --------------------------------------------------

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return fnp._numpy_interop.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return fnp._numpy_interop.array_function(func, args, kwargs)

    # -- arithmetic ------------------------------------------------------------------------

    def __neg__(self): return fnp.negative(self)
    def __pos__(self): return self
    def __abs__(self): return fnp.abs(self)
    def __invert__(self): return fnp.invert(self)
    def __add__(self, o): return fnp.add(self, o)
    def __radd__(self, o): return fnp.add(o, self)
    def __sub__(self, o): return fnp.subtract(self, o)
    def __rsub__(self, o): return fnp.subtract(o, self)
    def __mul__(self, o): return fnp.multiply(self, o)
    def __rmul__(self, o): return fnp.multiply(o, self)
    def __truediv__(self, o): return fnp.true_divide(self, o)
    def __rtruediv__(self, o): return fnp.true_divide(o, self)
    def __floordiv__(self, o): return fnp.floor_divide(self, o)
    def __rfloordiv__(self, o): return fnp.floor_divide(o, self)
    def __mod__(self, o): return fnp.mod(self, o)
    def __rmod__(self, o): return fnp.mod(o, self)
    def __pow__(self, o): return fnp.power(self, o)
    def __rpow__(self, o): return fnp.power(o, self)
    def __matmul__(self, o): return fnp.matmul(self, o)
    def __rmatmul__(self, o): return fnp.matmul(o, self)
    def __and__(self, o): return fnp.bitwise_and(self, o)
    def __rand__(self, o): return fnp.bitwise_and(o, self)
    def __or__(self, o): return fnp.bitwise_or(self, o)
    def __ror__(self, o): return fnp.bitwise_or(o, self)
    def __xor__(self, o): return fnp.bitwise_xor(self, o)
    def __rxor__(self, o): return fnp.bitwise_xor(o, self)
    def __lshift__(self, o): return fnp.left_shift(self, o)
    def __rlshift__(self, o): return fnp.left_shift(o, self)
    def __rshift__(self, o): return fnp.right_shift(self, o)
    def __rrshift__(self, o): return fnp.right_shift(o, self)
    def __lt__(self, o): return fnp.less(self, o)
    def __le__(self, o): return fnp.less_equal(self, o)
    def __gt__(self, o): return fnp.greater(self, o)
    def __ge__(self, o): return fnp.greater_equal(self, o)
    def __eq__(self, o): return fnp.equal(self, o)
    def __ne__(self, o): return fnp.not_equal(self, o)
    def __hash__(self):  # == builds an array, as NumPy's does, so no hash: say what to do
        raise FuncgradTypeError(
            f"a traced array ({self.aval}) cannot be hashed: it cannot be a dict key or a set "
            "member, and its value is not known while tracing. Key by a Python value (an index, "
            "a name) or pass the value as a static argument (static_argnums)")

    def __getitem__(self, index): return fnp._indexing.getitem(self, index)

    # -- methods ---------------------------------------------------------------------------

    # ndarray's methods take the arguments of the NumPy function of the same name, in order
    def sum(self, *args, **kwargs): return fnp.sum(self, *args, **kwargs)
    def mean(self, *args, **kwargs): return fnp.mean(self, *args, **kwargs)
    def var(self, *args, **kwargs): return fnp.var(self, *args, **kwargs)
    def std(self, *args, **kwargs): return fnp.std(self, *args, **kwargs)
    def max(self, *args, **kwargs): return fnp.max(self, *args, **kwargs)
    def min(self, *args, **kwargs): return fnp.min(self, *args, **kwargs)
    def prod(self, *args, **kwargs): return fnp.prod(self, *args, **kwargs)
    def all(self, *args, **kwargs): return fnp.all(self, *args, **kwargs)
    def any(self, *args, **kwargs): return fnp.any(self, *args, **kwargs)
    def argmax(self, *args, **kwargs): return fnp.argmax(self, *args, **kwargs)
    def argmin(self, *args, **kwargs): return fnp.argmin(self, *args, **kwargs)
    def cumsum(self, *args, **kwargs): return fnp.cumsum(self, *args, **kwargs)
    def cumprod(self, *args, **kwargs): return fnp.cumprod(self, *args, **kwargs)
    def clip(self, *args, **kwargs): return fnp.clip(self, *args, **kwargs)
    # sorting (NumPy's ndarray.sort sorts in place; a traced array returns the sorted copy)
    def sort(self, *args, **kwargs): return fnp.sort(self, *args, **kwargs)
    def argsort(self, *args, **kwargs): return fnp.argsort(self, *args, **kwargs)
    def nonzero(self, **kwargs): return fnp.nonzero(self, **kwargs)
    def partition(self, *args, **kwargs): return fnp.partition(self, *args, **kwargs)
    def argpartition(self, *args, **kwargs): return fnp.argpartition(self, *args, **kwargs)
    def searchsorted(self, *args, **kwargs): return fnp.searchsorted(self, *args, **kwargs)
    def round(self, *args, **kwargs): return fnp.round(self, *args, **kwargs)
    def repeat(self, *args, **kwargs): return fnp.repeat(self, *args, **kwargs)
    def take(self, *args, **kwargs): return fnp.take(self, *args, **kwargs)
    def diagonal(self, *args, **kwargs): return fnp.diagonal(self, *args, **kwargs)
    def trace(self, *args, **kwargs): return fnp.trace(self, *args, **kwargs)
    def conj(self): return fnp.conj(self)
    def conjugate(self): return fnp.conj(self)
    real = property(lambda self: fnp.real(self))
    imag = property(lambda self: fnp.imag(self))
    def dot(self, other): return fnp.dot(self, other)
    def ravel(self): return fnp.ravel(self)
    def flatten(self, order="C"): return fnp.ravel(self, order)
    def squeeze(self, axis=None): return fnp.squeeze(self, axis)
    def swapaxes(self, a, b): return fnp.swapaxes(self, a, b)
    def astype(self, dtype): return fnp.asarray(self, dtype=dtype)
    def copy(self): return self

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return fnp.reshape(self, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = axes[0]
        return fnp.transpose(self, axes or None)


class _IndexUpdateHelper:
    """``x.at[index]``: the functional form of ``x[index] = v`` (as in JAX)."""

    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, index):
        return _IndexUpdateRef(self.array, index)


class _IndexUpdateRef:
    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array, self.index = array, index

    def get(self):
        return self.array[self.index]

    def set(self, values):
        return fnp._indexing.scatter(self.array, self.index, values, "set")

    def add(self, values):
        return fnp._indexing.scatter(self.array, self.index, values, "add")

    def multiply(self, values):
        return fnp._indexing.scatter(self.array, self.index, values, "multiply")

    mul = multiply

    def min(self, values):
        """The smaller of each selected element and the values (repeats: the smallest)."""
        return fnp._indexing.scatter(self.array, self.index, values, "min")

    def max(self, values):
        """The larger of each selected element and the values (repeats: the largest)."""
        return fnp._indexing.scatter(self.array, self.index, values, "max")

    def __getattr__(self, name):  # JAX's .divide, .power, .apply: not here
        if name.startswith("__"):  # what copy and pickle look for
            raise AttributeError(name)
        raise FuncgradTypeError(
            f"x.at[index].{name} is not supported: funcgrad has .set, .add, .multiply (.mul), "
            f".min, .max and .get. Where no index repeats, x.at[index].set(f(x[index], v)) "
            f"does it")


def install() -> None:
    for name, value in vars(_ArrayMethods).items():
        if name not in ("__module__", "__doc__", "__dict__", "__weakref__", "__qualname__"):
            setattr(Tracer, name, value)
