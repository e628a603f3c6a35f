"""The intrinsics generated code calls instead of Numba's overloads (compile/allocation.py,
compile/blas.py, compile/tables.py): the same arrays and products as np.empty, np.full and
np.dot, and the runtime tables' items."""

import numba
import numpy as np
import pytest
from numba.core.errors import NumbaPerformanceWarning

from funcgrad.compile import scalar_math as fgm
from funcgrad.compile import tables as fgt


@numba.njit
def _dot(a, b):
    return fgm.dot(a, b)


@numba.njit
def _arrays(n, m, value):
    e = fgm.empty((n, m), np.float32)
    f = fgm.full((n, m), value, np.float64)
    b = fgm.full((n,), value, np.bool_)
    return e, f, b


def _layouts(a):
    """``a`` C-contiguous, F-contiguous and neither (a strided view)."""
    wide = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    wide[..., ::2] = a
    return [np.ascontiguousarray(a), np.asfortranarray(a), wide[..., ::2]]


@pytest.mark.filterwarnings("error", category=NumbaPerformanceWarning)  # (strided: copied)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((1, 4), (4, 5)), ((3, 4), (4, 1)),
                                    ((1, 4), (4, 1)), ((3, 0), (0, 2)), ((0, 4), (4, 2)),
                                    ((3, 4), (4,)), ((4,), (4, 5)), ((4,), (4,)),
                                    ((0,), (0, 3))])
def test_dot_is_nps_for_every_layout(shapes, dtype):
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal(s).astype(dtype) for s in shapes)
    want = np.dot(a, b)
    for x in _layouts(a) if a.ndim == 2 else [a]:
        for y in _layouts(b) if b.ndim == 2 else [b]:
            got = _dot(x, y)
            assert np.shape(got) == want.shape  # (Numba returns a 0-d result as a float)
            assert want.ndim == 0 or got.dtype == want.dtype
            tol = 1e-5 if dtype == np.float32 else 1e-12  # (sums of O(1) terms)
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_dot_of_transposes_as_generated_code_writes_them():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((5, 3)), rng.standard_normal((5, 4))
    np.testing.assert_allclose(numba.njit(lambda a, b: fgm.dot(a.T, b))(a, b), a.T @ b)
    np.testing.assert_allclose(numba.njit(lambda a, b: fgm.dot(b.T, a))(a, b), b.T @ a)


def test_empty_and_full_make_c_contiguous_arrays_of_the_dtype():
    e, f, b = _arrays(3, 2, 1.5)
    assert e.dtype == np.float32 and e.shape == (3, 2) and e.flags.c_contiguous
    np.testing.assert_array_equal(f, np.full((3, 2), 1.5))
    np.testing.assert_array_equal(b, np.ones(3, bool))
    e, f, b = _arrays(0, 2, 0.0)
    assert f.shape == (0, 2) and b.shape == (0,)
    assert e.strides == (8, 4)  # (as Numba's np.empty makes them; NumPy's would be 0)
    assert _arrays(4, 3, 0.0)[1].strides == (24, 8)


def test_an_array_too_large_to_address_is_a_value_error():
    with pytest.raises(ValueError, match="array is too big"):
        _arrays(2**40, 2**30, 0.0)


@numba.njit
def _unpacked(ints, floats):
    n0, n1, n2, = fgt.items(ints, 0, 3)
    c0, = fgt.items(floats, 1, 2)
    return n0, n1, n2, c0


def test_items_reads_a_tables_items_as_a_tuple():
    assert _unpacked(np.array([7, -2, 2**40]), np.array([0.5, -1.25])) == (7, -2, 2**40, -1.25)
    strided = np.arange(6)[::2]  # (a strided table is read at its stride)
    assert _unpacked(strided, np.array([0.0, 3.0]))[:3] == (0, 2, 4)


@numba.njit
def _unpacked_floats(table):
    c0, c1, = fgt.floats(table, 1, 3)
    return c0, c1


