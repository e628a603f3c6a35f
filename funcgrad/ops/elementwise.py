"""Elementwise primitives: one line each, with the NumPy ufunc that computes them, their
vector-Jacobian product and their Numba lowering (a scalar expression inside a fused loop).

Every elementwise primitive broadcasts its operands and promotes dtypes exactly as its NumPy
ufunc does (NEP 50: a Python float times a float32 array stays float32): the shape rule asks
NumPy itself (``ufunc.resolve_dtypes``). The VJP lambdas, in autograd's style, take
``(g, ans, *inputs)`` and return the cotangent of one input at the output's shape; the
primitive sums it back over broadcast axes (``elementwise_vjp``).

Conventions where the derivative is undefined follow JAX's, but for one: d|x|/dx = 0 at 0
(sign(0), as autograd's and PyTorch's; JAX's is 1). |x| = max(x, -x), and maximum/minimum
split the gradient equally at ties (as JAX's do), which gives 0: so stable forms such as
max(t, 0) + log1p(exp(-|t|)) (softplus, logistic regression's loss) have the right
derivative at t = 0, where JAX's conventions give 0.5 - 0.5 (a logistic regression
started at zero weights would not move). sqrt'(0) = inf; floor, ceil, round, sign and
comparisons have zero gradient.
"""

from __future__ import annotations

import math

import numpy as np

from funcgrad.core.errors import FuncgradTypeError, FuncgradValueError, ShapeError
from funcgrad.core.primitive import Primitive
from funcgrad.core.tracing import Tracer, simplify_rules
from funcgrad.core.types import ShapedArray, check_dtype, float64, promote_types
from funcgrad.rules import batch_rules, jvp_rules, vjp_rules, zero_derivative
from funcgrad.rules.lowering import IDENTITY, Elementwise, arith, call, lowerings

LN2, LN10 = math.log(2.0), math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def broadcast_shapes(*avals: ShapedArray) -> tuple[int, ...]:
    """NumPy broadcasting of the avals' shapes; a ShapeError naming both sides if impossible."""
    ndim = max(len(a.shape) for a in avals)
    out = [1] * ndim
    for a in avals:
        for i, d in enumerate(a.shape, ndim - len(a.shape)):
            if d != 1:
                if out[i] not in (1, d):
                    sides = " with ".join(str(b) for b in avals if b.shape)
                    raise ShapeError(f"cannot broadcast {sides}")
                out[i] = d
    return tuple(out)


_resolved: dict = {}
# NEP 50: Python ints and floats are weak; a Python bool is just np.bool_ (nothing is lower)
_PYTHON_TYPE = {"f": float, "i": int, "u": int, "b": np.dtype(np.bool_)}


def weak_dtypes(avals) -> tuple:
    """Operand dtypes as NumPy's promotion sees them: a weak one as its Python type (NEP 50)."""
    return tuple(_PYTHON_TYPE[a.dtype.kind] if a.weak_type else a.dtype for a in avals)


def _ufunc_dtype(ufunc, avals) -> np.dtype:
    key = (ufunc, *weak_dtypes(avals))
    dtype = _resolved.get(key)
    if dtype is None:
        try:
            dtype = ufunc.resolve_dtypes((*key[1:], None))[-1]
        except TypeError:
            raise FuncgradTypeError(f"numpy.{ufunc.__name__} is not defined for "
                                    f"{', '.join(str(a) for a in avals)}") from None
        dtype = _resolved[key] = check_dtype(dtype, f" (the result of {ufunc.__name__})")
    return dtype


def _ufunc_rule(ufunc, name=None):
    """Broadcasting and NumPy's promotion, for a primitive that computes like ``ufunc``."""
    name = name or ufunc.__name__

    def shape_rule(*avals, **options):
        if options or len(avals) != ufunc.nin:
            raise FuncgradTypeError(_misuse(name, ufunc.nin, len(avals), options))
        dtype = _ufunc_dtype(ufunc, avals)
        # a comparison of Python numbers is a plain bool: booleans are never weak
        return ShapedArray(broadcast_shapes(*avals), dtype,
                           dtype.kind != "b" and all(a.weak_type for a in avals))
    return shape_rule


def _misuse(name, nin, n_args, options) -> str:
    """Why fnp.<name>(...) was called wrongly (these functions are the primitives)."""
    if n_args != nin:
        return f"funcgrad.numpy.{name} takes {nin} array argument{'s' * (nin > 1)}, got {n_args}"
    if "out" in options:
        return (f"funcgrad.numpy.{name} has no out=: funcgrad arrays are never written in "
                "place; use the returned value")
    return f"funcgrad.numpy.{name} does not support {', '.join(f'{k}=' for k in options)}"


