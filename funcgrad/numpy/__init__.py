"""funcgrad.numpy: NumPy's API, traceable and differentiable.

On plain arrays these functions compute with NumPy and return NumPy values; on traced
values they record primitives into the program being traced. Broadcasting and dtype
promotion follow NumPy 2 (NEP 50): a Python float times a float32 array stays float32.

Where funcgrad differs from NumPy, on purpose:
  - no float16 and no complex numbers: where NumPy would answer in float16 (``exp`` of a
    bool or int8 array) funcgrad raises a FuncgradTypeError;
  - inside a trace, a function of Python numbers alone stays a (weak) Python number, as
    Python arithmetic does: ``x_f32 * fnp.sqrt(s)``, with ``s`` a Python float argument, is
    float32 traced, where NumPy's ``np.sqrt(s)`` is a float64 scalar that makes it float64;
  - no ``out=`` (arrays are never written in place: ``fill_diagonal`` and
    ``put_along_axis`` take JAX's ``inplace=False`` and return a new array); reductions take
    ``where=`` and ``initial=`` as JAX's do (composites: left-out elements get a zero
    gradient), ufuncs do not; boolean masks and the sizes of results must be known while
    tracing (JAX's ``size=`` where a size depends on values); memory layout arguments
    (``order``, ``subok``) are accepted and ignored;
  - integer ``reciprocal`` of 0 is 0 (NumPy's is undefined), and ``repeat`` wants integer
    repeats (NumPy truncates a float).

Example:
    >>> import numpy as np, funcgrad.numpy as fnp
    >>> fnp.tanh(np.zeros(2)) + 1.0
    array([1., 1.])
"""

import numpy as _np

__version__ = _np.__version__  # the NumPy funcgrad.numpy stands in for

from funcgrad.numpy import _indexing, _numpy_interop  # noqa: F401  (used by Tracer)
from funcgrad.numpy._creation import (arange, array, asarray, astype,  # noqa: F401
                                      empty, empty_like, eye, full, full_like, identity,
                                      linspace, ones, ones_like, zeros, zeros_like)
from funcgrad.numpy._differences import gradient  # noqa: F401
from funcgrad.numpy._floating_point_errors import errstate, geterr, seterr  # noqa: F401
from funcgrad.numpy._indexing import at, nonzero  # noqa: F401
from funcgrad.numpy._linalg import (diag, diagonal, dot, einsum, inner, matmul, outer,  # noqa: F401
                                    tensordot, trace, tril, triu, vdot)
from funcgrad.numpy._linalg import cross  # noqa: F401
from funcgrad.numpy._linalg import einsum_path  # noqa: F401
from funcgrad.numpy._real_numbers import (angle, conj, conjugate, imag,  # noqa: F401
                                          iscomplexobj, isrealobj, real, real_if_close)
from funcgrad.numpy._shape import rollaxis  # noqa: F401
from funcgrad.numpy._scalar_types import ScalarType as _ScalarType
from funcgrad.numpy._reductions import (all, amax, amin, any, argmax, argmin,  # noqa: F401,A004
                                        cumprod, cumsum, max, mean, min, prod, std, sum, var)
from funcgrad.numpy._shape import (atleast_1d, atleast_2d, broadcast_arrays,  # noqa: F401
                                   broadcast_to, concatenate, expand_dims, flip, fliplr,
                                   flipud, hstack, moveaxis, ndim, pad, ravel, repeat, reshape,
                                   roll, shape, size, split, squeeze, stack, swapaxes, take,
                                   take_along_axis, tile, transpose, vstack)
from funcgrad.numpy._ufuncs import (abs, absolute, add, allclose, arccos, arccosh,  # noqa: F401
                                    arcsin, arcsinh, arctan, arctan2, arctanh, around,
                                    bitwise_and, bitwise_or, bitwise_xor, cbrt, ceil, clip, cos,
                                    cosh, divide, equal, exp, exp2, expm1, floor, floor_divide,
                                    fmax, fmin, greater, greater_equal, hypot, invert, isclose,
                                    isfinite, isinf, isnan, less, less_equal, log, log1p, log2,
                                    log10, logaddexp, logical_and, logical_not, logical_or,
                                    logical_xor, maximum, minimum, mod, multiply, negative,
                                    not_equal, positive, power, reciprocal, remainder, rint,
                                    round, sign, sin, sinh, sqrt, square, subtract, tan, tanh,
                                    true_divide, where)
