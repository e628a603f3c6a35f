"""MkDocs hook: the API reference lists every public name of funcgrad's modules, found by
importing them when the site is built, so a name added to the library appears in the
reference without anyone editing the docs.

A page asks for a module's reference with a line ``<!-- api: funcgrad.numpy -->``. Its public
names are the module's ``__all__``, and each becomes a section. Functions, classes and modules
are rendered by mkdocstrings from their docstrings, with signatures (the functions a module
makes with a factory, as funcgrad.numpy's elementwise ones, through
docs/griffe_runtime_functions.py). Names that are not funcgrad's own (NumPy's constants and
dtypes), and other names for a function (``abs`` for ``absolute``), get a short entry
generated from the live object. Every section's HTML id is ``module.name``;
tests/test_docs.py checks that each public name has one.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import inspect
import re

_DIRECTIVE = re.compile(r"^<!-- api: ([\w.]+) -->$", re.MULTILINE)


def public_names(module_name: str) -> list[str]:
    """The public names of a module, as the reference documents them: its ``__all__``; for a
    module without one, the functions and classes it defines itself."""
    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [name for name, obj in vars(module).items()
            if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == module_name]


def _home(obj) -> str:
    """The module that defines ``obj``: for a function, the one whose code made it (a function
    made by a factory says ``__module__ = "funcgrad.numpy"``, where users find it)."""
    globals_ = getattr(obj, "__globals__", None)
    if globals_ is not None:
        return globals_.get("__name__", "")
    return getattr(obj, "__module__", "") or ""


def _group(module_name: str, name: str, obj) -> str:
    where = _home(obj)
    if module_name == "funcgrad":
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            return "Errors"
        if where.startswith(("funcgrad.transforms", "funcgrad.api.autodiff",
                             "funcgrad.api.forward", "funcgrad.control.custom")) \
                or name == "stop_gradient":
            return "Differentiation"
        if where.startswith("funcgrad.api.batching"):
            return "Batching"
        if where.startswith("funcgrad.compile"):
            return "Compilation"
        return "Programs"
    if module_name == "funcgrad.numpy":
        for part, group in (("_ufuncs", "Elementwise"), ("_reductions", "Reductions"),
                            ("_linalg", "Linear algebra"), ("_einsum", "Linear algebra"),
                            ("_shape", "Shapes"), ("_creation", "Creation"),
                            ("_indexing", "Indexing and updates"),
                            ("_convolve", "Convolutions")):
            if where.endswith(part):
                return group
        return "Constants, dtypes and NumPy's own names"
    return ""


GROUP_ORDER = ["Programs", "Differentiation", "Batching", "Compilation", "Errors",
               "Elementwise", "Reductions", "Linear algebra", "Shapes", "Creation",
               "Indexing and updates", "Convolutions",
               "Constants, dtypes and NumPy's own names", ""]


def _summary(module_name, name, obj) -> str:
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


def _plain_text(module_name, name, obj) -> str:
    if module_name == "funcgrad" and name == "float0":  # a dtype object: no docstring of its own
        return ("The dtype of the tangent of an integer or boolean value, as JAX's `float0`: "
                f"`{obj!r}`. `jvp` gives integer outputs zeros of this dtype.")
    module = importlib.import_module(module_name)
    canonical = getattr(obj, "__name__", None)
    if canonical and canonical != name and getattr(module, canonical, None) is obj:
        return f"Another name for [`{canonical}`](#{module_name}.{canonical})."
    if isinstance(obj, type) or callable(obj):
        where = getattr(obj, "__module__", None) or "numpy"
        return f"`{where}.{getattr(obj, '__qualname__', name)}`, re-exported for convenience."
    return f"`{obj!r}`, NumPy's `numpy.{name}`." if obj is not None else \
        "`None`: NumPy's `numpy.newaxis`, for indexing (`x[:, fnp.newaxis]`)."


def _table_cell(text: str) -> str:
    """``text`` for a cell of a Markdown table: its pipes escaped, except in code spans (where
    the table does not split, and a backslash would show)."""
    parts = re.split(r"(`+[^`]*`+)", text)
    return "".join(part if part.startswith("`") else part.replace("|", "\\|") for part in parts)


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
            text = _table_cell(_summary(module_name, name, _get(module, name)))
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
