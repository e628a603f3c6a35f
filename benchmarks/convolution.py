"""Small-kernel convolutions: funcgrad's compiled direct loop beside scipy.signal (issue 12,
item 5).

For each image size and kernel: ``fg.jit(convolve2d(image, kernel, "same"))`` against
``scipy.signal.convolve2d`` and ``scipy.signal.convolve`` (which picks direct or FFT), after
checking they agree; and the compiled gradient of a loss of it in both inputs. One thread,
best of several batches of calls.

    python benchmarks/convolution.py            # best of several timing runs
    python benchmarks/convolution.py --quick    # fewer repetitions
"""

from __future__ import annotations

import os
import sys
import timeit

for _var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread, as benchmarks/run.py measures

import numpy as np  # noqa: E402
import scipy.signal  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import funcgrad as fg  # noqa: E402
import funcgrad.numpy as fnp  # noqa: E402
from funcgrad.scipy import signal  # noqa: E402

CASES = [((64, 64), (3, 3)), ((256, 256), (3, 3)), ((256, 256), (5, 5)), ((512, 512), (5, 5))]


def best_us(fn, *args, repeats: int) -> float:
    fn(*args)
    timer = timeit.Timer(lambda: fn(*args))
    number, _ = timer.autorange()
    return min(timer.repeat(repeats, number)) / number * 1e6


def main(quick: bool) -> None:
    repeats = 3 if quick else 7
    rng = np.random.default_rng(0)
    convolve = fg.jit(lambda x, w: signal.convolve2d(x, w, "same"))
    grad = fg.jit(fg.grad(lambda x, w: fnp.sum(signal.convolve2d(x, w, "same") ** 2),
                          argnums=(0, 1)))
    print(f"{'image':>10} {'kernel':>6} {'fg.jit us':>10} {'convolve2d us':>14} "
          f"{'convolve us':>12} {'speed-up':>9} {'fg grad us':>11}")
    for image_shape, kernel_shape in CASES:
        x, w = rng.normal(size=image_shape), rng.normal(size=kernel_shape)
        np.testing.assert_allclose(convolve(x, w), scipy.signal.convolve2d(x, w, "same"),
                                   atol=1e-10)
        ours = best_us(convolve, x, w, repeats=repeats)
        theirs = best_us(scipy.signal.convolve2d, x, w, "same", repeats=repeats)
        auto = best_us(scipy.signal.convolve, x, w, "same", repeats=repeats)
        backward = best_us(grad, x, w, repeats=repeats)
        print(f"{'x'.join(map(str, image_shape)):>10} {'x'.join(map(str, kernel_shape)):>6} "
              f"{ours:10.0f} {theirs:14.0f} {auto:12.0f} {theirs / ours:8.1f}x {backward:11.0f}")


if __name__ == "__main__":
    main("--quick" in sys.argv[1:])