# sorting, searching, counting, order statistics and NaN-ignoring reductions
from funcgrad.numpy._sorting import (argpartition, argsort, argwhere, bincount,  # noqa: F401
                                     count_nonzero, digitize, flatnonzero, isin, partition,
                                     searchsorted, sort, unique)
from funcgrad.numpy._statistics import (average, corrcoef, cov, interp,  # noqa: F401
                                        median, nanargmax, nanargmin, nanmax, nanmean,
                                        nanmedian, nanmin, nanpercentile, nanprod,
                                        nanquantile, nanstd, nansum, nanvar, percentile,
                                        quantile)

pi: float = _np.pi
e: float = _np.e  # type: ignore[misc]  # mypy, from a cold cache only: "deleted variable e"
inf: float = _np.inf
nan: float = _np.nan
newaxis = None
# NumPy's scalar types, also callable on traced values (jnp.float32(x) in JAX code)
float32 = _ScalarType(_np.float32, "float32")
float64 = _ScalarType(_np.float64, "float64")
int32 = _ScalarType(_np.int32, "int32")
int64 = _ScalarType(_np.int64, "int64")
bool_ = _ScalarType(_np.bool_, "bool_")
int8 = _ScalarType(_np.int8, "int8")
int16 = _ScalarType(_np.int16, "int16")
uint8 = _ScalarType(_np.uint8, "uint8")
uint16 = _ScalarType(_np.uint16, "uint16")
uint32 = _ScalarType(_np.uint32, "uint32")
uint64 = _ScalarType(_np.uint64, "uint64")
ndarray, dtype, result_type, finfo, iinfo = (_np.ndarray, _np.dtype, _np.result_type,
                                             _np.finfo, _np.iinfo)

# The public API: what the reference documents (docs/hooks.py) and `import *` binds. Like
# NumPy's, it holds names that shadow builtins (abs, all, any, max, min, round, sum).
__all__ = [
    # creation
    "arange", "array", "asarray", "astype", "empty", "empty_like", "eye", "full", "full_like",
    "identity", "linspace", "ones", "ones_like", "zeros", "zeros_like",
    # indexing and updates
    "at", "nonzero",
    # linear algebra
    "diag", "diagonal", "dot", "einsum", "inner", "matmul", "outer", "tensordot", "trace",
    "tril", "triu", "vdot", "einsum_path",
    # reductions
    "all", "amax", "amin", "any", "argmax", "argmin", "cumprod", "cumsum", "max", "mean", "min",
    "prod", "std", "sum", "var",
    # shapes
    "atleast_1d", "atleast_2d", "broadcast_arrays", "broadcast_to", "concatenate",
    "expand_dims", "flip", "fliplr", "flipud", "hstack", "moveaxis", "ndim", "pad", "ravel",
    "repeat", "reshape", "roll", "shape", "size", "split", "squeeze", "stack", "swapaxes",
    "take", "take_along_axis", "tile", "transpose", "vstack",
    # elementwise
    "abs", "absolute", "add", "allclose", "arccos", "arccosh", "arcsin", "arcsinh", "arctan",
    "arctan2", "arctanh", "around", "bitwise_and", "bitwise_or", "bitwise_xor", "cbrt", "ceil",
    "clip", "cos", "cosh", "divide", "equal", "exp", "exp2", "expm1", "floor", "floor_divide",
    "fmax", "fmin", "greater", "greater_equal", "hypot", "invert", "isclose", "isfinite",
    "isinf", "isnan", "less", "less_equal", "log", "log1p", "log2", "log10", "logaddexp",
    "logical_and", "logical_not", "logical_or", "logical_xor", "maximum", "minimum", "mod",
    "multiply", "negative", "not_equal", "positive", "power", "reciprocal", "remainder", "rint",
    "round", "sign", "sin", "sinh", "sqrt", "square", "subtract", "tan", "tanh", "true_divide",
    "where",
    # sorting, searching, counting, order statistics and NaN-ignoring reductions
    "argpartition", "argsort", "argwhere", "bincount", "count_nonzero", "digitize",
    "flatnonzero", "isin", "partition", "searchsorted", "sort", "unique", "average",
    "corrcoef", "cov", "interp", "median", "nanargmax", "nanargmin", "nanmax", "nanmean",
    "nanmedian", "nanmin", "nanpercentile", "nanprod", "nanquantile", "nanstd", "nansum",
    "nanvar", "percentile", "quantile",
    # NumPy's constants, dtypes and dtype helpers
    "pi", "e", "inf", "nan", "newaxis", "float32", "float64", "int32", "int64", "bool_", "int8",
    "int16", "uint8", "uint16", "uint32", "uint64", "ndarray", "dtype", "result_type", "finfo",
    "iinfo",
    # complex helpers on real arrays, differences, NumPy's older spellings
    "angle", "conj", "conjugate", "cross", "gradient", "imag", "iscomplexobj", "isrealobj",
    "real", "real_if_close", "rollaxis", "errstate", "geterr", "seterr",
]

