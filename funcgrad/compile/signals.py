"""Exceptions generated code raises to tell its caller something (no Numba needed to import
them: funcgrad imports Numba only when it compiles)."""


class LargeTrigArgument(Exception):
    """Raised by generated code whose fused loop met a sine or cosine argument of 2^20 or
    more (vector_math's are exact only below): the program runs again, compiled with the C
    library's sin and cos (compile/emitter.py, compile/executable.py)."""