def ufunc_primitive(name, ufunc, derivatives=None, lowering=None, simplify=None) -> Primitive:
    """A primitive computed by a NumPy ufunc, registered in every table. ``derivatives`` is a
    list of per-input rules ``lambda g, ans, *inputs: ...`` (see ``elementwise_vjp``), or None
    for a primitive with zero derivative (integer-valued or boolean results)."""
    prim = Primitive(name, impl=ufunc, shape_rule=_ufunc_rule(ufunc), elementwise=True)
    define_elementwise(prim, derivatives, lowering)
    simplify_rules[prim] = _simplifier(prim, simplify)
    return prim


def define_elementwise(prim, derivatives, lowering) -> None:
    """Register an elementwise primitive's rules: VJP and JVP both from the same per-input
    derivative rules (each is linear in ``g``, so the same expression pulls a cotangent back
    and pushes a tangent forward), and its scalar Numba expression."""
    if derivatives is None:
        zero_derivative(prim)
    else:
        vjp_rules[prim] = elementwise_vjp(*derivatives)
        jvp_rules[prim] = elementwise_jvp(prim, *derivatives)
    lowerings[prim] = lowering
    batch_rules[prim] = elementwise_batch(prim)


def elementwise_batch(prim):
    """vmap of an elementwise primitive: batched operands get their batch axis first and unit
    axes after it, so NumPy broadcasting lines up each example's axes as before; unbatched
    ones broadcast over the batch by themselves."""
    def rule(args, dims, **params):
        rank = max(example_rank(x, d) for x, d in zip(args, dims))
        return [prim.bind(*map(rank_aligned, args, dims, [rank] * len(args)), **params)], [0]
    return rule


def elementwise_vjp(*per_input):
    """A vjp rule from one function per input, ``lambda g, ans, *inputs, **params: ...``, as
    autograd writes them (None: that input has no derivative). Results are summed back over
    broadcast axes so each cotangent has its input's shape."""
    def vjp(cts, inputs, outputs, active, **params):
        (g,), (ans,) = cts, outputs
        out = []
        for rule, x, on in zip(per_input, inputs, active):
            ct = rule(g, ans, *inputs, **params) if rule is not None and on else None
            out.append(None if ct is None else unbroadcast(ct, x))  # a rule may say zero: None
        return out
    return vjp


def elementwise_jvp(prim, *per_input):
    """A jvp rule from the same per-input functions as ``elementwise_vjp``: the output's
    tangent is the sum over inputs of rule(tangent, ans, *inputs), broadcast to the output."""
    def jvp(primals, tangents, **params):
        ans = prim.bind(*primals, **params)
        out = None
        for rule, t in zip(per_input, tangents):
            if rule is None or t is None:
                continue
            term = rule(t, ans, *primals, **params)
            if term is not None:
                out = term if out is None else add(out, term)
        if out is not None:
            out = convert_element_type(broadcast_to(out, shape_of(ans)), ans.dtype)
        return [ans], [out]
    return jvp


def _simplifier(prim, rule):
    """``rule`` (x * 1 -> x...), then the broadcasts among the operands, since an elementwise
    primitive broadcasts its operands itself: f(broadcast(a), b) -> broadcast(f(a, b)) when
    all operands are constant scalars, else f(broadcast_to(y), z) -> f(y, z) when y and z
    still give the result its shape.

    Backward passes are full of broadcasts: a sum's VJP broadcasts its cotangent (the seed
    1.0, or dC/dz of a row) over the reduced axes. Without this, grad(lambda x:
    fnp.sum(fnp.sin(x))) would multiply cos(x) by an array of ones, grad(lambda x:
    fnp.sum(x * 2.0)) would compute 2.0 times an array of ones, and a softmax's backward pass
    would materialise each row's sum across the row before using it."""
    def simplify(trace, out_aval, *args):
        out = rule(trace, out_aval, *args) if rule is not None else None
        if out is None:
            out = _skip_broadcasts(prim, trace, out_aval, args)
        return out
    return simplify


