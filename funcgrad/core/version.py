"""funcgrad's version, in one place (the disk cache keys compiled code by it)."""

__version__ = "0.1.0"
