"""Beyond one thread: shards of a batch on several threads, or on the workers of a Dask cluster.

A compiled funcgrad function is a Numba function of NumPy arrays that releases the GIL, so
threads run it in parallel; and ``jit``, ``grad``, ``value_and_grad`` and ``vjp``'s pullbacks
pickle (as the user's function and options; with cloudpickle for closures), so Dask can send
them to other processes, where they find their machine code in the worker's disk cache or
compile it there once.

    map_shards(fn, *args, in_axes=0, threads=N, combine="sum")    threads, one process
    data_parallel(step, params, shards, client=client)            a Dask cluster

Both combine the shards' results exactly as the single-process computation would, up to the
order of floating-point additions.
"""

from __future__ import annotations

import concurrent.futures
import os
from typing import Any
from collections.abc import Callable, Sequence

import numpy as np
import optree

from funcgrad import tree
from funcgrad.compile.threads import check_threads as _check_threads
from funcgrad.core import errors as _errors

__all__ = ["map_shards", "data_parallel", "DataParallel", "combine_results"]


def combine_results(results: Sequence, combine: str | Callable = "sum",
                    weights: Sequence[float] | None = None):
    """Combine the per-shard results (pytrees of the same structure): ``"sum"`` (gradients of
    a summed loss), ``"mean"`` (weighted by ``weights``, if given: ``map_shards`` and
    ``DataParallel`` pass each shard's number of examples, so that shards' mean losses and
    gradients combine into the whole batch's), ``"stack"`` (a new leading axis),
    ``"concatenate"`` (along axis 0), or a function of the list of results.

    Example:
        >>> from funcgrad.parallel import combine_results
        >>> combine_results([(1.0, np.ones(2)), (2.0, np.ones(2))])
        (np.float64(3.0), array([2., 2.]))
    """
    if callable(combine):
        return combine(list(results))
    ops: dict[str, Callable] = {"sum": lambda xs: np.sum(np.stack(xs), axis=0),
           "mean": lambda xs: np.average(np.stack(xs), axis=0, weights=weights),
           "stack": np.stack, "concatenate": lambda xs: np.concatenate(xs, axis=0)}
    if combine not in ops:
        raise _errors.FuncgradTypeError(f"combine must be one of {sorted(ops)} or a function, "
                                f"got {combine!r}")
    op = ops[combine]
    return tree.map(lambda *xs: op([np.asarray(x) for x in xs])[()], *results)


def _split(arg, axis: int | None, n: int, what: str, batch: list) -> list:
    """``arg`` (a pytree) cut into ``n`` shards along ``axis`` of every leaf; None: the same
    ``arg`` for every shard. ``batch``: [] or [(size, leaf's name)] of the first leaf split,
    which every leaf's size along its axis must equal (cut separately, shards of different
    sizes would be paired)."""
    if axis is None:
        return [arg] * n
    paths, leaves, treedef = optree.tree_flatten_with_path(arg, namespace=tree.NAMESPACE)
    pieces = []
    for path, leaf in zip(paths, leaves):
        leaf, name = np.asarray(leaf), what + "".join(f"[{p!r}]" for p in path)
        if not -leaf.ndim <= axis < leaf.ndim:
            raise _errors.ShapeError(f"map_shards: {name} has shape {leaf.shape}, which has no "
                                     f"axis {axis} to split along")
        if not batch:
            batch.append((leaf.shape[axis], name))
        elif leaf.shape[axis] != batch[0][0]:
            raise _errors.ShapeError(
                f"map_shards: {name} has {leaf.shape[axis]} along axis {axis}, {batch[0][1]} "
                f"has {batch[0][0]}: every argument split must have the same number of "
                "examples")
        pieces.append(np.array_split(leaf, n, axis=axis))
    return [tree.unflatten(treedef, [p[k] for p in pieces]) for k in range(n)]


def _shard_count(threads) -> int:
    """``threads`` if given, else ``FUNCGRAD_NUM_THREADS``, else the number of cores: a
    positive integer, or the same clear error as ``jit(threads=)``."""
    if threads is not None:
        return _check_threads(threads, "threads")
    value = os.environ.get("FUNCGRAD_NUM_THREADS", "").strip()
    if value:
        return _check_threads(value, "FUNCGRAD_NUM_THREADS")
    return os.cpu_count() or 1


def map_shards(fn: Callable, *args, in_axes: int | None | Sequence[int | None] = 0,
               threads: int | None = None, combine: str | Callable = "sum"):
    """Split a batch into shards, run ``fn`` on each in its own thread, combine the results.

    ``in_axes`` says, per positional argument, along which axis of every leaf to split it
    (None: pass it whole to every shard, like parameters); an int applies to all. ``threads``
    (default: ``FUNCGRAD_NUM_THREADS`` or the number of cores) is also the number of shards.
    ``combine`` is as in ``combine_results``: ``"sum"`` gives the gradient of a summed loss.

    Compiled functions (``jit``) release the GIL, so the shards run at the same time; an
    uncompiled one runs its NumPy calls in parallel only where NumPy releases the GIL.

    Example:
        >>> loss = lambda w, x: fnp.sum((x @ w) ** 2)
        >>> step = fg.jit(fg.grad(loss))
        >>> w, x = np.ones(3), np.arange(12.0).reshape(4, 3)
        >>> g = map_shards(step, w, x, in_axes=(None, 0), threads=2)
        >>> bool(np.allclose(g, step(w, x)))
        True
    """
    n = _shard_count(threads)
    axes: list = [in_axes] * len(args) if not isinstance(in_axes, (tuple, list)) \
        else list(in_axes)
    if len(axes) != len(args):
        raise _errors.FuncgradTypeError(f"map_shards: in_axes has {len(axes)} entries for "
                                f"{len(args)} arguments")
    if all(a is None for a in axes):
        raise _errors.FuncgradTypeError("map_shards: in_axes maps no argument: nothing to split")
    batch: list = []
    split = [_split(a, ax, n, f"argument {i}", batch) for i, (a, ax) in enumerate(zip(args, axes))]
    sizes = [len(k) for k in np.array_split(np.arange(batch[0][0]), n)] if batch else [1] * n
    shards = [tuple(s[k] for s in split) for k in range(n) if sizes[k]]
    sizes = [size for size in sizes if size]
    if len(shards) <= 1:  # (an empty batch: fn of it, as without shards)
        return combine_results([fn(*(shards or [tuple(s[0] for s in split)])[0])], combine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(shards)) as pool:
        results = list(pool.map(lambda s: fn(*s), shards))
    return combine_results(results, combine, weights=sizes)