def _skip_broadcasts(prim, trace, out_aval, args):
    for x in args:  # the common case, quickly: no operand was made by a broadcast
        eqn = trace.producer(x)
        if eqn is not None and eqn.primitive in _BROADCASTS:
            break
    else:
        return None
    scalars = [constant_scalar(trace, x) for x in args]
    if all(s is not None for s in scalars):
        with np.errstate(all="ignore"):  # as the array operation would, silently
            value = prim.impl(*scalars)
        value = value.item() if out_aval.weak_type else out_aval.dtype.type(value)
        return broadcast_to(value, out_aval.shape)
    sources = [_strong_like(x, s if s is not None and isinstance(x, Tracer)
                            else broadcast_source(trace, x)) for x, s in zip(args, scalars)]
    if all(s is None for s in sources):
        return None
    operands = [x if s is None else s for x, s in zip(args, sources)]
    if np.broadcast_shapes(*(np.shape(x) for x in operands)) != out_aval.shape:
        return None
    return prim.bind(*operands)


def _strong_like(x, source):
    """``source`` in place of the broadcast ``x`` if that keeps the dtype promotion: a weak
    source (a Python number) would promote differently from the array broadcast from it."""
    if source is None or type(source) in (int, float, bool) \
            or getattr(x, "dtype", None) != getattr(source, "dtype", None) \
            or getattr(getattr(source, "aval", None), "weak_type", False):
        return None
    return source


def _maximum_share(x, y):
    """How much of max(x, y)'s gradient goes to x: 1 where x wins, 1/2 at ties (JAX's rule)."""
    return where(x > y, 1.0, where(x == y, 0.5, 0.0))


def _simplify_mul(trace, out_aval, x, y):
    return _identity_operand(trace, out_aval, x, y, 1)


def _simplify_add(trace, out_aval, x, y):
    return _identity_operand(trace, out_aval, x, y, 0)


def _identity_operand(trace, out_aval, x, y, unit):
    """x * 1 -> x and x + 0 -> x (1 and 0 may be broadcast, as the seeds of backward passes
    are), when that changes neither shape nor dtype, nor a value: for floats only -0.0 adds
    exactly (-0.0 + 0 is +0.0, and arctan2 tells them apart)."""
    for constant, other in ((x, y), (y, x)):
        value = constant_scalar(trace, constant)
        if value is not None and value == unit \
                and getattr(other, "shape", None) == out_aval.shape \
                and getattr(other, "dtype", None) == out_aval.dtype \
                and not (unit == 0 and out_aval.dtype.kind == "f" and not np.signbit(value)):
            return other
    return None


# --- unary ------------------------------------------------------------------------------
# name                      ufunc        vjp (g, ans, x)                          Numba
neg_p = ufunc_primitive("neg", np.negative, [lambda g, ans, x: -g], arith("-{0}"))
abs_p = ufunc_primitive("abs", np.absolute, [lambda g, ans, x: g * sign(x)], arith("abs({0})"))
# NumPy's sign: Numba's np.sign takes large unsigned integers for negative ones (uint8 200
# -> 255) and keeps -0.0's sign bit, where np.sign(-0.0) is 0.0. A nan passes through.
sign_p = ufunc_primitive("sign", np.sign, None,
                         call("(({0} > 0) - ({0} < 0) if {0} == {0} else {0})"))
exp_p = ufunc_primitive("exp", np.exp, [lambda g, ans, x: g * ans], call("np.exp({0})"))
# (not Numba's np.exp2 and np.log2: one program with both float32 and float64 ones failed to
# compile, Numba declaring the LLVM intrinsic for the first dtype only; float32 is computed
# in float64 and rounded once)
exp2_p = ufunc_primitive("exp2", np.exp2, [lambda g, ans, x: g * ans * LN2],
                         call("math.pow(2.0, {0})"))
expm1_p = ufunc_primitive("expm1", np.expm1, [lambda g, ans, x: g * (ans + 1)],
                          call("np.expm1({0})"))
log_p = ufunc_primitive("log", np.log, [lambda g, ans, x: g / x], call("np.log({0})"))
log1p_p = ufunc_primitive("log1p", np.log1p, [lambda g, ans, x: g / (x + 1)], call("np.log1p({0})"))
log2_p = ufunc_primitive("log2", np.log2, [lambda g, ans, x: g / (x * LN2)],
                         call("math.log2({0})"))  # (not np.log2: see exp2)
log10_p = ufunc_primitive("log10", np.log10, [lambda g, ans, x: g / (x * LN10)],
                          call("np.log10({0})"))
sqrt_p = ufunc_primitive("sqrt", np.sqrt, [lambda g, ans, x: g / (ans * 2)], call("np.sqrt({0})"))
cbrt_p = ufunc_primitive("cbrt", np.cbrt, [lambda g, ans, x: g / (ans * ans * 3)],
                         call("np.cbrt({0})"))
