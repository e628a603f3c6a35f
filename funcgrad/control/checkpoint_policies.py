"""``funcgrad.checkpoint_policies``: which intermediate values ``checkpoint(f, policy=...)``
saves for the backward pass instead of recomputing them, as JAX's ``jax.checkpoint_policies``.
A policy is called as ``policy(primitive, *input_avals, **params)`` for each equation of the
checkpointed function and says whether its outputs are saved.

Example:
    >>> from funcgrad import checkpoint_policies as cp
    >>> f = fg.checkpoint(lambda x: fnp.sin(fnp.sin(x)), policy=cp.everything_saveable)
    >>> float(fg.grad(f)(0.5)) == float(np.cos(np.sin(0.5)) * np.cos(0.5))
    True
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["everything_saveable", "nothing_saveable", "dots_saveable", "checkpoint_dots",
           "dots_with_no_batch_dims_saveable", "checkpoint_dots_with_no_batch_dims",
           "save_only_these_names", "save_any_names_but_these",
           "save_anything_except_these_names"]


def everything_saveable(prim, *avals, **params) -> bool:
    """Save every intermediate value: the backward pass recomputes nothing."""
    return True


def nothing_saveable(prim, *avals, **params) -> bool:
    """Save nothing (``checkpoint``'s default): the backward pass recomputes everything."""
    return False


def dots_saveable(prim, *avals, **params) -> bool:
    """Save the results of matrix products (``dot_general``: matmul, dot, einsum...)."""
    return prim.name == "dot_general"


checkpoint_dots = dots_saveable


def dots_with_no_batch_dims_saveable(prim, *avals, **params) -> bool:
    """Save the results of matrix products without batch dimensions."""
    return prim.name == "dot_general" and not any(params["batch"])


checkpoint_dots_with_no_batch_dims = dots_with_no_batch_dims_saveable


class _Names(NamedTuple):
    """A policy on the values marked by ``checkpoint_name``: hashable, so that programs
    differentiated with the same policy are built once."""

    names: frozenset
    saves_named: bool   # save the values marked with one of ``names`` (else: all others)
    saves_unnamed: bool  # save the values that carry no name

    def __call__(self, prim, *avals, **params) -> bool:
        if prim.name != "checkpoint_name":
            return self.saves_unnamed
        return (params["name"] in self.names) == self.saves_named


def _names(names, what) -> frozenset:
    if not all(isinstance(n, str) for n in names):
        from funcgrad.core.errors import FuncgradTypeError
        raise FuncgradTypeError(f"{what} takes names (strings), got {names!r}")
    return frozenset(names)


def save_only_these_names(*names: str) -> _Names:
    """Save only the values marked ``checkpoint_name(x, name)`` with one of ``names``."""
    return _Names(_names(names, "save_only_these_names"), True, False)


def save_any_names_but_these(*names: str) -> _Names:
    """Save the values marked with any name except ``names``; nothing unnamed."""
    return _Names(_names(names, "save_any_names_but_these"), False, False)


def save_anything_except_these_names(*names: str) -> _Names:
    """Save every value except those marked with one of ``names``."""
    return _Names(_names(names, "save_anything_except_these_names"), False, True)