def test_floats_reads_float_constants_from_the_bits_of_an_int_table():
    """The one runtime table: sizes, then the bits of the float constants."""
    constants = np.array([-1.25, np.inf])
    table = np.concatenate([np.array([3]), constants.view(np.int64)])
    assert _unpacked_floats(table) == (-1.25, np.inf)


def test_a_few_float_constants_are_written_into_the_code():
    """0, 1/2, 1 and 2 (what derivative rules write) need no table; -0.0 keeps its sign
    and other values are read from the table."""
    import funcgrad as fg
    few = fg.jit(lambda x: (x * 2.0 + 1.0) * 0.5 - 0.0, compile="sync")
    assert "table" not in few.lower(1.5).source and few(1.5) == 2.0
    signed = fg.jit(lambda x: x * -0.0 + 3.0, compile="sync")
    assert "table" in signed.lower(1.5).source
    assert np.signbit(signed(1.5) - 3.0) == np.signbit(1.5 * -0.0 + 3.0 - 3.0)
    assert np.signbit(fg.jit(lambda x: x * -0.0, compile="sync")(1.5))


def test_sin_with_the_c_library_is_compiled_only_for_arguments_that_need_it():
    """A long loop's sin and cos are vector_math's, exact below 2^20: a call meeting a larger
    argument raises LargeTrigArgument inside, and the program runs compiled with the C
    library's (one variant more, made then)."""
    import funcgrad as fg
    import funcgrad.numpy as fnp
    from funcgrad.compile.disk_cache import code_of
    from funcgrad.compile.emitter import VECTOR_MATH_MIN_ELEMENTS
    from funcgrad.compile.executable import executable

    f = fg.jit(lambda x: fnp.sum(fnp.sin(x) * fnp.cos(x)))
    x = np.linspace(0.5, 5.0, VECTOR_MATH_MIN_ELEMENTS)
    ex = executable(f.lower(x).program)
    assert "math.sin(" not in code_of(ex.source) and "raise fgm.LargeTrigArgument()" in ex.source
    np.testing.assert_allclose(ex(x)[0], np.sum(np.sin(x) * np.cos(x)), rtol=1e-12)
    assert ex.exact_trig is None
    x[7] = 1e22
    np.testing.assert_allclose(ex(x)[0], np.sum(np.sin(x) * np.cos(x)), rtol=1e-12)
    exact = code_of(ex.exact_trig.source)
    assert "math.sin(" in exact and "fgm.exp(" not in exact and "LargeTrig" not in exact


def test_a_jitted_call_meeting_a_huge_trig_argument_later_is_right():
    """The same through jit's compiled calls (after the first): a later call with an
    argument of 2^20 or more gets the C library's results, not the exception."""
    import funcgrad as fg
    import funcgrad.numpy as fnp
    from funcgrad.compile.emitter import VECTOR_MATH_MIN_ELEMENTS

    f = fg.jit(lambda x, s: (fnp.sum(fnp.cos(x)) * s, fnp.sin(x)))
    x = np.linspace(0.5, 5.0, VECTOR_MATH_MIN_ELEMENTS)
    for _ in range(2):
        f(x, 2.0)
    x[3] = -3e21
    total, sines = f(x, 2.0)
    np.testing.assert_allclose(total, 2.0 * np.sum(np.cos(x)), rtol=1e-12)
    np.testing.assert_allclose(sines, np.sin(x), rtol=1e-15, atol=1e-15)
    assert isinstance(total, np.float64)


def test_routines_finds_every_routine_generated_code_calls():
    """compile/routines.py (generated code's ``fgm``) imports each routine's module on
    first use: every ``fgm.name`` the lowerings write and every routine scalar_math and
    vector_math define must be listed, and nothing else is looked up."""
    import inspect
    import re
    from pathlib import Path

    import funcgrad
    from funcgrad.compile import routines, vector_math
    written = {name for path in Path(funcgrad.__file__).parent.rglob("*.py")
               for name in re.findall(r"fgm\.([A-Za-z]\w*)\((?!\.\.\.)", path.read_text())}
    defined = {name for module in (fgm, vector_math) for name, value in vars(module).items()
               if not name.startswith("_") and callable(value)
               and getattr(inspect.unwrap(value), "__module__", None) == module.__name__}
    defined -= {"select", "straight_line", "intrinsic", "overload", "register_jitable"}
    for name in written | defined:
        assert getattr(routines, name) is getattr(fgm, name), name
    with pytest.raises(AttributeError, match="no attribute 'name'"):
        routines.name  # noqa: B018  (what Numba probes a module for)


