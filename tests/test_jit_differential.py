"""Differential tests: compiled code (jit), the NumPy evaluator (make_ir, the first tier of
jit) and eager funcgrad.numpy give NumPy's values and dtypes on unusual inputs: special
floats (-0.0, nan, inf, subnormals), the edges of integer dtypes, empty and non-contiguous
arrays. Each test compiles one function for many cases (a compile costs about a second)."""

import warnings

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp


def _equal(got, want, what):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (what, got, want)
    assert np.array_equal(got, want, equal_nan=want.dtype.kind == "f"), (what, got, want)
    if want.dtype.kind == "f":  # -0.0 and 0.0 too
        assert np.array_equal(np.signbit(got), np.signbit(want)), (what, got, want)


def _all_ways(f, *args):
    """f's results eagerly, by the NumPy evaluator and compiled."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return {"eager": f(*args), "evaluator": fg.make_ir(f)(*args)(*args),
                "compiled": fg.jit(f, compile="sync")(*args)}


def _signs(u8, u64, i8, f32, f64):
    return tuple(fnp.sign(x) for x in (u8, u64, i8, f32, f64))


def test_sign_of_large_unsigned_integers_and_of_minus_zero_is_numpys():
    """Compiled sign took uint8 200 for a negative number (255) and kept -0.0's sign bit,
    where NumPy's sign(-0.0) is 0.0."""
    special = [0.0, -0.0, 2.5, -2.5, np.nan, np.inf, -np.inf, 5e-324, -5e-324]
    args = (np.array([0, 1, 127, 128, 200, 255], np.uint8),
            np.array([0, 1, 2**63, 2**64 - 1], np.uint64),
            np.array([0, 1, -1, 127, -128], np.int8),
            np.array(special, np.float32), np.array(special))
    want = tuple(np.sign(x) for x in args)
    for way, got in _all_ways(_signs, *args).items():
        for g, w in zip(got, want):
            _equal(g, w, way)


def _powers(u8, u64, i8, i64, exponents):
    return u8 ** u8[::-1], u64 ** u64[::-1], i8 ** fnp.abs(i8[::-1]), i64 ** exponents


def test_integer_powers_with_large_exponents_wrap_around_as_numpys():
    """Numba computes an integer ** an exponent above 2**16 in floating point: 7 ** 2**62
    was -2**63 (NumPy: 1, the product wrapping around), and an unsigned exponent of 2**63
    or more was taken for a negative one."""
    args = (np.array([7, 3, 255, 0, 2], np.uint8),
            np.array([7, 3, 5, 2**64 - 1, 2**63 + 1], np.uint64),
            np.array([3, -3, 0, 1, -1, 2], np.int8),
            np.array([7, -3, 3, 2**40 + 1, 0, -1, 0]),
            np.array([2**62, 2**16 + 1, 3, 5, 0, 2**63 - 1, 2**40]))
    with np.errstate(all="ignore"):
        want = (args[0] ** args[0][::-1], args[1] ** args[1][::-1],
                args[2] ** np.abs(args[2][::-1]), args[3] ** args[4])
    for way, got in _all_ways(_powers, *args).items():
        for g, w in zip(got, want):
            _equal(g, w, way)


def _einsums(einsum, a, b):
    return (einsum("ij->", a), einsum("ii", a), einsum("ij->j", a), einsum("ij,k->i", a, b[0]),
            einsum("ij,jk->ik", a, b), einsum("ij,ij->i", a, b))


def test_einsum_of_small_integers_keeps_their_dtype_as_numpys():
    """An einsum that sums alone ('ij->', 'ii') gave int64 for int8 operands, as fnp.sum
    does; NumPy's and JAX's einsum keep the operands' dtype, wrapping around."""
    for dtype in (np.int8, np.uint8):
        a, b = np.full((3, 3), 100, dtype), np.arange(1, 10, dtype=dtype).reshape(3, 3)
        with np.errstate(all="ignore"):
            want = _einsums(np.einsum, a, b)
        for way, got in _all_ways(lambda a, b: _einsums(fnp.einsum, a, b), a, b).items():
            for g, w in zip(got, want):
                _equal(g, w, way)


def _square_roots(x64, x32):
    return x64 ** 0.5, fnp.power(x32, 0.5), fnp.sqrt(x64) ** 0.5


