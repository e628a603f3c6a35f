"""The examples in the docstrings of the differentiation API and funcgrad.testing run."""

import doctest
import importlib

import pytest

MODULES = ["funcgrad.transforms.autodiff", "funcgrad.transforms.custom",
           "funcgrad.testing", "funcgrad.testing.check", "funcgrad.testing.strategies"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
