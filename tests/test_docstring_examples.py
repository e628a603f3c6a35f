"""The ``>>>`` examples in all of funcgrad's docstrings run and print what they show (they
are what the API reference displays), and every public function and class has one.
Docstrings may use ``np``, ``fg`` and ``fnp`` without importing them, as the reference's
readers would have them.

The public API of each module is its ``__all__``; a test here checks that it lists every
public name the module defines, so nothing public goes undocumented by being left out."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import funcgrad
import funcgrad.numpy as fnp

STATS = ["norm", "multivariate_normal", "t", "gamma", "beta", "dirichlet", "poisson", "bernoulli",
         "binom", "expon", "laplace", "logistic", "cauchy", "uniform", "chi2"]
PUBLIC_MODULES = ["funcgrad", "funcgrad.numpy", "funcgrad.lax", "funcgrad.nn", "funcgrad.scipy",
                  "funcgrad.scipy.special", "funcgrad.scipy.stats",
                  *(f"funcgrad.scipy.stats.{name}" for name in STATS), "funcgrad.tree",
                  "funcgrad.testing", "funcgrad.testing.strategies", "funcgrad.parallel",
                  "funcgrad.random", "funcgrad.optim", "funcgrad.nn_init",
                  "funcgrad.numpy.linalg", "funcgrad.scipy.linalg",
                  "funcgrad.flatten_util", "funcgrad.scipy.signal", "funcgrad.integrate"]


# Names that a public module shows but does not offer: helpers it imports for its own use
# (nn's erfc is funcgrad.scipy.special.erfc's primitive; the public one is documented there).
NOT_PUBLIC = {
    "funcgrad.nn": {"array_arg", "broadcast_shape", "inexact_arg", "normalize_axes",
                    "normalize_axis", "erfc", "logistic"},
    "funcgrad.scipy.special": {"scalar_or_array", "logistic"},
    "funcgrad.tree": {"NAMESPACE"},
    "funcgrad.numpy.linalg": {"FuncgradTypeError", "ShapeError", "Tracer", "array_arg",
                              "normalize_axis"},
    "funcgrad.scipy.linalg": {"ShapeError", "Tracer", "array_arg"},
    "funcgrad.scipy.signal": {"FuncgradValueError", "ShapeError"},
    # the optimizers' state containers (NamedTuples users see in reprs, never build)
    "funcgrad.optim": {"EmptyState", "ScaleByScheduleState", "TraceState", "ScaleByAdamState",
                       "ScaleByRmsState", "ScaleByLionState", "ScaleByTrustRatioState",
                       "ScaleByAdagradState", "ScaleByRmsWithCountState", "ScaleByRStdDevState",
                       "ScaleByRStdDevWithCountState"},
}


def _is_typing_or_future(obj) -> bool:
    return type(obj).__module__ == "__future__" or getattr(obj, "__module__", None) in (
        "typing", "collections.abc")  # Callable and Sequence come from either


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_lists_the_public_api(module_name):
    """``__all__`` lists only names that exist, and every public-looking name of the module
    is either listed or a known helper: a new function cannot be left out of the API
    reference (which documents ``__all__``) by being left out of ``__all__``."""
    module = importlib.import_module(module_name)
    listed = module.__all__
    assert len(listed) == len(set(listed)), "a name is listed twice"
    for name in listed:
        assert hasattr(module, name), f"{module_name}.__all__ lists {name}, which is missing"
    unlisted = {name for name, obj in vars(module).items()
                if not name.startswith("_") and name not in listed
                and not inspect.ismodule(obj) and not _is_typing_or_future(obj)}
    assert unlisted == NOT_PUBLIC.get(module_name, set()), (
        f"{module_name}: list the public ones among {sorted(unlisted)} in __all__, or the "
        "helpers in NOT_PUBLIC")


def _public_functions():
    """(qualified name, object) of each public function and class of funcgrad: the callables
    in the ``__all__`` of each public module (for funcgrad.compile, which has none, those it
    defines) that funcgrad itself defines, not NumPy's dtypes or optree's PyTreeSpec."""
    out = []
    for module_name in PUBLIC_MODULES + ["funcgrad.compile"]:
        module = importlib.import_module(module_name)
        names = getattr(module, "__all__", None) or [
            n for n, obj in vars(module).items() if not n.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module_name]
        for name in names:
            obj = getattr(module, name)
            if callable(obj) and not inspect.ismodule(obj) \
                    and (getattr(obj, "__module__", None) or "").startswith("funcgrad"):
                out.append((f"{module_name}.{name}", obj))
    return out


PUBLIC_FUNCTIONS = _public_functions()


def test_every_public_function_has_an_example():
    """Issue 5: every public function (and class) has a docstring with an example, one that
    runs: a ``>>>`` line without ``+SKIP`` (test_docstring_example then checks its output)."""
    parser = doctest.DocTestParser()
    lacking = []
    for name, obj in PUBLIC_FUNCTIONS:
        examples = parser.get_examples(inspect.getdoc(obj) or "")
        if not any(not e.options.get(doctest.SKIP, False) for e in examples):
            lacking.append(name)
    assert not lacking, f"public functions without a running >>> example: {lacking}"
    assert len({id(obj) for _, obj in PUBLIC_FUNCTIONS}) > 180  # the walk found them all


def _docstring_tests():
    names = ["funcgrad"] + [m.name for m in pkgutil.walk_packages(funcgrad.__path__,
                                                                    "funcgrad.")]
    finder = doctest.DocTestFinder()
    found = {}
    for name in names:
        try:
            module = importlib.import_module(name)
        except ImportError:  # an optional dependency (Hypothesis for testing.strategies)
            continue
        for test in finder.find(module, name):
            if test.examples and test.name not in found:
                found[test.name] = test
    return [found[k] for k in sorted(found)]


TESTS = _docstring_tests()


def test_docstrings_have_examples_to_run():
    assert len(TESTS) >= 20


@pytest.mark.parametrize("test", [pytest.param(t, id=t.name) for t in TESTS])
def test_docstring_example(test):
    test.globs.update({"np": np, "fg": funcgrad, "fnp": fnp, "lax": funcgrad.lax})
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = []
    result = runner.run(test, out=report.append)
    assert result.failed == 0, "".join(report)