sin_p = ufunc_primitive("sin", np.sin, [lambda g, ans, x: g * cos(x)], call("np.sin({0})"))
cos_p = ufunc_primitive("cos", np.cos, [lambda g, ans, x: -g * sin(x)], call("np.cos({0})"))
tan_p = ufunc_primitive("tan", np.tan, [lambda g, ans, x: g * (ans * ans + 1)], call("np.tan({0})"))
arcsin_p = ufunc_primitive("arcsin", np.arcsin, [lambda g, ans, x: g / sqrt(1 - x * x)],
                           call("np.arcsin({0})"))
arccos_p = ufunc_primitive("arccos", np.arccos, [lambda g, ans, x: -g / sqrt(1 - x * x)],
                           call("np.arccos({0})"))
arctan_p = ufunc_primitive("arctan", np.arctan, [lambda g, ans, x: g / (x * x + 1)],
                           call("np.arctan({0})"))
sinh_p = ufunc_primitive("sinh", np.sinh, [lambda g, ans, x: g * cosh(x)], call("np.sinh({0})"))
cosh_p = ufunc_primitive("cosh", np.cosh, [lambda g, ans, x: g * sinh(x)], call("np.cosh({0})"))
tanh_p = ufunc_primitive("tanh", np.tanh, [lambda g, ans, x: g * (1 - ans * ans)],
                         call("np.tanh({0})"))
arcsinh_p = ufunc_primitive("arcsinh", np.arcsinh, [lambda g, ans, x: g / sqrt(x * x + 1)],
                            call("np.arcsinh({0})"))
arccosh_p = ufunc_primitive("arccosh", np.arccosh, [lambda g, ans, x: g / sqrt(x * x - 1)],
                            call("np.arccosh({0})"))
arctanh_p = ufunc_primitive("arctanh", np.arctanh, [lambda g, ans, x: g / (1 - x * x)],
                            call("np.arctanh({0})"))
floor_p = ufunc_primitive("floor", np.floor, None, call("np.floor({0})"))
ceil_p = ufunc_primitive("ceil", np.ceil, None, call("np.ceil({0})"))
rint_p = ufunc_primitive("rint", np.rint, None, call("np.rint({0})"))
isfinite_p = ufunc_primitive("isfinite", np.isfinite, None, call("np.isfinite({0})"))
isnan_p = ufunc_primitive("isnan", np.isnan, None, call("np.isnan({0})"))
isinf_p = ufunc_primitive("isinf", np.isinf, None, call("np.isinf({0})"))
logical_not_p = ufunc_primitive("logical_not", np.logical_not, None, arith("not {0}"))
invert_p = ufunc_primitive("invert", np.invert, None, arith("~{0}"))

# --- binary -----------------------------------------------------------------------------
# name                      ufunc        vjp (g, ans, x, y) for x, then for y      Numba
add_p = ufunc_primitive("add", np.add, [lambda g, ans, x, y: g, lambda g, ans, x, y: g],
                        arith("{0} + {1}"), simplify=_simplify_add)
sub_p = ufunc_primitive("sub", np.subtract,
                        [lambda g, ans, x, y: g, lambda g, ans, x, y: -g], arith("{0} - {1}"))
mul_p = ufunc_primitive("mul", np.multiply,
                        [lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x],
                        arith("{0} * {1}"), simplify=_simplify_mul)
div_p = ufunc_primitive("div", np.true_divide,
                        [lambda g, ans, x, y: g / y, lambda g, ans, x, y: -g * ans / y],
                        arith("{0} / {1}"), simplify=lambda trace, out_aval, x, y:
                        _out_of_range_as(div_p, float, x, y))
floor_divide_p = ufunc_primitive("floor_divide", np.floor_divide, None,
                                call("fgm.floor_divide({0}, {1})"))  # as NumPy: MIN // -1
mod_p = ufunc_primitive("mod", np.remainder,
                        [lambda g, ans, x, y: g,
                         lambda g, ans, x, y: -g * floor_divide(x, y)], arith("{0} % {1}"))
def _pow_vjp_base(g, ans, x, y):
    """y * x ** (y - 1), with 0 (not 0 * inf) at x = y = 0. Only that point gets a stand-in
    base, so the rule stays exact, and differentiable in y, everywhere else."""
    at_origin = logical_and(x == 0, y == 0)
    return g * y * power(where(at_origin, 1.0, x), y - 1)


