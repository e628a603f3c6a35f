"""Griffe extension for the API reference: functions that a module makes when it is imported,
with a factory (``exp = _ufunc(ew.exp_p, ...)`` in funcgrad/numpy/_ufuncs.py,
``argmax = _arg_reduction(...)``), are only assignments to static analysis, shown as
"module-attribute ``exp = _ufunc(...)``" without a docstring. This replaces each such
attribute by the function it is at run time: its signature (``inspect.signature``, which
honours ``__signature__``) and its docstring.

Only module attributes whose live value is a Python function of the same ``__name__`` are
replaced; another name for a function (``abs = absolute``) stays an attribute, and the
reference lists it as an alias (docs/hooks.py).
"""

from __future__ import annotations

import importlib
import inspect

import griffe


class RuntimeFunctions(griffe.Extension):
    def on_attribute_instance(self, *, node, attr, agent, **kwargs) -> None:
        parent = attr.parent
        if parent is None or not parent.is_module:
            return
        try:
            live = getattr(importlib.import_module(parent.path), attr.name)
        except Exception:  # noqa: BLE001  (an optional dependency is missing: leave it)
            return
        if not inspect.isfunction(live) or live.__name__ != attr.name:
            return
        func = griffe.Function(attr.name, parameters=_parameters(live), lineno=attr.lineno,
                               endlineno=attr.endlineno)
        doc = inspect.getdoc(live)
        if doc:
            template = parent.docstring  # the parser that mkdocstrings configured
            func.docstring = griffe.Docstring(
                doc, lineno=attr.lineno, parent=func,
                parser=template.parser if template else None,
                parser_options=template.parser_options if template else None)
        parent.set_member(attr.name, func)
        # as for any function griffe finds: other extensions (DoctestExamples) see it too
        agent.extensions.call("on_instance", node=node, obj=func, agent=agent)


def _parameters(fn) -> griffe.Parameters:
    out = []
    for p in inspect.signature(fn).parameters.values():
        default = None if p.default is p.empty else repr(p.default)
        out.append(griffe.Parameter(p.name, kind=griffe.ParameterKind(p.kind.description),
                                    default=default))
    return griffe.Parameters(*out)
