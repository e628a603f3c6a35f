"""funcgrad's version, in one place (the disk cache keys compiled code by it)."""

__version__ = "0.1.0"


def check_version(pickled_by: str, what: str) -> None:
    """Refuse what another funcgrad version pickled: programs, rules and compiled code may
    differ between versions, and a silent mismatch could compute something else."""
    if pickled_by != __version__:
        from funcgrad.core.errors import FuncgradError
        raise FuncgradError(f"this {what} was pickled by funcgrad {pickled_by}, but this process "
                            f"runs funcgrad {__version__}: install the same version on every "
                            "process (every Dask worker) that exchanges funcgrad objects")
