"""Lowering Programs to Numba: lowering kinds (lowering.py), code generation (codegen.py),
the disk cache (cache.py) and jit (jit.py). Imports nothing here, so that primitives can
declare their lowerings without loading Numba."""
