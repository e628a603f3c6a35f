"""The documentation runs: every ```python block of docs/*.md and README.md is executed, and
the site builds with ``mkdocs build --strict``.

* The blocks of one page run in order in one namespace, as if saved together in one file,
  named after the page (``backprop.md`` -> ``backprop.py``): that is the file name and line
  numbers funcgrad's IR listings and generated code show for them.
* A block preceded by ``<!-- skip-test -->`` is not run (used sparingly, for commands that
  cannot run here).
* A ```text block preceded by ``<!-- output -->`` is what the python block before it prints,
  and must stay so. After a deliberate change of funcgrad's output, rewrite those blocks with
  ``FUNCGRAD_UPDATE_DOCS=1 python -m pytest tests/test_docs.py`` and review the diff.
* A page that shows ``funcgrad.testing`` (written in parallel) is skipped, loudly, when this
  checkout lacks it; any other missing dependency fails.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import linecache
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from funcgrad.core.rules import REGISTRY, TABLES, forget

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]
PRINT_OPTIONS = np.get_printoptions()  # every page starts with NumPy's defaults
UPDATE = os.environ.get("FUNCGRAD_UPDATE_DOCS", "") not in ("", "0")

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+)(?P<lang>[\w+-]*)[^\n]*$")
MARKER = re.compile(r"^\s*<!--\s*(?P<name>skip-test|output|requires:\s*[\w.]+)\s*-->\s*$")


@dataclass
class Block:
    lang: str
    code: str
    start: int          # index of the first code line in the page's lines
    end: int            # index of the closing fence
    markers: list[str]


def blocks_of(text: str) -> list[Block]:
    lines = text.split("\n")
    out, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang = m["indent"], m["fence"], m["lang"]
        j = i + 1
        while j < len(lines) and not (lines[j].strip() == fence
                                      and lines[j].startswith(indent)):
            j += 1
        markers, k = [], i - 1
        while k >= 0 and (not lines[k].strip() or MARKER.match(lines[k])):
            if lines[k].strip():
                markers.append(MARKER.match(lines[k])["name"])
            k -= 1
        code = "\n".join(line[len(indent):] if line.startswith(indent) else line.lstrip()
                         for line in lines[i + 1:j])
        out.append(Block(lang, code, i + 1, j, markers))
        i = j + 1
    return out


def page_requirements(text: str) -> list[str]:
    return [m.split(":", 1)[1].strip() for m in re.findall(r"<!--\s*(requires:\s*[\w.]+)\s*-->",
                                                           text)]


def _missing(requirement: str) -> bool:
    module, _, attr = requirement.rpartition(".")
    try:
        return not hasattr(importlib.import_module(module), attr)
    except ImportError:
        return True


def run_page(path: Path) -> list[tuple[Block, str]]:
    """Run the page's python blocks; return each ```text output block with what its
    python block printed."""
    text = path.read_text()
    blocks = blocks_of(text)
    virtual = f"{path.stem.replace('-', '_').lower()}.py"
    python = [b for b in blocks if b.lang in ("python", "py") and "skip-test" not in b.markers]
    source = "\n".join(b.code for b in python) + "\n"
    linecache.cache[virtual] = (len(source), None, source.splitlines(True), virtual)
    namespace = {"__name__": "__docs__"}
    primitives, tables = set(REGISTRY), set(TABLES)
    try:
        with np.printoptions(**PRINT_OPTIONS):
            return _run_blocks(path, blocks, python, virtual, namespace)
    finally:  # a page may declare a toy primitive or table: the registry tests must not see it
        for name in set(REGISTRY) - primitives:
            forget(REGISTRY[name])
        for name in set(TABLES) - tables:
            del TABLES[name]


def _run_blocks(path, blocks, python, virtual, namespace):
    results, printed, offset = [], None, 0
    for block in blocks:
        if any(block is b for b in python):
            buffer = io.StringIO()
            code = compile("\n" * offset + block.code, virtual, "exec")
            try:
                with contextlib.redirect_stdout(buffer):
                    exec(code, namespace)
            except Exception as err:
                raise AssertionError(
                    f"{path.name}: the python block at line {block.start} failed: "
                    f"{type(err).__name__}: {err}\n{buffer.getvalue()}") from err
            offset += block.code.count("\n") + 1
            printed = buffer.getvalue()
        elif "output" in block.markers:
            assert printed is not None, f"{path.name}:{block.start}: output before any code"
            results.append((block, printed))
            printed = None
    return results


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


def _rewrite(path: Path, results):
    lines = path.read_text().split("\n")
    for block, printed in sorted(results, key=lambda r: -r[0].start):
        indent = re.match(r"[ \t]*", lines[block.start - 1])[0]
        new = [indent + line if line else line for line in _normal(printed).split("\n")]
        lines[block.start:block.end] = new
    path.write_text("\n".join(lines))


@pytest.mark.parametrize("path", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_code_blocks_run_and_print_what_the_page_shows(path):
    missing = [r for r in page_requirements(path.read_text()) if _missing(r)]
    if missing:
        pytest.skip(f"NOT TESTED: {path.relative_to(ROOT)} shows {', '.join(missing)}, which "
                    "this checkout of funcgrad does not have yet")
    results = run_page(path)
    if UPDATE:
        _rewrite(path, results)
        return
    for block, printed in results:
        assert _normal(printed) == _normal(block.code), (
            f"{path.name}, the output block at line {block.start} no longer matches what the "
            f"code before it prints. It printed:\n{printed}\n(rewrite the page's output "
            "blocks with FUNCGRAD_UPDATE_DOCS=1 if the change is intended)")


def test_every_page_has_code_or_is_reference():
    """Guard the runner itself: it finds the blocks of the pages that have them."""
    counts = {p.name: sum(b.lang == "python" for b in blocks_of(p.read_text())) for p in PAGES}
    for name in ("README.md", "index.md", "quickstart.md", "backprop.md", "sharp-bits.md",
                 "how-it-works.md"):
        assert counts[name] > 0, counts


def _hooks():
    spec = importlib.util.spec_from_file_location("funcgrad_docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


API_PAGES = {"funcgrad": "funcgrad", "funcgrad.numpy": "numpy", "funcgrad.lax": "lax",
             "funcgrad.nn": "nn",
             "funcgrad.scipy.special": "scipy-special", "funcgrad.scipy.stats": "scipy-stats",
             "funcgrad.tree": "tree", "funcgrad.testing": "testing",
             "funcgrad.compile": "compile", "funcgrad.parallel": "parallel",
             "funcgrad.random": "random", "funcgrad.optim": "optim",
             "funcgrad.nn_init": "nn-initializers",
             "funcgrad.numpy.linalg": "numpy-linalg", "funcgrad.scipy.linalg": "scipy-linalg",
             "funcgrad.flatten_util": "flatten-util", "funcgrad.scipy.signal": "scipy-signal",
             "funcgrad.integrate": "integrate", "funcgrad.debug": "debug"}
API_PAGES.update({f"funcgrad.scipy.stats.{name}": "scipy-stats" for name in [
    "norm", "multivariate_normal", "t", "gamma", "beta", "dirichlet", "poisson", "bernoulli",
    "binom", "expon", "laplace", "logistic", "cauchy", "uniform", "chi2"]})


def test_mkdocs_build_strict_documents_every_public_name(tmp_path):
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(tmp_path / "site")], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    hooks = _hooks()
    for module, page in API_PAGES.items():
        html = (tmp_path / "site" / "api" / page / "index.html").read_text()
        names = hooks.public_names(module)
        missing = [n for n in names if f'id="{module}.{n}"' not in html]
        assert not missing, f"the API reference of {module} lacks {missing}"
    core = hooks.public_names("funcgrad")
    for name in ("make_ir", "grad", "value_and_grad", "vjp", "jacrev", "hessian", "jit",
                 "disable_jit", "stop_gradient"):
        assert name in core
    assert len(hooks.public_names("funcgrad.numpy")) > 150
