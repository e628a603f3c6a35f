"""Griffe extension for the API reference: funcgrad's docstrings head their doctests with
``Example:`` (one example), which the Google-style parser would render as an admonition of
prose, turning ``>>>`` into nested quotes. Renaming the header to ``Examples:`` makes it an
examples section, whose ``>>>`` lines are shown as Python code."""

from __future__ import annotations

import re

import griffe

_HEADER = re.compile(r"^(\s*)Example:\s*$", re.MULTILINE)


class DoctestExamples(griffe.Extension):
    def on_instance(self, *, node, obj, agent, **kwargs) -> None:
        docstring = obj.docstring
        if docstring is not None and "Example:" in docstring.value:
            docstring.value = _HEADER.sub(r"\1Examples:", docstring.value)