def test_to_the_power_one_half_is_numpys_square_root():
    """NumPy computes x ** 0.5 (a scalar exponent) as sqrt(x): -0.0 for -0.0 and nan for
    -inf. The NumPy evaluator (jit's first calls) gave those; compiled code called pow,
    which gives 0.0 and inf."""
    x = np.array([-0.0, -np.inf, np.inf, 0.0, 4.0, -4.0, np.nan, 2.0, 5e-324])
    with np.errstate(invalid="ignore"):
        want = _square_roots(x, x.astype(np.float32))
    for way, got in _all_ways(_square_roots, x, x.astype(np.float32)).items():
        for g, w in zip(got, want):
            _equal(g, w, way)


def _means(big, small, weights):
    return (fnp.mean(big), fnp.mean(big, axis=0), fnp.var(big), fnp.std(big), fnp.nanmean(big),
            fnp.average(big), fnp.average(big, weights=weights), fnp.mean(small),
            fnp.var(small), fnp.average(small, weights=weights))


def test_means_of_integers_are_computed_in_float64_as_numpys():
    """NumPy's mean (var, std, average) of integers sums in float64: the mean of three int64
    2**62 is 4.6e18. It was summed in int64, which wrapped around to a negative mean."""
    big = np.array([2**62, 2**62, 2**62 + 8])
    small = np.array([200, 255, 100], np.uint8)
    weights = np.array([1, 2**61, 3])
    with np.errstate(all="ignore"):
        want = (np.mean(big), np.mean(big, axis=0), np.var(big), np.std(big), np.nanmean(big),
                np.average(big), np.average(big, weights=weights), np.mean(small),
                np.var(small), np.average(small, weights=weights))
    for way, got in _all_ways(_means, big, small, weights).items():
        for g, w in zip(got, want):
            assert np.asarray(g).dtype == np.asarray(w).dtype, (way, g, w)
            np.testing.assert_allclose(g, w, rtol=1e-12, err_msg=way)


def _preferred_einsums(a, b, x):
    return (fnp.einsum("ij,ij->", a, b, preferred_element_type=np.int32),
            fnp.einsum("ij->j", a, preferred_element_type=np.int16),
            fnp.einsum("i,i->", x > 0, x > 0, preferred_element_type=np.int32),
            fnp.einsum("i,i->", x, x, preferred_element_type=np.float32))


def test_einsum_preferred_element_type_accumulates_in_it_as_jaxs():
    """JAX's einsum(..., preferred_element_type=) gives that dtype, the int8 products summed
    in int32 without wrapping around (as NumPy's einsum of int32 operands), booleans counted."""
    a, b = np.full((3, 3), 100, np.int8), np.arange(1, 10, dtype=np.int8).reshape(3, 3)
    x = np.array([0.5, -1.0, 2.0])
    want = (np.einsum("ij,ij->", a.astype(np.int32), b.astype(np.int32)),
            a.astype(np.int16).sum(0, dtype=np.int16), np.int32(2), np.float32(x @ x))
    for way, got in _all_ways(_preferred_einsums, a, b, x).items():
        for g, w in zip(got, want):
            _equal(g, w, way)


def test_einsum_preferred_element_type_differentiates_and_refuses_out():
    from funcgrad.testing import check_grads
    x, y = np.array([[0.5, -1.0], [2.0, 0.3]]), np.array([1.5, -0.7])
    f = lambda x, y: fnp.einsum("ij,j->i", x, y, preferred_element_type=np.float64)  # noqa: E731
    check_grads(f, (x, y), modes=("rev", "fwd"))
    np.testing.assert_allclose(fg.vmap(f, (0, None))(np.stack([x, 2 * x]), y),
                               [x @ y, 2 * x @ y])
    with np.testing.assert_raises_regex(fg.FuncgradTypeError, "einsum does not support out="):
        fnp.einsum("i->", x[0], out=np.zeros(()))


def test_einsum_path_is_numpys_for_arrays_sublists_and_traced_operands():
    a, b, c = np.ones((2, 3)), np.ones((3, 4)), np.ones((4, 5))
    assert fnp.einsum_path("ij,jk,kl->il", a, b, c) == np.einsum_path("ij,jk,kl->il", a, b, c)
    sub = (a, [0, 1], b, [1, 2], c, [2, 3], [0, 3])
    assert fnp.einsum_path(*sub, optimize="optimal")[0] == np.einsum_path(
        *sub, optimize="optimal")[0]
    seen = []
    fg.make_ir(lambda x: seen.append(fnp.einsum_path("ij,jk,kl->il", x, b, c)[0]) or x)(a)
    assert seen == [["einsum_path", (1, 2), (0, 1)]]
