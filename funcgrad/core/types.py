"""Abstract values: what tracing knows about an array (its shape and dtype, never its data).

NumPy 2 promotes with NEP 50: a Python scalar is "weak" and takes the dtype of the array it
meets (float32 array * 2.0 stays float32). Avals carry that weakness so traced code promotes
exactly as NumPy does on plain arrays. A weak value is a Python number: it has no axes
(anything with a shape is a NumPy array, which is strong), and when a program runs, its value
is a Python number too (``weak_value``), so that NumPy promotes it as the types say. Like
Python arithmetic, an operation on weak values alone gives a weak value.
"""

from __future__ import annotations

import sys

import numpy as np

from funcgrad.core.errors import FuncgradTypeError

SUPPORTED_DTYPES = tuple(
    np.dtype(name)
    for name in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                 "uint64", "float32", "float64")
)
_SHORT_NAMES = {
    "bool": "bool", "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
    "uint8": "u8", "uint16": "u16", "uint32": "u32", "uint64": "u64",
    "float32": "f32", "float64": "f64",
}
_SUPPORTED = frozenset(SUPPORTED_DTYPES)
float64 = np.dtype("float64")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")


class ShapedArray:
    """The abstract value of an array: shape, dtype, and whether it came from a Python scalar."""

    __slots__ = ("shape", "dtype", "weak_type", "_hash")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype, weak_type: bool = False):
        self.shape = shape
        self.dtype = dtype
        self.weak_type = weak_type = bool(weak_type) and not shape  # arrays are never weak
        self._hash = hash((shape, dtype, weak_type))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def update(self, shape=None, dtype=None, weak_type=None) -> ShapedArray:
        return ShapedArray(self.shape if shape is None else tuple(shape),
                           self.dtype if dtype is None else np.dtype(dtype),
                           self.weak_type if weak_type is None else weak_type)

    def strong(self) -> ShapedArray:
        return self if not self.weak_type else ShapedArray(self.shape, self.dtype, False)

    def __eq__(self, other):
        return (isinstance(other, ShapedArray) and self.shape == other.shape
                and self.dtype == other.dtype and self.weak_type == other.weak_type)

    def __hash__(self):
        return self._hash

    def __str__(self):
        return f"{dtype_name(self.dtype)}[{','.join(map(str, self.shape))}]"

    __repr__ = __str__


def dtype_name(dtype: np.dtype) -> str:
    return _SHORT_NAMES.get(dtype.name, dtype.name)


def check_dtype(dtype, where: str = "") -> np.dtype:
    dtype = np.dtype(dtype)
    if not dtype.isnative:  # big-endian '>f8' is float64 in another byte order
        dtype = dtype.newbyteorder("=")
    if dtype not in _SUPPORTED:
        if dtype.names == ("float0",):  # (fg.float0, defined with forward mode)
            raise FuncgradTypeError(
                f"a float0 value{where}: a traced function (jit, vmap, grad, make_ir) cannot "
                "compute with one, nor take or return one made with NumPy (those grad, vjp and "
                "jvp return for integers pass through); return an integer output as aux "
                "(has_aux=True), or call jvp outside")
        names = ", ".join(d.name for d in SUPPORTED_DTYPES)
        hint = " (complex numbers are not supported)" if dtype.kind == "c" else ""
        raise FuncgradTypeError(f"dtype {dtype.name}{hint} is not supported{where}; "
                                f"funcgrad works with {names}")
    return dtype


def is_float(dtype: np.dtype) -> bool:
    return dtype.kind == "f"


# The value NumPy's promotion sees for a weak operand: a Python scalar of the same kind.
_WEAK_EXEMPLAR = {"b": False, "i": 0, "u": 0, "f": 0.0}
_promotion_cache: dict = {}


def promote_types(*avals: ShapedArray) -> tuple[np.dtype, bool]:
    """The result dtype of an elementwise op under NEP 50, and whether the result is weak."""
    key = tuple((a.dtype, a.weak_type) for a in avals)
    hit = _promotion_cache.get(key)
    if hit is None:
        weak = all(a.weak_type for a in avals)
        operands = [_WEAK_EXEMPLAR[a.dtype.kind] if a.weak_type and not weak else a.dtype
                    for a in avals]
        hit = _promotion_cache[key] = (np.result_type(*operands), weak)
    return hit


def weak_value(value):
    """The run-time value of a weak variable: a Python number, which NumPy promotes as weak
    (``np.float64(2.0) * x_f32`` is float64; ``2.0 * x_f32`` is float32)."""
    return value.item() if isinstance(value, (np.generic, np.ndarray)) else value


# Array subclasses whose operations mean something else than an array's: computed as plain
# arrays they would give other results than NumPy's, so they are refused by name.
_SUBCLASS_REFUSED = {
    False: "a masked array{where} is not supported: funcgrad would ignore its mask; pass "
           "x.filled(value) or x.compressed()",
    True: "a numpy.matrix{where} is not supported (its * is a matrix product, its rows stay "
          "2-d); pass np.asarray(x) and use @ for matrix products",
}


def _refuse_subclass(value, where: str):
    """Raises for a masked array or a numpy.matrix. (``np.ma`` is not touched unless NumPy
    has imported it: the attribute imports numpy.ma, 10-15 ms, and a masked array cannot
    exist before.)"""
    masked = sys.modules.get("numpy.ma")
    if isinstance(value, np.matrix) or (masked is not None
                                        and isinstance(value, masked.MaskedArray)):
        raise FuncgradTypeError(_SUBCLASS_REFUSED[isinstance(value, np.matrix)].format(
            where=where))


def aval_of(value, where: str = "") -> ShapedArray:
    """The abstract value of a concrete value (Python scalar, NumPy scalar or array)."""
    t = type(value)
    if t is float:
        return ShapedArray((), float64, True)
    if t is bool:
        return ShapedArray((), bool_, False)
    if t is int:
        if not -(2**63) <= value < 2**63:
            raise FuncgradTypeError(f"the integer {value}{where} does not fit in int64")
        return ShapedArray((), int64, True)
    if isinstance(value, (np.ndarray, np.generic)):
        if t is not np.ndarray and isinstance(value, np.ndarray):
            _refuse_subclass(value, where)
        dtype = value.dtype if value.dtype.isnative else value.dtype.newbyteorder("=")
        return ShapedArray(value.shape, check_dtype(dtype, where), False)
    if t is complex:
        raise FuncgradTypeError(f"complex value {value!r}{where}: complex numbers are not "
                                "supported")
    raise FuncgradTypeError(f"{t.__name__} value {value!r:.60}{where} is not an array")
