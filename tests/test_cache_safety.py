"""The disk cache is safe to use (issue 14 item 7): owner-only, refusing what others could
have planted, escaping what it copies from user code, falling back to compiling in memory,
independent of comments, bounded in size, and clearable."""

import os
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import funcgrad as fg
import funcgrad.numpy as fnp
from funcgrad.compile import disk_cache

SOURCE = "def program(x, ints, floats):\n    return x + 1.0\n"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A fresh cache directory (not yet made), and a process that has loaded nothing."""
    root = tmp_path / "cache"
    monkeypatch.setenv("FUNCGRAD_CACHE_DIR", str(root))
    monkeypatch.setattr(disk_cache, "_loaded", {})
    monkeypatch.setattr(disk_cache, "_directories", {})
    monkeypatch.setattr(disk_cache, "_warned", set())
    return root


def _load_quietly():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        program = disk_cache.load(SOURCE)
    # its Python version: the module loaded is this one, without waiting for Numba
    assert program.py_func(np.ones(2), None, None).tolist() == [2.0, 2.0]
    return [str(w.message) for w in caught]


def test_new_cache_directories_are_owner_only(cache):
    assert _load_quietly() == []
    for path in (cache, *cache.iterdir()):
        if path.is_dir():
            assert path.stat().st_mode & 0o777 == 0o700, path
    assert list(cache.glob("*/fg_*.py"))


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_a_directory_others_may_write_is_refused(cache, mode):
    cache.mkdir()
    cache.chmod(mode)
    before = disk_cache.stats["uncached_compilations"]
    messages = _load_quietly()
    assert len(messages) == 1 and "may be written by other users" in messages[0]
    assert disk_cache.stats["uncached_compilations"] == before + 1
    assert not list(cache.glob("*/fg_*.py"))  # nothing written into it
    disk_cache._loaded.clear()
    assert _load_quietly() == []  # one warning per directory


def test_a_planted_module_others_may_write_is_not_loaded(cache):
    _load_quietly()
    (module,) = cache.glob("*/fg_*.py")
    module.write_text(module.read_text() + "\nimport os; os.environ['FG_PLANTED'] = '1'\n")
    module.chmod(0o666)
    disk_cache._loaded.clear()
    messages = _load_quietly()
    assert "FG_PLANTED" not in os.environ
    assert len(messages) == 1 and str(module) in messages[0]


def test_a_planted_module_of_the_right_name_but_other_code_is_rewritten(cache):
    _load_quietly()
    (module,) = cache.glob("*/fg_*.py")
    module.write_text(module.read_text() + "\nimport os; os.environ['FG_PLANTED'] = '1'\n")
    disk_cache._loaded.clear()
    assert _load_quietly() == []
    assert "FG_PLANTED" not in os.environ and "FG_PLANTED" not in module.read_text()


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs chown")
def test_files_of_another_user_are_refused(cache):
    _load_quietly()
    (numba_dir,) = cache.glob("*")
    pycache = numba_dir / "__pycache__"
    pycache.mkdir(exist_ok=True)
    planted = pycache / f"{next(cache.glob('*/fg_*.py')).stem}.program-1.py311.nbi"
    planted.write_bytes(b"not a pickle you want")
    os.chown(planted, 12345, 12345)
    disk_cache._loaded.clear()
    messages = _load_quietly()
    assert len(messages) == 1 and "owned by another user" in messages[0]


@pytest.mark.parametrize("make", ["a file", "under a file"])
def test_an_unusable_cache_directory_warns_once_and_compiles_in_memory(cache, monkeypatch, make):
    cache.parent.mkdir(exist_ok=True)
    if make == "a file":
        cache.write_text("not a directory")
    else:
        cache.write_text("x")
        monkeypatch.setenv("FUNCGRAD_CACHE_DIR", str(cache / "sub"))
    messages = _load_quietly()
    assert len(messages) == 1 and "compiling in memory" in messages[0]
    disk_cache._loaded.clear()
    assert _load_quietly() == []


def test_file_names_and_lines_from_user_code_never_become_code():
    name = 'evil\n__import__("os").environ["FG_PLANTED"] = "1"\n\'q.py'
    namespace = {"fnp": fnp}
    exec(compile("def f(x):\n    return fnp.sin(x) * 2.0\n", name, "exec"), namespace)  # noqa: S102
    source = fg.jit(namespace["f"]).lower(np.ones(2)).source
    body = [line for line in source.splitlines() if "FG_PLANTED" in line]
    assert body and all(line.lstrip().startswith("#") for line in body)
    compile(source, "generated", "exec")  # still valid Python


def test_moving_a_function_down_a_line_keeps_its_compiled_code():
    digests, sources = [], []
    for blank_lines in (0, 1):
        namespace = {"fnp": fnp}
        code = "\n" * blank_lines + "def f(x, i):\n    return fnp.sin(x[i]) * 2.0\n"
        exec(compile(code, "moved.py", "exec"), namespace)  # noqa: S102
        source = fg.jit(namespace["f"]).lower(np.ones(3), np.array([0, 2])).source
        sources.append(source)
        digests.append(disk_cache.digest_of(source))
    assert sources[0] != sources[1]  # the comments name the line
    assert digests[0] == digests[1]  # the code, and so the compiled module, is the same


def test_the_least_recently_used_modules_are_evicted(tmp_path, monkeypatch):
    now = time.time()
    for k in range(4):
        digest = f"{k:032x}"
        (tmp_path / f"fg_{digest}.py").write_bytes(b"x" * 400_000)
        (tmp_path / f"fg_{digest}.used").touch()
        os.utime(tmp_path / f"fg_{digest}.used", (now - 100 * (4 - k),) * 2)
    monkeypatch.setenv("FUNCGRAD_CACHE_MAX_MB", "1")  # room for two
    disk_cache._evict(tmp_path, keep=f"{0:032x}")
    left = sorted(p.name[3:35] for p in tmp_path.glob("fg_*.py"))
    assert left == [f"{0:032x}", f"{3:032x}"]  # the newest, and the one just written


def test_cache_info_and_clear(cache, capsys):
    from funcgrad.cache.__main__ import main
    _load_quietly()
    assert fg.cache.info()["modules"] == 1 and fg.cache.info()["bytes"] > 0
    assert main(["info"]) == 0 and str(cache) in capsys.readouterr().out
    assert main(["clear"]) == 0 and "removed 1" in capsys.readouterr().out
    assert fg.cache.info()["modules"] == 0
    assert main(["bogus"]) == 2


def test_cache_command_line_runs(cache):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-m", "funcgrad.cache", "info"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "directory:" in out.stdout and not out.stderr