def _pow_vjp_exponent(g, ans, x, y):
    """x ** y * log(x), with its limit 0 at x = 0 (the inner where keeps log(0) out of it)."""
    return g * where(x == 0, 0.0, ans * log(where(x == 0, 1.0, x)))


pow_p = ufunc_primitive("pow", np.power, [_pow_vjp_base, _pow_vjp_exponent],
                        call("fgm.power({0}, {1})"))  # integers: raises on y < 0, as NumPy
max_p = ufunc_primitive("max", np.maximum,
                        [lambda g, ans, x, y: g * _maximum_share(x, y),
                         lambda g, ans, x, y: g * _maximum_share(y, x)],
                        call("np.maximum({0}, {1})"))
min_p = ufunc_primitive("min", np.minimum,
                        [lambda g, ans, x, y: g * _maximum_share(y, x),
                         lambda g, ans, x, y: g * _maximum_share(x, y)],
                        call("np.minimum({0}, {1})"))
arctan2_p = ufunc_primitive("arctan2", np.arctan2,
                            [lambda g, ans, x, y: g * y / (x * x + y * y),
                             lambda g, ans, x, y: -g * x / (x * x + y * y)],
                            call("np.arctan2({0}, {1})"))


def _hypot_vjp(g, ans, x, y):
    """x / hypot(x, y), with 0 (not 0 / 0) at the origin: 0-safe, as the 2-norm is."""
    return g * x / where(ans == 0, 1.0, ans)


hypot_p = ufunc_primitive("hypot", np.hypot,
                          [_hypot_vjp, lambda g, ans, x, y: _hypot_vjp(g, ans, y, x)],
                          call("np.hypot({0}, {1})"))
logaddexp_p = ufunc_primitive("logaddexp", np.logaddexp,
                              [lambda g, ans, x, y: g * exp(x - ans),
                               lambda g, ans, x, y: g * exp(y - ans)],
                              call("np.logaddexp({0}, {1})"))


def _comparison(name, ufunc, expr) -> Primitive:
    prim = ufunc_primitive(name, ufunc, None, arith(expr),
                           simplify=lambda trace, out_aval, x, y: _exact_comparison(prim, x, y))
    return prim


def _exact_comparison(prim, x, y):
    """NumPy compares an integer array with a Python int its dtype cannot hold (``x_uint8 <
    300`` is all True, ``x_uint8 == -1`` all False); compiled, the int would wrap around
    (issue 14). Such a comparison is made in float64: exact for the integer dtypes up to 32
    bits, and the wider ones hold every Python int funcgrad takes but the negative ones a
    uint64 is compared with, which float64 orders rightly too."""
    if not (_int_out_of_range(x, y) or _int_out_of_range(y, x)):
        return None
    return prim.bind(*[convert_element_type(v, float64) if isinstance(v, Tracer) else float(v)
                       for v in (x, y)])


def _int_out_of_range(number, array) -> bool:
    if type(number) is not int or not isinstance(array, Tracer) or array.dtype.kind not in "iu":
        return False
    info = np.iinfo(array.dtype)
    return not info.min <= number <= info.max


eq_p = _comparison("eq", np.equal, "{0} == {1}")
ne_p = _comparison("ne", np.not_equal, "{0} != {1}")
lt_p = _comparison("lt", np.less, "{0} < {1}")
le_p = _comparison("le", np.less_equal, "{0} <= {1}")
gt_p = _comparison("gt", np.greater, "{0} > {1}")
ge_p = _comparison("ge", np.greater_equal, "{0} >= {1}")


def _logical(name, ufunc, expr) -> Primitive:
    prim = ufunc_primitive(name, ufunc, None, arith(expr), simplify=lambda trace, out_aval, x, y:
                           _out_of_range_as(prim, bool, x, y))
    return prim


def _out_of_range_as(prim, convert, x, y):
    """``x / -2`` and ``logical_and(x, 300)`` of a uint8 ``x``: NumPy takes a Python int its
    dtype cannot hold where the operation does not compute in that dtype, but compiled code
    would cast it to the dtype (wrapping around) and tracing refuses it. It becomes the
    float or bool the operation takes it as."""
    if not (_int_out_of_range(x, y) or _int_out_of_range(y, x)):
        return None
    return prim.bind(*[convert(v) if type(v) is int else v for v in (x, y)])


