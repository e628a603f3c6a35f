"""Tools for testing gradients: ``check_grads``, ``numerical_grad`` and Hypothesis strategies.

``check_grads(f, args)`` compares reverse-mode derivatives with finite differences and says
which argument, along which direction, by how much, when they disagree.
``funcgrad.testing.strategies`` draws arrays, shapes, broadcastable shapes, pytrees and inputs
inside a function's domain (it needs Hypothesis, the ``test`` extra; it is imported on first
use, so ``funcgrad.testing`` itself works without it).

Example:
    >>> import numpy as np, funcgrad.numpy as fnp
    >>> from funcgrad.testing import check_grads
    >>> check_grads(lambda x: fnp.sum(fnp.sin(x) ** 2), (np.array([0.5, 1.0]),), order=2)
"""

from funcgrad.testing.check import GradientCheckError, check_grads, numerical_grad  # noqa: F401

__all__ = ["check_grads", "numerical_grad", "GradientCheckError", "strategies"]


def __getattr__(name):
    if name == "strategies":  # imports Hypothesis, an optional dependency: only when asked
        import importlib
        return importlib.import_module("funcgrad.testing.strategies")
    raise AttributeError(f"module 'funcgrad.testing' has no attribute {name!r}")
