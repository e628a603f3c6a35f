import os
import warnings

import numba
import numpy as np
import pytest
from numba.core.errors import NumbaPerformanceWarning

import funcgrad as fg
import funcgrad.numpy as fnp


def test_grad_of_sin_is_cos():
    assert np.isclose(fg.grad(fnp.sin)(0.3), np.cos(0.3))


def test_grad_of_grad_of_sin():
    assert np.isclose(fg.grad(fg.grad(fnp.sin))(1.0), -np.sin(1.0))


def test_the_suite_runs_numba_with_the_settings_conftest_gives_it():
    """conftest.py asks Numba for less optimisation and bounds checks through environment
    variables, which Numba reads when it is first imported: anything importing Numba before
    them (a warning filter naming a Numba class in pytest's settings did) silently gave
    a suite slower to compile (-O3) and without bounds checks."""
    assert int(numba.config.OPT) == int(os.environ["NUMBA_OPT"])
    assert numba.config.BOUNDSCHECK == int(os.environ["NUMBA_BOUNDSCHECK"])


def test_a_numba_warning_fails_the_suite():
    with pytest.raises(NumbaPerformanceWarning):
        warnings.warn("stands for one in generated code", NumbaPerformanceWarning, stacklevel=1)