logical_and_p = _logical("logical_and", np.logical_and, "{0} and {1}")
logical_or_p = _logical("logical_or", np.logical_or, "{0} or {1}")
logical_xor_p = _logical("logical_xor", np.logical_xor, "bool({0}) != bool({1})")
bitwise_and_p = ufunc_primitive("bitwise_and", np.bitwise_and, None, arith("{0} & {1}"))
bitwise_or_p = ufunc_primitive("bitwise_or", np.bitwise_or, None, arith("{0} | {1}"))
bitwise_xor_p = ufunc_primitive("bitwise_xor", np.bitwise_xor, None, arith("{0} ^ {1}"))

# --- more of NumPy's ufuncs (issue 12) -------------------------------------------------
fabs_p = ufunc_primitive("fabs", np.fabs, [lambda g, ans, x: g * sign(x)], call("np.fabs({0})"))
trunc_p = ufunc_primitive("trunc", np.trunc, None, call("np.trunc({0})"))
signbit_p = ufunc_primitive("signbit", np.signbit, None, call("np.signbit({0})"))
logaddexp2_p = ufunc_primitive("logaddexp2", np.logaddexp2,
                               [lambda g, ans, x, y: g * exp2(x - ans),
                                lambda g, ans, x, y: g * exp2(y - ans)],
                               call("np.logaddexp2({0}, {1})"))
# copysign(x, y) = |x| times y's sign (its sign bit: -0.0 counts as negative); d/dx is
# sign(x) times that (0 at x = 0, as |x|'s), and it is piecewise constant in y
copysign_p = ufunc_primitive("copysign", np.copysign,
                             [lambda g, ans, x, y: g * sign(x) * copysign(1.0, y), None],
                             call("np.copysign({0}, {1})"))
# heaviside(x, h0) = 0, h0 or 1 as x < 0, x == 0, x > 0 (NaN for NaN): h0 counts where x == 0
heaviside_p = ufunc_primitive("heaviside", np.heaviside,
                              [None, lambda g, ans, x, h0: where(x == 0, g, 0.0)],
                              arith("(0.0 if {0} < 0 else ({1} if {0} == 0 else "
                                    "(1.0 if {0} > 0 else {0})))"))

# --- NumPy's ufuncs of floating-point representation and integer arithmetic -------------
# fmod of floats is C's (exact; Numba's np.fmod of integers is wrong for negative operands,
# so funcgrad.numpy composes integer fmod from remainder). d/dy = -trunc(x / y).
fmod_p = ufunc_primitive("fmod", np.fmod, [lambda g, ans, x, y: g,
                                           lambda g, ans, x, y: -g * trunc(x / y)],
                         call("np.fmod({0}, {1})"))
# ldexp(x, i) = x * 2 ** i exactly, without over- or underflowing on the way. The code
# generator hands a float result's integer operands over as floats (NumPy computes in the
# result's dtype); the exponent goes back to an integer, clamped where its float is not
# exact (any exponent past 100000 gives 0 or inf alike)
ldexp_p = ufunc_primitive("ldexp", np.ldexp, [lambda g, ans, x, i: ldexp(g, i), None],
                          call("np.ldexp({0}, np.int64(max(-1e5, min(1e5, {1}))))"))
# the next float after x towards y, and the distance to the next one away from zero: steps
nextafter_p = ufunc_primitive("nextafter", np.nextafter, None, call("np.nextafter({0}, {1})"))
spacing_p = ufunc_primitive("spacing", np.spacing, None, call("fgm.spacing({0})"))
gcd_p = ufunc_primitive("gcd", np.gcd, None, call("np.gcd({0}, {1})"))
lcm_p = ufunc_primitive("lcm", np.lcm, None, call("np.lcm({0}, {1})"))
# bit shifts as NumPy's (and XLA's): a count < 0 or >= the width shifts every bit out, where
# Numba's << and >> (LLVM's) are undefined; funcgrad.lax's shifts are made of these too
left_shift_p = ufunc_primitive("left_shift", np.left_shift, None,
                               call("fgm.left_shift({0}, {1})"))
right_shift_p = ufunc_primitive("right_shift", np.right_shift, None,
                                call("fgm.right_shift({0}, {1})"))


# --- elementwise primitives that are not a single NumPy ufunc ---------------------------

def _select_rule(cond, x, y):
    if cond.dtype != np.bool_:
        raise FuncgradTypeError(f"where's condition must be boolean, got {cond}")
    dtype, _ = promote_types(x, y)  # NEP 50, as np.where promotes a Python scalar; but
    return ShapedArray(broadcast_shapes(cond, x, y), check_dtype(dtype))  # gives an array


