"""Write docs/coverage.md: every public name of funcgrad's NumPy and SciPy namespaces and
funcgrad.nn, and whether reverse mode, forward mode, vmap and the Numba backend support it.

    python docs/coverage.py            # rewrite docs/coverage.md
    python docs/coverage.py --check    # exit 1 if it is out of date (tests/test_coverage_page.py)

Nothing here is written by hand per name except example inputs. Each public function is
traced (``make_ir``) on a small example input, and every primitive the trace records,
sub-programs included, is looked up in the rule tables of funcgrad/rules/: a name is
supported by a transformation when all its primitives have a rule there. The example input
comes from the signature: each required parameter gets, by its name, the value of
``BY_PARAMETER``, else a float vector (a 3 x 3 symmetric positive definite matrix in the
linear-algebra modules), then integers, then booleans if floats are refused. ``EXAMPLES``
overrides that for the names that need something else (a subscript string, a condition...).
A name that cannot be traced on its example is listed with the reason: a new name shows up
here as soon as it is exported, with "?" until it traces or gets an entry in ``EXAMPLES``.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's funcgrad
import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402
from funcgrad.core.errors import ConcretizationError  # noqa: E402
from funcgrad.core.ir import Program  # noqa: E402
from funcgrad.rules import batch_rules, jvp_rules, lowerings, vjp_rules, vjp_split_rules  # noqa: E402

PAGE = Path(__file__).resolve().parent / "coverage.md"

MODULES = ["funcgrad.numpy", "funcgrad.numpy.linalg", "funcgrad.scipy.special",
           "funcgrad.scipy.stats", "funcgrad.scipy.linalg", "funcgrad.scipy.signal",
           "funcgrad.nn"]
MATRIX_MODULES = ("funcgrad.numpy.linalg", "funcgrad.scipy.linalg")

VECTOR = np.array([0.3, 0.5, 0.7])
MATRIX = np.array([[2.0, 0.5, 0.1], [0.5, 1.5, 0.2], [0.1, 0.2, 1.0]])
INTEGERS = np.array([1, 2, 0])
BOOLEANS = np.array([True, False, True])

# values of required parameters that are not arrays, by parameter name
BY_PARAMETER = {
    "shape": (3,), "newshape": (3,), "N": 3, "M": 3, "n": 2, "d": 2, "num": 3,
    "indices": np.array([0, 2]), "condition": BOOLEANS, "repeats": 2, "reps": 2,
    "axis": 0, "source": 0, "destination": 0, "axis1": 0, "axis2": 0, "kth": 1,
    "subscripts": "i->i", "num_classes": 3, "dtype": np.float64, "pad_width": 1,
    "start": 0.0, "stop": 1.0, "fill_value": 0.5, "indices_or_sections": 3, "ord": 2,
    "decimals": 1, "sections": 3,
}

# names whose example the signature cannot give: qualified name -> (function, arguments)
EXAMPLES = {
    "funcgrad.numpy.einsum": (lambda x: fnp.einsum("i,i->", x, x), (VECTOR,)),
    "funcgrad.numpy.where": (lambda c, x: fnp.where(c, x, 0.0), (BOOLEANS, VECTOR)),
    "funcgrad.numpy.take_along_axis": (lambda x: fnp.take_along_axis(x, INTEGERS, 0),
                                       (VECTOR,)),
    "funcgrad.numpy.at": (lambda x: x.at[0].set(1.0), (VECTOR,)),
    "funcgrad.numpy.split": (lambda x: fnp.split(x, 3), (VECTOR,)),
    "funcgrad.numpy.concatenate": (lambda x: fnp.concatenate([x, x]), (VECTOR,)),
    "funcgrad.numpy.stack": (lambda x: fnp.stack([x, x]), (VECTOR,)),
    "funcgrad.numpy.hstack": (lambda x: fnp.hstack([x, x]), (VECTOR,)),
    "funcgrad.numpy.vstack": (lambda x: fnp.vstack([x, x]), (VECTOR,)),
    "funcgrad.numpy.broadcast_to": (lambda x: fnp.broadcast_to(x, (2, 3)), (VECTOR,)),
    "funcgrad.numpy.astype": (lambda x: fnp.astype(x, np.float32), (VECTOR,)),
    "funcgrad.numpy.pad": (lambda x: fnp.pad(x, 1), (VECTOR,)),
    "funcgrad.numpy.linalg.multi_dot": (lambda a: fnp.linalg.multi_dot([a, a, a]), (MATRIX,)),
    "funcgrad.numpy.linalg.tensorsolve": (lambda a, b: fnp.linalg.tensorsolve(a, b),
                                          (MATRIX, VECTOR)),
    "funcgrad.numpy.linalg.solve": (lambda a, b: fnp.linalg.solve(a, b), (MATRIX, VECTOR)),
    "funcgrad.numpy.linalg.lstsq": (lambda a, b: fnp.linalg.lstsq(a, b), (MATRIX, VECTOR)),
    "funcgrad.numpy.linalg.matrix_power": (lambda a: fnp.linalg.matrix_power(a, 3),
                                           (MATRIX,)),
    "funcgrad.scipy.linalg.cho_solve": (
        lambda a, b: fg.scipy.linalg.cho_solve(fg.scipy.linalg.cho_factor(a), b),
        (MATRIX, VECTOR)),
    "funcgrad.scipy.linalg.lu_solve": (
        lambda a, b: fg.scipy.linalg.lu_solve(fg.scipy.linalg.lu_factor(a), b),
        (MATRIX, VECTOR)),
    "funcgrad.scipy.linalg.solve_triangular": (
        lambda a, b: fg.scipy.linalg.solve_triangular(a, b), (MATRIX, VECTOR)),
    "funcgrad.scipy.stats.multivariate_normal.logpdf": (
        lambda x, m, c: fg.scipy.stats.multivariate_normal.logpdf(x, m, c),
        (VECTOR, VECTOR, MATRIX)),
    "funcgrad.scipy.stats.multivariate_normal.pdf": (
        lambda x, m, c: fg.scipy.stats.multivariate_normal.pdf(x, m, c),
        (VECTOR, VECTOR, MATRIX)),
    "funcgrad.nn.one_hot": (lambda x: fg.nn.one_hot(x, 3), (INTEGERS,)),
    "funcgrad.nn.glu": (fg.nn.glu, (np.array([0.1, 0.2, 0.3, 0.4]),)),
    "funcgrad.nn.dropout": (lambda x: fg.nn.dropout(fg.random.key(0), 0.5, x), (VECTOR,)),
    "funcgrad.nn.dot_product_attention": (fg.nn.dot_product_attention,
                                          (np.ones((1, 3, 2)),) * 3),
    "funcgrad.nn.softmax_cross_entropy_with_integer_labels": (
        lambda x: fg.nn.softmax_cross_entropy_with_integer_labels(x, np.int64(1)), (VECTOR,)),
    "funcgrad.numpy.reshape": (lambda x: fnp.reshape(x, (3, 1)), (VECTOR,)),
    "funcgrad.numpy.roll": (lambda x: fnp.roll(x, 1), (VECTOR,)),
    "funcgrad.numpy.tensordot": (lambda x: fnp.tensordot(x, x, 1), (VECTOR,)),
    "funcgrad.numpy.linalg.tensorinv": (lambda a: fnp.linalg.tensorinv(a, 1), (MATRIX,)),
    # sizes that depend on values: traced with a static size=
    "funcgrad.numpy.nonzero": (lambda x: fnp.nonzero(x, size=2), (VECTOR,)),
    "funcgrad.numpy.flatnonzero": (lambda x: fnp.flatnonzero(x, size=2), (VECTOR,)),
    "funcgrad.numpy.argwhere": (lambda x: fnp.argwhere(x, size=2), (VECTOR,)),
    "funcgrad.numpy.unique": (lambda x: fnp.unique(x, size=2), (VECTOR,)),
    "funcgrad.numpy.bincount": (lambda w: fnp.bincount(INTEGERS, w, length=3), (VECTOR,)),
    "funcgrad.numpy.gradient": (lambda x: fnp.gradient(x), (VECTOR,)),
    "funcgrad.numpy.geomspace": (lambda a: fnp.geomspace(a, 2.0, 3), (np.float64(0.5),)),
    "funcgrad.numpy.delete": (lambda x: fnp.delete(x, 1), (VECTOR,)),
    "funcgrad.numpy.insert": (lambda x: fnp.insert(x, 1, 0.5), (VECTOR,)),
    "funcgrad.numpy.dsplit": (lambda x: fnp.dsplit(x, 1), (MATRIX[None],)),
    "funcgrad.numpy.permute_dims": (lambda x: fnp.permute_dims(x, (1, 0)), (MATRIX,)),
    "funcgrad.scipy.linalg.solve_banded": (
        lambda ab, b: fg.scipy.linalg.solve_banded((1, 1), ab, b), (MATRIX, VECTOR)),
    # more of NumPy's names: functions of functions, sizes given, JAX's inplace=False
    "funcgrad.numpy.fill_diagonal": (lambda x: fnp.fill_diagonal(x, 0.5, inplace=False),
                                     (MATRIX,)),
    "funcgrad.numpy.put_along_axis": (
        lambda x: fnp.put_along_axis(x, INTEGERS, 0.5, 0, inplace=False), (VECTOR,)),
    "funcgrad.numpy.indices": (lambda: fnp.indices((2, 3)), ()),
    "funcgrad.numpy.ravel_multi_index": (
        lambda i: fnp.ravel_multi_index((i, i), (3, 3), mode="clip"), (INTEGERS,)),
    "funcgrad.numpy.ldexp": (lambda x: fnp.ldexp(x, INTEGERS), (VECTOR,)),
    "funcgrad.numpy.apply_along_axis": (lambda x: fnp.apply_along_axis(fnp.cumsum, 0, x),
                                        (MATRIX,)),
    "funcgrad.numpy.apply_over_axes": (lambda x: fnp.apply_over_axes(fnp.sum, x, [0, 1]),
                                       (MATRIX,)),
    "funcgrad.numpy.vectorize": (lambda x: fnp.vectorize(fnp.sin)(x), (VECTOR,)),
    "funcgrad.numpy.polyfit": (lambda y: fnp.polyfit(VECTOR, y, 1), (VECTOR,)),
    "funcgrad.numpy.choose": (lambda x: fnp.choose(INTEGERS, [x, 2 * x, 3 * x], mode="clip"),
                              (VECTOR,)),
    "funcgrad.numpy.compress": (lambda c, x: fnp.compress(c, x, size=2), (BOOLEANS, VECTOR)),
    "funcgrad.numpy.extract": (lambda c, x: fnp.extract(c, x, size=2), (BOOLEANS, VECTOR)),
    "funcgrad.numpy.resize": (lambda x: fnp.resize(x, (2, 2)), (VECTOR,)),
    **{f"funcgrad.numpy.{f.__name__}": (lambda x, f=f: f(x, x, size=3), (VECTOR,))
       for f in (fnp.intersect1d, fnp.setdiff1d, fnp.setxor1d, fnp.union1d)},
    **{f"funcgrad.numpy.{f.__name__}": (lambda x, f=f: f(x, size=3), (VECTOR,))
       for f in (fnp.unique_all, fnp.unique_counts, fnp.unique_inverse, fnp.unique_values)},
    "funcgrad.numpy.fromfunction": (lambda x: fnp.fromfunction(lambda i: x * i, (3,)),
                                    (VECTOR,)),
}


# --- the names -------------------------------------------------------------------------

# public functions that compute no array: NumPy's error-handling settings, dtype and shape
# helpers
NOT_ARRAY_FUNCTIONS = {"funcgrad.numpy.seterr", "funcgrad.numpy.geterr",
                       *(f"funcgrad.numpy.{name}" for name in (
                           "promote_types", "can_cast", "issubdtype", "isscalar",
                           "broadcast_shapes", "einsum_path"))}

def public_functions(module_name: str):
    """(qualified name, function) of each public function of ``module_name`` (for
    funcgrad.scipy.stats: of each distribution's module)."""
    module = importlib.import_module(module_name)
    out = []
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name)
        qualified = f"{module_name}.{name}"
        if inspect.ismodule(obj):
            if module_name == "funcgrad.scipy.stats":
                out.extend(public_functions(qualified))
            continue
        if callable(obj) and not inspect.isclass(obj) and qualified not in NOT_ARRAY_FUNCTIONS \
                and (getattr(obj, "__module__", None) or "").startswith("funcgrad"):
            out.append((qualified, obj))
    return out


