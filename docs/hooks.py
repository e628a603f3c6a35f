"""MkDocs hook: the API reference lists every public name of funcgrad's modules, found by
importing them when the site is built, so a name added to the library appears in the
reference without anyone editing the docs.

A page asks for a module's reference with a line ``<!-- api: funcgrad.numpy -->``. Each
public name becomes a section: functions and classes through mkdocstrings (from their
docstrings, with signatures), and the names that mkdocstrings cannot see statically
(funcgrad.numpy's elementwise functions are primitive objects, constants are NumPy's) a
short entry generated from the live object. Every section's HTML id is ``module.name``;
tests/test_docs.py checks that each public name has one.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import inspect
import re

# Names in these modules that are public by spelling but are helpers of funcgrad's own
# transforms, not part of the user API (each should become private; listed, not hidden).
INTERNAL = {
    "funcgrad.tree": {"FunctionArgs", "argument_names", "check_outputs", "name_of",
                      "normalize_argnums"},
}
# Modules whose re-exported funcgrad helpers are not theirs to document: only what they
# define (nn imports erf and logistic for its own use; funcgrad.scipy.special documents its
# own erf).
OWN_ONLY = {"funcgrad.nn", "funcgrad.scipy.special", "funcgrad.tree"}
EXTRA = {"funcgrad.tree": ["PyTreeDef"]}

NUMPY_DOCS = "https://numpy.org/doc/stable/reference/generated/numpy.{}.html"

_DIRECTIVE = re.compile(r"^<!-- api: ([\w.]+) -->$", re.MULTILINE)


def _is_typing(obj) -> bool:
    return getattr(obj, "__module__", None) in ("typing", "typing_extensions",
                                                "collections.abc", "abc")


def public_names(module_name: str) -> list[str]:
    """The public names of a module, as the reference documents them."""
    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        names = list(module.__all__)
    else:
        names = [n for n in dir(module) if not n.startswith("_")]
    out = []
    for name in names:
        try:
            obj = getattr(module, name)
        except ImportError:  # a lazily imported submodule whose optional dependency is
            out.append(name)  # missing: mkdocstrings reads its source without importing it
            continue
        if name in INTERNAL.get(module_name, ()):
            continue
        if inspect.ismodule(obj) and not hasattr(module, "__all__"):
            continue  # submodules have pages of their own
        if _is_typing(obj):
            continue
        if module_name in OWN_ONLY and getattr(obj, "__module__", None) != module_name \
                and name not in EXTRA.get(module_name, ()):
            continue
        out.append(name)
    return out


def _primitive(obj):
    from funcgrad.core.primitive import Primitive
    return isinstance(obj, Primitive)


def _group(module_name: str, name: str, obj) -> str:
    if module_name == "funcgrad":
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            return "Errors"
        where = getattr(obj, "__module__", "") or ""
        if where.startswith("funcgrad.transforms") or name == "stop_gradient":
            return "Differentiation"
        if where.startswith("funcgrad.compile"):
            return "Compilation"
        return "Programs"
    if module_name == "funcgrad.numpy":
        if _primitive(obj):
            return "Elementwise" if obj.elementwise else "Other"
        where = getattr(obj, "__module__", "") or ""
        for part, group in (("_ufuncs", "Elementwise"), ("elementwise", "Elementwise"),
                            ("_reductions", "Reductions"), ("_linalg", "Linear algebra"),
                            ("_einsum", "Linear algebra"), ("_shape", "Shapes"),
                            ("_creation", "Creation"), ("_indexing", "Indexing and updates")):
            if where.endswith(part):
                return group
        return "Constants, dtypes and NumPy's own names"
    return ""


GROUP_ORDER = ["Programs", "Differentiation", "Compilation", "Errors", "Elementwise",
               "Reductions", "Linear algebra", "Shapes", "Creation", "Indexing and updates",
               "Other", "Constants, dtypes and NumPy's own names", ""]


def _summary(module_name, name, obj) -> str:
    if _primitive(obj):
        return _primitive_text(name, obj).split(". ")[0] + "."
    if isinstance(obj, importlib.machinery.ModuleSpec):  # not importable here: read it
        import ast
        with open(obj.origin) as f:
            doc = ast.get_docstring(ast.parse(f.read())) or ""
        return doc.strip().split("\n\n")[0].replace("\n", " ") or "(no docstring)"
    if _mkdocstrings_can_render(module_name, name, obj):
        doc = inspect.getdoc(obj) or ""
        first = doc.strip().split("\n\n")[0].replace("\n", " ")
        return first or "(no docstring)"
    return _plain_text(module_name, name, obj)


def _mkdocstrings_can_render(module_name, name, obj) -> bool:
    if inspect.ismodule(obj) or isinstance(obj, importlib.machinery.ModuleSpec):
        return True
    if not (inspect.isfunction(obj) or inspect.isclass(obj)):
        return False
    if not (getattr(obj, "__module__", "") or "").startswith("funcgrad"):
        return False
    return getattr(obj, "__name__", name) == name  # an alias (around = round) is listed


def _primitive_text(name, obj) -> str:
    ufunc = obj.impl
    nin = getattr(ufunc, "nin", 1)
    args = "x" if nin == 1 else ", ".join(f"x{i + 1}" for i in range(nin))
    numpy_name = getattr(ufunc, "__name__", name)
    derivative = ("differentiable" if obj.differentiable else
                  "zero derivative (its result is integer, boolean or piecewise constant)")
    return (f"`{name}({args})`: elementwise, like [`numpy.{numpy_name}`]"
            f"({NUMPY_DOCS.format(numpy_name)}), with NumPy's broadcasting and type "
            f"promotion (NEP 50). The primitive `{obj.name}` in the IR; {derivative}.")


def _plain_text(module_name, name, obj) -> str:
    module = importlib.import_module(module_name)
    canonical = getattr(obj, "__name__", None)
    if canonical and canonical != name and getattr(module, canonical, None) is obj:
        return f"Another name for [`{canonical}`](#{module_name}.{canonical})."
    if _primitive(obj):
        return _primitive_text(name, obj)
    if isinstance(obj, type) or callable(obj):
        where = getattr(obj, "__module__", None) or "numpy"
        return f"`{where}.{getattr(obj, '__qualname__', name)}`, re-exported for convenience."
    return f"`{obj!r}`, NumPy's `numpy.{name}`." if obj is not None else \
        "`None`: NumPy's `numpy.newaxis`, for indexing (`x[:, fnp.newaxis]`)."


def _get(module, name):
    """The module's attribute; a lazily imported submodule that cannot be imported (its
    optional dependency is missing) stands for itself as its name."""
    try:
        return getattr(module, name)
    except ImportError:
        return importlib.util.find_spec(f"{module.__name__}.{name}")


def render(module_name: str) -> str:
    module = importlib.import_module(module_name)
    names = public_names(module_name)
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(_group(module_name, name, _get(module, name)), []).append(name)
    ordered = sorted(groups, key=GROUP_ORDER.index)

    lines = [f"::: {module_name}", "    options:", "      members: false",
             "      show_root_heading: false", ""]
    lines += ["| name | what it is |", "| --- | --- |"]
    for group in ordered:
        for name in groups[group]:
            text = _summary(module_name, name, _get(module, name)).replace("|", "\\|")
            lines.append(f"| [`{name}`](#{module_name}.{name}) | {text} |")
    lines.append("")
    for group in ordered:
        if group:
            lines += [f"## {group}", ""]
        level = 3 if group else 2
        for name in groups[group]:
            obj = _get(module, name)
            if _mkdocstrings_can_render(module_name, name, obj):
                lines += [f"::: {module_name}.{name}", "    options:",
                          f"      heading_level: {level}", ""]
            else:
                lines += [f"{'#' * level} `{name}` {{ #{module_name}.{name} }}", "",
                          _plain_text(module_name, name, obj), ""]
    return "\n".join(lines)


def on_config(config):
    """Import funcgrad from this checkout, installed or not (as mkdocstrings reads it)."""
    import os
    import sys
    root = os.path.dirname(os.path.abspath(config.config_file_path))
    if root not in sys.path:
        sys.path.insert(0, root)
    return config


def on_page_markdown(markdown: str, page, config, files) -> str:
    return _DIRECTIVE.sub(lambda m: render(m.group(1)), markdown)