select_p = Primitive("select", impl=np.where, shape_rule=_select_rule, elementwise=True)
define_elementwise(select_p, [None, lambda g, ans, c, x, y: where(c, g, 0.0),
                              lambda g, ans, c, x, y: where(c, 0.0, g)],
                   arith("fgm.where({0}, {1}, {2})"))  # (a select: no branch to compile)


def _logistic_impl(x):
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


logistic_p = Primitive("logistic", impl=_logistic_impl,
                       shape_rule=_ufunc_rule(np.exp, "logistic"), elementwise=True)
define_elementwise(logistic_p, [lambda g, ans, x: g * ans * (1 - ans)],
                   call("1 / (1 + np.exp(-{0}))"))


def _erf_impl(x):
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else float64
    return np.vectorize(math.erf, otypes=[dtype])(x)[()]


erf_p = Primitive("erf", impl=_erf_impl, shape_rule=_ufunc_rule(np.exp, "erf"),
                  elementwise=True)
define_elementwise(erf_p, [lambda g, ans, x: g * TWO_OVER_SQRT_PI * exp(-x * x)],
                   call("math.erf({0})"))


_WEAK_INT = ShapedArray((), np.dtype("int64"), True)  # n, as NumPy's promotion sees it


def _integer_pow_lowering(operands, index, *, n):
    (x,) = operands
    if n == 0:
        return "1"
    if n < 0:
        return f"1 / ({_integer_pow_lowering(operands, index, n=-n)})"
    return " * ".join([f"({x})"] * n) if n <= 4 else f"({x}) ** {n}"


def _integer_pow_vjp(g, ans, x, *, n):
    if n == 0:
        return None  # x ** 0 is constant (and n * x ** -1 would be 0 * inf at x = 0)
    return g * n * integer_pow(x, n - 1) if n != 1 else g


def _integer_pow_rule(x, *, n):
    dtype = _ufunc_dtype(np.power, [x, _WEAK_INT])
    if n < 0 and dtype.kind in "iu":  # NumPy raises; compiled code would give 0 or 1
        raise FuncgradValueError(f"integers to negative integer powers are not allowed: {x} "
                                 f"to the power {n}; convert it first (x.astype(float))")
    return x.update(dtype=dtype)


integer_pow_p = Primitive("integer_pow", impl=lambda x, *, n: np.power(x, n),
                          shape_rule=_integer_pow_rule, elementwise=True)
define_elementwise(integer_pow_p, [_integer_pow_vjp],
                   Elementwise(_integer_pow_lowering, cheap=lambda *, n: abs(n) <= 4))


def _convert_rule(x, *, dtype, weak_type=False):
    return ShapedArray(x.shape, check_dtype(dtype), weak_type)


def _convert_vjp(cts, inputs, outputs, active, *, dtype, weak_type=False):
    (g,), (x,) = cts, inputs
    if not active[0] or dtype.kind != "f":
        return [None]
    return [convert_element_type(g, x.dtype)]


def _convert_jvp(primals, tangents, *, dtype, weak_type=False):
    (x,), (t,) = primals, tangents
    out = convert_element_type_p.bind(x, dtype=dtype, weak_type=weak_type)
    if t is None or dtype.kind != "f":
        return [out], [None]
    return [out], [convert_element_type(t, dtype)]


convert_element_type_p = Primitive(
    "convert_element_type", impl=lambda x, *, dtype, weak_type=False: np.asarray(x, dtype)[()],
    shape_rule=_convert_rule, elementwise=True, allocates=False)
vjp_rules[convert_element_type_p] = _convert_vjp
jvp_rules[convert_element_type_p] = _convert_jvp
# the generated code casts every result to its dtype
lowerings[convert_element_type_p] = arith("{0}")
batch_rules[convert_element_type_p] = elementwise_batch(convert_element_type_p)

stop_gradient_p = Primitive("stop_gradient", impl=lambda x: x, shape_rule=lambda x: x,
                            elementwise=True, allocates=False)
zero_derivative(stop_gradient_p)
lowerings[stop_gradient_p] = IDENTITY
batch_rules[stop_gradient_p] = elementwise_batch(stop_gradient_p)


# --- the functions: each primitive as a function of arrays ------------------------------

def convert_element_type(x, dtype, weak_type=False):
    dtype = np.dtype(dtype)
    aval = getattr(x, "aval", None)  # a tracer's: its weakness matters too
    # `is not None` first: NumPy reads None as float64, so a Python number would pass
    x_dtype = getattr(x, "dtype", None)
    if x_dtype is not None and x_dtype == dtype and (aval is None or aval.weak_type == weak_type):
        return x
    return convert_element_type_p.bind(x, dtype=dtype, weak_type=weak_type)


