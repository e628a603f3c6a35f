"""funcgrad: composable function transformations for NumPy code, compiled with Numba.

Write a pure function with ``funcgrad.numpy``; then ``make_ir`` shows its program,
``grad``/``value_and_grad``/``vjp``/``jacrev`` differentiate it in reverse mode,
``jvp``/``linearize``/``jacfwd`` in forward mode, ``hessian`` in both (the adjoint is a
program too), ``vmap`` batches it over examples, and ``jit`` compiles any of them to one
Numba function.

Example:
    >>> import funcgrad as fg, funcgrad.numpy as fnp
    >>> fg.grad(lambda x: fnp.sum(fnp.tanh(x)))(np.zeros(2))
    array([1., 1.])
"""

from funcgrad.core.version import __version__  # noqa: F401

# Layers, bottom to top (each imports only those below it; tests/test_layers.py checks):
#   core -> rules -> ops -> numpy, nn, scipy -> transforms, compile -> control -> api -> testing
from funcgrad.core.errors import (ConcretizationError, FuncgradError,  # noqa: F401
                                  FuncgradIndexError, FuncgradMemoryError, FuncgradTypeError,
                                  FuncgradValueError, InPlaceUpdateError,
                                  LoweringError, ShapeError, UnboundAxisError,
                                  UnexpectedTracerError)
from funcgrad.core.evaluate import ClosedProgram  # noqa: F401
from funcgrad.core.ir import Program  # noqa: F401
from funcgrad import numpy, nn, scipy, tree  # noqa: F401,E402
from funcgrad import optim, random  # noqa: F401,E402
from funcgrad import flatten_util  # noqa: F401,E402  (ravel_pytree)
from funcgrad import debug  # noqa: F401,E402  (debug.print, debug.callback)
from funcgrad.compile.executable import disable_jit  # noqa: F401
from funcgrad.api.make_ir import ShapeDtypeStruct, eval_shape, evaluate, make_ir  # noqa: F401
from funcgrad.api.autodiff import (grad, jacrev, stop_gradient,  # noqa: F401
                                   value_and_grad, vjp)
from funcgrad.api.forward import float0, hessian, jacfwd, jvp, linearize  # noqa: F401
from funcgrad.control.custom_vjp import custom_vjp  # noqa: F401
from funcgrad.control.custom_jvp import custom_jvp  # noqa: F401
from funcgrad.control.checkpoint import checkpoint, checkpoint_name, remat  # noqa: F401
from funcgrad.control import checkpoint_policies  # noqa: F401,E402  (as jax.checkpoint_policies)
from funcgrad.api.jit import jit  # noqa: F401
from funcgrad.api.batching import vmap  # noqa: F401
from funcgrad.api.pmap import pmap  # noqa: F401
from funcgrad import lax  # noqa: F401,E402  (structured control flow: cond, scan, while_loop)
from funcgrad import cache, parallel, testing  # noqa: F401,E402  (fg.cache, fg.parallel...)
from funcgrad import integrate  # noqa: F401,E402  (odeint, on lax's loops)
from funcgrad import dtypes  # noqa: F401,E402  (fg.dtypes.float0, as jax.dtypes)

# The public API: what the reference documents (docs/hooks.py) and `import *` binds. The
# submodules (funcgrad.numpy, nn, scipy, tree, testing) are public too, as attributes, but not
# listed: `from funcgrad import *` would otherwise bind `numpy` to funcgrad.numpy.
__all__ = [
    # programs
    "make_ir", "evaluate", "Program", "ClosedProgram", "eval_shape", "ShapeDtypeStruct",
    # differentiation
    "grad", "value_and_grad", "vjp", "jacrev", "jvp", "linearize", "jacfwd", "hessian",
    "float0", "stop_gradient", "custom_vjp", "custom_jvp", "checkpoint", "remat",
    "checkpoint_name",
    # batching
    "vmap", "pmap",
    # compilation
    "jit", "disable_jit",
    # errors
    "FuncgradError", "FuncgradTypeError", "FuncgradValueError", "ShapeError",
    "FuncgradIndexError", "FuncgradMemoryError",
    "ConcretizationError", "UnexpectedTracerError", "InPlaceUpdateError", "LoweringError",
    "UnboundAxisError",
]
