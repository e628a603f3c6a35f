"""Lines of a test file marked ``# <- name``: where an error message must say the user's code
is (``file.py:N``, as funcgrad's errors name it)."""

from pathlib import Path


def line_of(test_file: str, marker: str) -> str:
    """``name.py:N`` of the one line of ``test_file`` ending in ``# <- marker``."""
    path = Path(test_file)
    hits = [n for n, text in enumerate(path.read_text().splitlines(), 1)
            if text.rstrip().endswith(f"# <- {marker}")]
    assert len(hits) == 1, (marker, hits)
    return f"{path.name}:{hits[0]}"
