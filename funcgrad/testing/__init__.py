"""Tools for testing gradients (filled in by the reverse-mode work)."""