# issue 12: more elementwise functions, the array API's aliases, 1-D convolutions
from funcgrad.numpy._ufuncs import (acos, acosh, asin, asinh, atan, atan2,  # noqa: E402,A004
                                    atanh, bitwise_invert, bitwise_not, copysign, deg2rad,
                                    degrees, fabs, heaviside, logaddexp2, nan_to_num, pow,
                                    rad2deg, radians, signbit, sinc, trunc)
from funcgrad.numpy._convolve import convolve, correlate  # noqa: E402

__all__ += [
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "bitwise_invert", "bitwise_not",
    "copysign", "deg2rad", "degrees", "fabs", "heaviside", "logaddexp2", "nan_to_num", "pow",
    "rad2deg", "radians", "signbit", "sinc", "trunc",
    "convolve", "correlate",
]

# Issue 12's shape, creation and composed functions (differences, splits, index tricks...)
from funcgrad.numpy._creation import (c_, copy, geomspace, logspace, meshgrid,  # noqa: E402
                                      r_, tril_indices, tril_indices_from, triu_indices,
                                      triu_indices_from)
from funcgrad.numpy._functions import (diff, ediff1d, piecewise, polyval,  # noqa: E402
                                       select, trapezoid, vander)
from funcgrad.numpy._linalg import kron, vecdot  # noqa: E402
from funcgrad.numpy._shape import (append, array_split, atleast_3d,  # noqa: E402
                                   column_stack, concat, delete, dsplit, dstack, hsplit,
                                   insert, matrix_transpose, permute_dims, rot90, row_stack,
                                   unstack, vsplit)

__all__ += [
    "c_", "copy", "geomspace", "logspace", "meshgrid", "r_", "tril_indices",
    "tril_indices_from", "triu_indices", "triu_indices_from",
    "diff", "ediff1d", "piecewise", "polyval", "select", "trapezoid", "vander",
    "kron", "vecdot",
    "append", "array_split", "atleast_3d", "column_stack", "concat", "delete", "dsplit",
    "dstack", "hsplit", "insert", "matrix_transpose", "permute_dims", "rot90", "row_stack",
    "unstack", "vsplit",
]

# More of NumPy's names, as JAX has them: floating-point and integer ufuncs, index tricks
from funcgrad.numpy._creation import tri  # noqa: E402
from funcgrad.numpy._index_tricks import (diag_indices, diag_indices_from,  # noqa: E402
                                          fill_diagonal, indices, ix_, ravel_multi_index,
                                          unravel_index)
from funcgrad.numpy._linalg import diagflat  # noqa: E402
from funcgrad.numpy._ufuncs import (array_equal, array_equiv, divmod, float_power,  # noqa: E402,A004
                                    fmod, frexp, gcd, i0, isneginf, isposinf, lcm, ldexp,
                                    modf, nextafter, spacing)

from funcgrad.numpy._ufuncs import (bitwise_count, bitwise_left_shift,  # noqa: E402
                                    bitwise_right_shift, left_shift, right_shift)
