"""The ``>>>`` examples in all of funcgrad's docstrings run and print what they show (they
are what the API reference displays). Docstrings may use ``np``, ``fg`` and ``fnp`` without
importing them, as the reference's readers would have them."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import funcgrad
import funcgrad.numpy as fnp

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
    test.globs.update({"np": np, "fg": funcgrad, "fnp": fnp})
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report = []
    result = runner.run(test, out=report.append)
    assert result.failed == 0, "".join(report)