# ---------------------------------------------------------------------------------------
# Dask


class DataParallel:
    """A training step spread over a Dask cluster: each worker holds some of the data shards
    (sent once, each kept on two workers where there are two, so losing one worker loses
    none) and the step (sent once); every call sends only the parameters, and returns the
    shards' results combined.

    ``step(params, *shard)`` is any picklable function (typically
    ``fg.jit(fg.value_and_grad(loss))``); ``shards`` a list of tuples of arrays (one tuple
    per shard). A worker lost during a call is replaced by Dask, and its shards are run again
    elsewhere (sent again from this process if no copy survived), so the result is the same.

    Example:
        >>> from dask.distributed import Client
        >>> client = Client(processes=False, n_workers=1, dashboard_address=None)
        >>> step = fg.jit(fg.grad(lambda w, x: fnp.sum((x @ w) ** 2)))
        >>> x = np.arange(8.0).reshape(4, 2)
        >>> train_step = DataParallel(step, [(x[:2],), (x[2:],)], client)
        >>> train_step(np.ones(2))
        array([248., 304.])
        >>> client.close()
    """

    def __init__(self, step: Callable, shards: Sequence, client: Any,
                 combine: str | Callable = "sum", retries: int = 3):
        if not shards:
            raise _errors.FuncgradTypeError("data_parallel needs at least one shard")
        self.client, self.combine, self.retries = client, combine, retries
        self.shards = [tuple(s) if isinstance(s, (tuple, list)) else (s,) for s in shards]
        self.examples = [_examples(s) for s in self.shards]  # (to weight a "mean")
        [self._step] = client.scatter([step], broadcast=True, hash=False)
        self._data = self._scatter(range(len(self.shards)))

    def _scatter(self, which) -> dict:
        futures = self.client.scatter([self.shards[k] for k in which], hash=False)
        workers = len(self.client.scheduler_info().get("workers", {}))
        if workers > 1:
            self.client.replicate(futures, n=2)
        return dict(zip(which, futures))

    def __call__(self, params):
        for attempt in range(self.retries + 1):
            lost = [k for k, f in self._data.items() if f.status in ("lost", "error",
                                                                        "cancelled")]
            if lost:
                self._data.update(self._scatter(lost))
            tasks = [self.client.submit(_unpack_and_run, self._step, params, self._data[k],
                                        pure=False, retries=self.retries)
                     for k in range(len(self.shards))]
            try:
                results = self.client.gather(tasks)
                break
            except Exception:  # a worker died with the only copy of a shard: send it again
                if attempt == self.retries:
                    raise
        return combine_results(results, self.combine, weights=self.examples)


def _examples(shard) -> int:
    """A shard's number of examples: the length of its first array's leading axis."""
    for leaf in tree.leaves(shard):
        if np.ndim(leaf):
            return np.shape(leaf)[0]
    return 1


def _unpack_and_run(step, params, shard):
    return step(params, *shard)


_cached: dict = {}


def data_parallel(step: Callable, params, shards: Sequence, client: Any = None,
                  combine: str | Callable = "sum"):
    """``step(params, *shard)`` on every shard, on the workers of a Dask ``client``, the results
    combined (summed by default: the gradient of a loss summed over the shards).

    The data and the step are sent once: calls with the same ``step`` and the same ``shards``
    list reuse what the workers already hold, so a training loop sends only the parameters
    each step. (Use ``DataParallel`` to hold that state explicitly.) Needs the
    ``funcgrad[distributed]`` extra; without ``client``, the current Dask client is used.

    Example (a cluster in this process; ``Client(n_workers=2)`` starts two processes):
        >>> from dask.distributed import Client
        >>> client = Client(processes=False, n_workers=2, dashboard_address=None)
        >>> loss = lambda w, x: fnp.sum((x @ w) ** 2)
        >>> step = fg.jit(fg.value_and_grad(loss))
        >>> w, x = np.ones(2), np.arange(8.0).reshape(4, 2)
        >>> value, g = data_parallel(step, w, [(x[:2],), (x[2:],)], client=client)
        >>> float(value), g
        (276.0, array([248., 304.]))
        >>> client.close()
    """
    if client is None:
        try:
            from dask.distributed import get_client
        except ImportError:
            raise _errors.FuncgradTypeError("data_parallel needs Dask: pip install "
                                    "'funcgrad[distributed]'") from None
        client = get_client()
    key = (id(client), id(step), id(shards), combine)
    entry = _cached.get(key)
    if entry is None or entry[0] is not shards or entry[1] is not step:
        entry = _cached[key] = (shards, step, DataParallel(step, shards, client, combine))
    return entry[2](params)
