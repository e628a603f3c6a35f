"""The package's layers import one way: each module imports only from its own layer and the
layers below it, read from the source (imports inside functions included).

    core (and tree) -> rules -> ops -> numpy, nn, scipy -> transforms | compile -> control
    -> api -> testing -> funcgrad/__init__.py

transforms and compile are peers: neither imports the other.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "funcgrad"

LAYERS = [
    ("core", ["funcgrad.core", "funcgrad.tree", "funcgrad.dtypes"]),
    ("rules", ["funcgrad.rules"]),
    ("ops", ["funcgrad.ops"]),
    ("numpy", ["funcgrad.numpy", "funcgrad.nn", "funcgrad.scipy", "funcgrad.random",
               "funcgrad.optim", "funcgrad.nn_init", "funcgrad.flatten_util",
               "funcgrad.debug"]),
    ("transforms", ["funcgrad.transforms"]),
    ("compile", ["funcgrad.compile"]),
    ("control", ["funcgrad.control"]),
    ("api", ["funcgrad.api", "funcgrad.lax", "funcgrad.parallel", "funcgrad.cache",
             "funcgrad.integrate"]),
    ("testing", ["funcgrad.testing"]),
    ("package", ["funcgrad"]),  # funcgrad/__init__.py: the public names of every layer
]
RANK = {"core": 0, "rules": 1, "ops": 2, "numpy": 3, "transforms": 4, "compile": 4,
        "control": 5, "api": 6, "testing": 7, "package": 8}


def layer_of(module: str) -> str:
    best = None
    for name, prefixes in LAYERS:
        for prefix in prefixes:
            # funcgrad/__init__.py alone is the package layer: a new module must be placed
            if module == prefix or (prefix != "funcgrad" and module.startswith(prefix + ".")):
                if best is None or len(prefix) > len(best[1]):
                    best = (name, prefix)
    assert best is not None, module
    return best[0]


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: pathlib.Path):
    """(imported funcgrad module, line) for every import in the file."""
    tree = ast.parse(path.read_text())
    package = module_name(path) if path.name == "__init__.py" else \
        module_name(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("funcgrad"):
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                parent = parent[:len(parent) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            if base.startswith("funcgrad"):
                for alias in node.names:  # `from funcgrad import numpy` imports a module
                    sub = f"{base}.{alias.name}"
                    yield (sub if (ROOT.parent / (sub.replace(".", "/") + ".py")).exists()
                           or (ROOT.parent / sub.replace(".", "/")).is_dir() else base), \
                        node.lineno


# The one deliberate upward import, made when called: NumPy's functions of functions
# (vectorize, apply_along_axis, apply_over_axes) are vmap, as jnp.vectorize is jax.vmap.
ALLOWED_UPWARD = {("funcgrad.numpy._functional", "funcgrad.api.batching")}


def upward_imports():
    bad = []
    for path in sorted(ROOT.rglob("*.py")):
        here = module_name(path)
        mine = layer_of(here)
        for target, line in imports(path):
            theirs = layer_of(target)
            if (here, target) in ALLOWED_UPWARD:
                continue
            if RANK[theirs] > RANK[mine] or (RANK[theirs] == RANK[mine] and theirs != mine):
                bad.append(f"{here}:{line} ({mine}) imports {target} ({theirs})")
    return bad


def test_layers_import_one_way():
    bad = upward_imports()
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


@pytest.mark.parametrize("module,layer", [("funcgrad.core.ir", "core"),
                                          ("funcgrad.tree", "core"),
                                          ("funcgrad.rules.lowering", "rules"),
                                          ("funcgrad.nn", "numpy"),
                                          ("funcgrad", "package")])
def test_layer_of(module, layer):
    assert layer_of(module) == layer


def test_every_module_is_in_a_layer():
    for path in ROOT.rglob("*.py"):
        layer_of(module_name(path))