# --- an example input for each name ----------------------------------------------------

def _required(fn) -> list[inspect.Parameter]:
    """The parameters an example must give: those without defaults, and two arrays for
    ``*args`` (``meshgrid(*xi)``, ``broadcast_arrays(*args)``)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    required = [p for p in params if p.default is inspect.Parameter.empty
                and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    variadic = [p for p in params if p.kind == p.VAR_POSITIONAL]
    return required + [inspect.Parameter(f"{p.name}{i}", p.POSITIONAL_ONLY)
                       for p in variadic for i in range(2)]


def candidate_examples(qualified: str, fn):
    """(function, arguments) to try in turn: EXAMPLES' entry, else arguments from the
    signature in floats (a vector, then a matrix; the other way round in the linear algebra
    modules), integers, then booleans."""
    if qualified in EXAMPLES:
        yield EXAMPLES[qualified]
        return
    module = qualified.rsplit(".", 1)[0]
    fills = (MATRIX, VECTOR) if module in MATRIX_MODULES else (VECTOR, MATRIX)
    params = _required(fn)
    for fill in (*fills, INTEGERS, BOOLEANS):
        yield fn, tuple(BY_PARAMETER.get(p.name, fill) for p in params)


def trace(fn, args):
    """The Program of ``fn`` at ``args``: the arrays among them are its traced inputs, the
    rest (sizes, axes, strings) are closed over."""
    traced = [i for i, a in enumerate(args) if isinstance(a, np.ndarray)]

    def of_arrays(*arrays):
        full = list(args)
        for i, a in zip(traced, arrays):
            full[i] = a
        return fn(*full)
    closed = fg.make_ir(of_arrays)(*(args[i] for i in traced))
    return closed.program, [args[i] for i in traced]


def primitives(program: Program) -> set:
    """Every primitive ``program`` binds, in its sub-programs too (branches, loop bodies,
    calls, custom rules' functions)."""
    found = set()
    for eqn in program.equations:
        found.add(eqn.primitive)
        for value in eqn.params.values():
            for sub in value if isinstance(value, (list, tuple)) else [value]:
                sub = getattr(sub, "program", sub)
                if isinstance(sub, Program):
                    found |= primitives(sub)
    return found


# --- support -------------------------------------------------------------------------------

YES, NONE, UNKNOWN = "✓", "—", "?"

COLUMNS = {  # column -> how a primitive is supported there
    "VJP": lambda p: p in vjp_rules or p in vjp_split_rules,
    "JVP": lambda p: p in jvp_rules,
    "vmap": lambda p: p in batch_rules,
    "Numba": lambda p: p in lowerings,
}


def _floats(values) -> bool:
    return any(np.asarray(v).dtype.kind == "f" for v in values)


def support(qualified: str, fn) -> tuple[dict, str]:
    """The cell of each column, and a note: the example's inputs and the primitives without
    a rule, or why the name could not be traced."""
    failure = None
    for example_fn, args in candidate_examples(qualified, fn):
        try:
            program, inputs = trace(example_fn, args)
            break
        except ConcretizationError as err:  # the first failure says most: that of floats
            failure = failure or f"traced only with concrete values ({_first_line(err)})"
        except Exception as err:  # noqa: BLE001  (any failure is reported on the page)
            failure = failure or (f"no example input traced ({type(err).__name__}: "
                                  f"{_first_line(err)})")
    else:
        return {column: UNKNOWN for column in COLUMNS}, failure or "no example input"
    prims = primitives(program)
    outputs = program.out_avals
    differentiable = _floats(inputs) and any(a.dtype.kind == "f" for a in outputs)
    cells, notes = {}, [f"on {', '.join(map(str, program.in_avals[len(program.constvars):]))}"
                        if program.invars else "on no array input"]
    for column, has_rule in COLUMNS.items():
        if (column in ("VJP", "JVP") and not differentiable) or (column == "vmap"
                                                                 and not inputs):
            cells[column] = NONE
            continue
        missing = sorted(p.name for p in prims if not has_rule(p))
        cells[column] = YES if not missing else "✗"
        if missing:
            notes.append(f"{column}: no rule for {', '.join(missing)}")
    return cells, "; ".join(notes)


def _first_line(err) -> str:
    """The message's first line, without where it was raised (this file's line numbers)."""
    text = re.sub(r" \(in [^()]*\)$", "", str(err).strip().split("\n")[0])
    return text if len(text) <= 90 else text[:87] + "..."


# --- the page ------------------------------------------------------------------------------

INTRO = """\
# Coverage: which names have which rules

<!-- Generated by docs/coverage.py from funcgrad's rule tables; do not edit by hand.
     Regenerate with: python docs/coverage.py -->

Every public function of funcgrad's NumPy and SciPy namespaces and of `funcgrad.nn`, and
whether reverse mode (**VJP**: `grad`, `vjp`), forward mode (**JVP**: `jvp`, `jacfwd`),
batching (**vmap**) and the **Numba** backend (`jit`) support it.

The page is generated: each name is traced with `make_ir` on a small example input, and
each primitive its trace records (in sub-programs too) is looked up in that
transformation's rule table. ✓: every primitive has a rule. ✗: some have none (named in
the notes). —: not applicable on that input (an integer or boolean result has no
derivative; a function of no array input has nothing to batch). ?: the name could not be
traced on its example (the notes say why: a function that needs concrete values runs
eagerly, outside `jit`, `grad` and `vmap`).

A ✓ says that rules exist, not that every argument is accepted: a rule may refuse some
cases with a clear error (for example the derivative of `svd(full_matrices=True)` of a
non-square matrix), as each function's documentation says.
"""


def render() -> str:
    lines = [INTRO]
    summary = ["| module | names | ✓ (or —) in all four | ? |", "|---|---:|---:|---:|"]
    sections = []
    for module_name in MODULES:
        rows = []
        full = unknown = 0
        for qualified, fn in public_functions(module_name):
            cells, note = support(qualified, fn)
            values = list(cells.values())
            full += all(v in (YES, NONE) for v in values)
            unknown += UNKNOWN in values
            name = qualified[len(module_name) + 1:]
            rows.append(f"| `{name}` | {' | '.join(values)} | {_cell(note)} |")
        summary.append(f"| `{module_name}` | {len(rows)} | {full} | {unknown} |")
        sections += [f"## `{module_name}`", "", "| name | VJP | JVP | vmap | Numba | notes |",
                     "|---|:-:|:-:|:-:|:-:|---|", *rows, ""]
    return "\n".join(lines + summary + [""] + sections)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


def main(argv) -> int:
    text = render()
    if "--check" in argv:
        if PAGE.read_text() != text:
            print(f"{PAGE} is out of date: run python docs/coverage.py")
            return 1
        return 0
    PAGE.write_text(text)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