_FIRST_USE_IN_A_COMPILE = """
import numpy as np, numba
from funcgrad.compile import routines as fgm
x = np.array([3.0, 1.0, 2.0])
print(numba.njit(lambda x: fgm.argsort_stable(x))(x).tolist(),
      numba.njit(lambda x: fgm.exp(x[0]))(x) == np.exp(3.0),
      numba.njit(lambda x: fgm.dot(x, x))(x),
      numba.njit(lambda x: fgm.empty((2,), np.float64).shape[0])(x),
      abs(numba.njit(lambda x: fgm.digamma(x[1]))(x) + 0.5772156649015329) < 1e-14)
"""


def test_a_routine_whose_module_a_compile_imports_first_is_typed():
    """``fgm.name`` imports the routine's module when Numba first looks the name up, which
    is while it types generated code: its tables are then refreshed (routines.py), or
    the routine was an unknown attribute of ``fgm`` in a process that had not imported
    its module before that compile. (A new process: here they are all imported.)"""
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-c", _FIRST_USE_IN_A_COMPILE], capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, PYTHONPATH=root))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["[1,", "2,", "0]", "True", "14.0", "2", "True"]


def test_every_module_compiled_into_generated_code_names_the_cache_folder():
    """Numba checks only a generated module's own file before loading its machine code, so
    the cache folder is named by a digest of every module whose code generated functions
    compile in (disk_cache._COMPILED_IN): each routine's home and what they import."""
    import ast
    from pathlib import Path

    from funcgrad.compile import disk_cache, routines
    folder = Path(disk_cache.__file__).parent
    homes = {f"{module}.py" for module in routines._HOMES.values()}
    homes |= {"routines.py", "scalar_math.py", "scipy_routines.py", "blas.py", "tables.py",
              "operator_typing.py"}
    compiled_in, todo = set(), list(homes)
    while todo:  # and the funcgrad.compile modules those import, in turn
        name = todo.pop()
        if name in compiled_in:
            continue
        compiled_in.add(name)
        tree = ast.parse((folder / name).read_text())
        todo += [f"{node.module.rsplit('.', 1)[1]}.py" for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module
                 and node.module.startswith("funcgrad.compile.")]
    assert compiled_in <= set(disk_cache._COMPILED_IN), compiled_in - set(
        disk_cache._COMPILED_IN)


def test_operator_typing_gives_the_signatures_of_numbas_own_templates():
    """compile/operator_typing.py answers float64 and int64 arithmetic and comparisons
    before Numba's templates: with the signature Numba's own would give."""
    import operator

    from numba import types
    from numba.core.registry import cpu_target

    from funcgrad.compile import operator_typing

    context = cpu_target.typing_context
    context.refresh()
    ops = [*operator_typing._ARITHMETIC, *operator_typing._COMPARISONS, operator.neg]
    for op in ops:
        for operand in (types.float64, types.int64):
            args = (operand,) * (1 if op is operator.neg else 2)
            templates = context.resolve_value_type(op).templates
            own = [t for t in templates if not t.__name__.startswith("Scalar_")]
            expected = next(s for s in (t(context).apply(args, {}) for t in own)
                            if s is not None)
            got = context.resolve_function_type(op, args, {})
            assert (got.return_type, got.args) == (expected.return_type, expected.args), op
    assert numba.njit(lambda a, b: (a * b - a / b, a < b, 3 * 4 - 5, a ** b))(
        1.5, 2.0) == (3.0 - 0.75, True, 7, 1.5 ** 2.0)