def integer_pow(x, n: int):
    if n == 1 and getattr(x, "dtype", None) is not None and x.dtype.kind == "f":
        return x  # x ** 1 (as the VJP of x ** 2 asks): no equation
    return integer_pow_p.bind(x, n=int(n))


negative, absolute, sign, exp, exp2, expm1 = neg_p, abs_p, sign_p, exp_p, exp2_p, expm1_p
log, log1p, log2, log10, sqrt, cbrt = log_p, log1p_p, log2_p, log10_p, sqrt_p, cbrt_p
sin, cos, tan, arcsin, arccos, arctan = sin_p, cos_p, tan_p, arcsin_p, arccos_p, arctan_p
sinh, cosh, tanh, arcsinh, arccosh, arctanh = (sinh_p, cosh_p, tanh_p, arcsinh_p, arccosh_p,
                                               arctanh_p)
floor, ceil, rint, isfinite, isnan, isinf = floor_p, ceil_p, rint_p, isfinite_p, isnan_p, isinf_p
logical_not, invert = logical_not_p, invert_p
add, subtract, multiply, true_divide, floor_divide, mod = (add_p, sub_p, mul_p, div_p,
                                                           floor_divide_p, mod_p)
maximum, minimum, arctan2, hypot, logaddexp = max_p, min_p, arctan2_p, hypot_p, logaddexp_p
equal, not_equal, less, less_equal, greater, greater_equal = eq_p, ne_p, lt_p, le_p, gt_p, ge_p
logical_and, logical_or, logical_xor = logical_and_p, logical_or_p, logical_xor_p
bitwise_and, bitwise_or, bitwise_xor = bitwise_and_p, bitwise_or_p, bitwise_xor_p
logistic, erf, stop_gradient = logistic_p, erf_p, stop_gradient_p
fabs, trunc, signbit, logaddexp2, copysign, heaviside = (fabs_p, trunc_p, signbit_p,
                                                      logaddexp2_p, copysign_p, heaviside_p)
fmod, ldexp, nextafter, spacing, gcd, lcm = fmod_p, ldexp_p, nextafter_p, spacing_p, gcd_p, lcm_p
left_shift, right_shift = left_shift_p, right_shift_p


def where(condition, x, y):
    return select_p.bind(condition, x, y)


def power(x, y):
    """``x ** y``, elementwise (like numpy.power). With a Python int exponent on floats it is
    the exact ``integer_pow`` primitive (``x * x`` when compiled).

    Example:
        >>> fnp.power(np.array([2.0, 3.0]), 2)
        array([4., 9.])
    """
    # x ** 2 with a Python int exponent is integer_pow: exact, and x * x when compiled
    if type(y) is int and getattr(x, "dtype", np.dtype(float)).kind == "f":
        return integer_pow(x, y)
    # NumPy computes a float ** a scalar 0.5 as sqrt: -0.0 and nan at -0.0 and -inf, where
    # pow (compiled code's) gives 0.0 and inf
    if type(y) is float and y == 0.5 and isinstance(x, Tracer) and x.dtype.kind == "f":
        return sqrt(x)
    _check_integer_exponent(x, y)
    return pow_p.bind(x, y)


def _check_integer_exponent(x, y):
    """NumPy refuses integers to negative integer powers; compiled code would return 0 or 1,
    so a known negative exponent is refused here, traced or not. Integers whose power is
    float (uint64 and int64 promote to float64) are not refused."""
    dtypes = [v.dtype if hasattr(v, "dtype") else v if type(v) in (bool, int, float)
              else np.asarray(v).dtype for v in (x, y)]  # a Python number is weak, as in NumPy
    if np.result_type(*dtypes).kind not in "biu" or isinstance(y, Tracer) \
            or not np.any(np.asarray(y) < 0):
        return
    raise FuncgradValueError(f"integers to negative integer powers are not allowed (exponent "
                             f"{np.min(y)}); convert the base first (x.astype(float))")


from funcgrad.ops.shape import (broadcast_source, broadcast_to, broadcast_to_p,  # noqa: E402
                                constant_scalar, example_rank, rank_aligned, reshape_p,
                                shape_of, unbroadcast)

_BROADCASTS = (broadcast_to_p, reshape_p)  # what constant_scalar and broadcast_source follow
