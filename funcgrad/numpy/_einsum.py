"""einsum: parse the subscripts, take diagonals and sums of single operands, then contract
operands pairwise with dot_general (batch = labels both keep, contract = labels only they
share), and finally transpose to the requested output order."""

from __future__ import annotations

import operator
from collections import Counter

import numpy as np

from funcgrad.core.errors import ShapeError
from funcgrad.core.types import check_dtype
from funcgrad.numpy._util import array_arg
from funcgrad.ops import shape as sh
from funcgrad.ops.elementwise import convert_element_type
from funcgrad.ops.linalg import dot_general
from funcgrad.ops.reductions import reduce_or_p, reduce_sum


_ALLOWED = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ,.->")


def _parse(subscripts: str, operands):
    subscripts = subscripts.replace(" ", "")
    if subscripts.count("->") > 1 or not set(subscripts) <= _ALLOWED:
        raise ShapeError(f"einsum: {subscripts!r} is not a subscripts string (labels are "
                         "letters; operands are separated by ',', the output follows '->')")
    if "->" in subscripts:
        inputs, output = subscripts.split("->")
    else:
        inputs, output = subscripts, None
    terms = inputs.split(",")
    if len(terms) != len(operands):
        raise ShapeError(f"einsum: {len(terms)} terms in {subscripts!r} for {len(operands)} "
                         "operands")
    # expand '...' into fresh labels, right-aligned across operands
    max_ell = 0
    for term, op in zip(terms, operands):
        if "..." in term:
            max_ell = max(max_ell, op.ndim - (len(term) - 3))
    ell = "".join(chr(0x3B1 + i) for i in range(max_ell))  # Greek: never a user's label
    expanded = []
    for term, op in zip(terms, operands):
        if "..." in term:
            n = op.ndim - (len(term) - 3)
            term = term.replace("...", ell[max_ell - n:])
        if len(term) != op.ndim:
            raise ShapeError(f"einsum: term {term!r} has {len(term)} labels for an operand "
                             f"with {op.ndim} axes")
        expanded.append(term)
    if output is None:
        counts = Counter("".join(expanded))
        output = ell + "".join(sorted(c for c in counts if counts[c] == 1 and c not in ell))
    else:
        output = output.replace("...", ell)
    return expanded, output


def _diagonal_and_sum(op, term, keep, logical):
    """Take diagonals of repeated labels; sum labels that no one else needs (``logical``:
    booleans only, whose sum is their logical or, as in NumPy's einsum and dot)."""
    while len(set(term)) < len(term):
        c = next(c for c in term if term.count(c) > 1)
        i = term.index(c)
        j = term.index(c, i + 1)
        from funcgrad.numpy._linalg import diagonal
        op = diagonal(op, 0, i, j)
        term = term[:i] + term[i + 1:j] + term[j + 1:] + c
    drop = tuple(i for i, c in enumerate(term) if c not in keep)
    if drop:
        op = reduce_or_p.bind(op, axes=drop) if logical else reduce_sum(op, drop)
        term = "".join(c for i, c in enumerate(term) if i not in drop)
    return op, term