from funcgrad.numpy._index_tricks import fromfunction  # noqa: E402
from funcgrad.numpy._linalg import matvec, vecmat  # noqa: E402
from funcgrad.numpy._real_numbers import iscomplex, isreal  # noqa: E402
from funcgrad.numpy._functional import (apply_along_axis, apply_over_axes,  # noqa: E402
                                        vectorize)
from funcgrad.numpy._histograms import (bartlett, blackman, hamming, hanning,  # noqa: E402
                                        histogram, histogram_bin_edges, kaiser)
from funcgrad.numpy._histograms import histogram2d, histogramdd  # noqa: E402,F401
from funcgrad.numpy._polynomial import (poly, polyadd, polyder, polydiv, polyfit,  # noqa: E402
                                        polyint, polymul, polysub, roots)
from funcgrad.numpy._reductions import cumulative_prod, cumulative_sum  # noqa: E402
from funcgrad.numpy._scalar_types import (can_cast, isscalar, issubdtype,  # noqa: E402
                                          promote_types)
from funcgrad.numpy._sets import (intersect1d, setdiff1d, setxor1d, union1d,  # noqa: E402
                                  unique_all, unique_counts, unique_inverse, unique_values)
from funcgrad.numpy._shape_base import (block, broadcast_shapes, choose, compress,  # noqa: E402
                                        extract, put_along_axis, resize, trim_zeros)
from funcgrad.numpy._sorting import lexsort  # noqa: E402
from funcgrad.numpy._statistics import nancumprod, nancumsum, ptp  # noqa: E402
from funcgrad.numpy._functions import unwrap  # noqa: E402

# NumPy's other names of funcgrad's scalar types, and its abstract ones (for issubdtype)
bool = bool_  # noqa: A001
int_, uint, double, single = int64, uint64, float64, float32
floating, integer, number, inexact = _np.floating, _np.integer, _np.number, _np.inexact
signedinteger, unsignedinteger, generic = _np.signedinteger, _np.unsignedinteger, _np.generic

__all__ += [
    "tri", "diag_indices", "diag_indices_from", "fill_diagonal", "indices", "ix_",
    "ravel_multi_index", "unravel_index", "diagflat",
    "array_equal", "array_equiv", "divmod", "float_power", "fmod", "frexp", "gcd", "i0",
    "isneginf", "isposinf", "lcm", "ldexp", "modf", "nextafter", "spacing",
    "apply_along_axis", "apply_over_axes", "vectorize",
    "bartlett", "blackman", "hamming", "hanning", "histogram", "histogram_bin_edges", "kaiser",
    "histogram2d", "histogramdd",
    "poly", "polyadd", "polyder", "polydiv", "polyfit", "polyint", "polymul", "polysub", "roots",
    "cumulative_prod", "cumulative_sum", "nancumprod", "nancumsum", "ptp", "unwrap",
    "can_cast", "isscalar", "issubdtype", "promote_types",
    "intersect1d", "setdiff1d", "setxor1d", "union1d", "unique_all", "unique_counts",
    "unique_inverse", "unique_values", "lexsort",
    "block", "broadcast_shapes", "choose", "compress", "extract", "put_along_axis", "resize",
    "trim_zeros",
    "bool", "int_", "uint", "double", "single", "floating", "integer", "number", "inexact",
    "signedinteger", "unsignedinteger", "generic",
    "bitwise_left_shift", "bitwise_right_shift", "left_shift", "right_shift",
    "bitwise_count", "fromfunction", "matvec", "vecmat", "iscomplex", "isreal",
    "mgrid", "ogrid", "s_", "index_exp", "euler_gamma",
]

# NumPy's grids and index expressions from static slices: NumPy's own objects, since they
# make constant arrays (and tuples of slices) from Python numbers, nothing to trace
mgrid, ogrid, s_, index_exp = _np.mgrid, _np.ogrid, _np.s_, _np.index_exp
euler_gamma: float = _np.euler_gamma

from funcgrad.numpy import _tracer_methods  # noqa: E402

_tracer_methods.install()  # Tracers get their array methods from this layer

from funcgrad.numpy import linalg  # noqa: E402,F401  (fnp.linalg, as np.linalg)