def einsum(subscripts, *operands, preferred_element_type=None):
    if not isinstance(subscripts, str):
        subscripts, operands = from_sublists((subscripts, *operands))
    operands = [array_arg(op) for op in operands]
    if preferred_element_type is not None:
        operands = _preferred(operands, preferred_element_type)
    terms, output = _parse(subscripts, operands)
    sizes: dict[str, int] = {}
    for term, op in zip(terms, operands):  # a label of size 1 broadcasts, as in NumPy
        own: dict[str, int] = {}
        for c, d in zip(term, op.shape):
            if own.setdefault(c, d) != d:  # a diagonal's sizes never broadcast, in NumPy
                raise ShapeError(f"einsum: label {c!r} repeats in one operand with sizes "
                                 f"{own[c]} and {d}")
            known = sizes.get(c, 1)
            if known == 1:
                sizes[c] = d
            elif d not in (1, known):
                name = f"label {c!r}" if c.isascii() else "an axis of '...'"
                raise ShapeError(f"einsum: {name} has sizes {known} and {d}")
    operands = [sh.broadcast_to(op, [sizes[c] for c in term])
                for op, term in zip(operands, terms)]

    def labels_after(i):
        return set(output).union(*terms[i + 1:])

    logical = all(op.dtype == bool for op in operands)
    acc, acc_term = _diagonal_and_sum(operands[0], terms[0], labels_after(0), logical)
    for i in range(1, len(operands)):
        keep = labels_after(i)
        b, tb = _diagonal_and_sum(operands[i], terms[i], keep | set(acc_term), logical)
        batch = [c for c in acc_term if c in tb and c in keep]
        contract = [c for c in acc_term if c in tb and c not in keep]
        acc = dot_general(acc, b,
                          (tuple(acc_term.index(c) for c in contract),
                           tuple(tb.index(c) for c in contract)),
                          (tuple(acc_term.index(c) for c in batch),
                           tuple(tb.index(c) for c in batch)))
        acc_term = ("".join(batch) + "".join(c for c in acc_term if c not in tb)
                    + "".join(c for c in tb if c not in acc_term))
    if sorted(acc_term) != sorted(output):
        raise ShapeError(f"einsum: output labels {output!r} do not match the inputs")
    # the operands' dtype, as NumPy's einsum (and JAX's) give it: a sum alone widens small
    # integers to int64 (as fnp.sum does), and wrapping around at the end gives the numbers
    # wrapping at each step would
    dtype = np.result_type(*(op.dtype for op in operands))
    if preferred_element_type is not None:
        dtype = check_dtype(preferred_element_type)
    return convert_element_type(sh.transpose(acc, [acc_term.index(c) for c in output]), dtype)


def _preferred(operands, dtype):
    """The operands widened to ``dtype`` where it is wider, as JAX's dot_general accumulates
    in its preferred_element_type (int8 products summed in int32 do not wrap around); a
    narrower one is only the result's dtype."""
    dtype = check_dtype(dtype, " as einsum's preferred_element_type")
    return [convert_element_type(op, np.promote_types(op.dtype, dtype)) for op in operands]


def einsum_path(subscripts, *operands, optimize="greedy"):
    """NumPy's contraction order and its report, for the operands' shapes (NumPy computes
    both; funcgrad's einsum contracts left to right whatever the path says)."""
    def stand_in(op):  # only shapes and dtypes matter: a broadcast zero costs no memory
        op = array_arg(op)
        return np.broadcast_to(np.zeros((), op.dtype), op.shape)
    if isinstance(subscripts, str):
        args = [subscripts, *map(stand_in, operands)]
    else:  # the sublist form: operands at even places, labels at odd ones and maybe last
        args = [subscripts, *operands]
        last = len(args) - 1 if len(args) % 2 else len(args)
        args = [stand_in(a) if i % 2 == 0 and i != last else a for i, a in enumerate(args)]
    return np.einsum_path(*args, optimize=optimize)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def from_sublists(args):
    """(subscripts, operands) of NumPy's sublist form ``einsum(op0, sublist0, op1, sublist1,
    ..., [sublist_out])``: labels are ints 0-51 (a-z, then A-Z) or Ellipsis."""
    operands, terms = list(args[0::2]), [_labels(s) for s in args[1::2]]
    output = None
    if len(args) % 2:  # an odd count: the last sublist is the output's
        output, operands = _labels(operands[-1]), operands[:-1]
    if len(terms) != len(operands):
        raise ShapeError("einsum: the sublist form wants each operand followed by its labels")
    subscripts = ",".join(terms) + ("" if output is None else "->" + output)
    return subscripts, operands


def _labels(sublist) -> str:
    from funcgrad.core.errors import FuncgradTypeError
    if isinstance(sublist, str) or not hasattr(sublist, "__iter__"):
        raise FuncgradTypeError(f"einsum: {sublist!r} is not a list of axis labels (ints)")
    out = []
    for label in sublist:
        if label is Ellipsis:
            out.append("...")
            continue
        try:
            label = operator.index(label)
        except TypeError:
            raise FuncgradTypeError(f"einsum: {label!r} is not an axis label: use ints from 0 "
                                    "to 51 or ...") from None
        if not 0 <= label < len(_LETTERS):
            raise ShapeError(f"einsum: axis label {label} is out of range [0, 52)")
        out.append(_LETTERS[label])
    return "".join(out)
