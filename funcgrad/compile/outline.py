"""Code that repeats, written once: each kind of piece an unrolled Python loop generates
many copies of becomes a function of its own, called where the copies were.

A Python loop traced under ``jit`` unrolls: an RNN's 50 steps are 50 copies of the same
loop groups, forward and backward, differing only in the names of the arrays they read and
write. Numba types, lowers and LLVM optimises every copy, and its passes grow faster than
linearly with a function's size: the 50-step RNN's gradient took 8 s to compile, 4 of them
in Numba's Python. Here a top-level piece of the generated function (what one item of the
schedule wrote: a loop group, a product) that occurs ``MIN_REPEATS`` times or more, or a
sequence of pieces repeating that often in a row (a step: a product, then the loop group
it feeds), is written once, as ``_repeated_k(...)`` in the same module, and each copy
becomes a call of it: Numba compiles it once per argument types, and the calls cost
nanoseconds.

A piece is written once only when that is plainly the same code: it is parsed, its own
locals and the function's values it reads are renamed in the order they occur, and the
pieces whose renamed code and outputs are equal share one function. A piece's arguments
are the values it reads that the function computed before it; its results are the values
it assigns that later code reads. Pieces with anything but assignments, ``for`` loops over
``range`` and calls (a ``while``, an ``if``, a ``raise``) stay where they are.
"""

from __future__ import annotations

import ast
import functools
import keyword
import os
import re
from typing import NamedTuple

# Fewer copies than this are left as they are: each function of its own costs Numba's
# pipeline once (some tens of milliseconds), about what a few copies of a loop group cost.
MIN_REPEATS = int(os.environ.get("FUNCGRAD_OUTLINE_MIN_REPEATS", "4"))
# Compiled into the function that calls them, once per argument types (as scalar_math's
# routines): a call of a separate dispatcher would make the caller uncacheable under
# NUMBA_OPT=0 (a "dynamic global"), as the test suite compiles.
IMPORT = "from numba.extending import register_jitable  # noqa: E402"


class Outlined(NamedTuple):
    body: list[str]            # the function's body lines, copies replaced by calls
    line_sources: dict         # 1-based line in ``body`` -> the user's Source
    functions: list[str]       # the lines of the functions written once (after the body)
    function_sources: dict     # 1-based line in ``functions`` -> the user's Source


class _Piece(NamedTuple):
    start: int                 # its lines in the body: [start, stop)
    stop: int
    comments: int              # its leading comment lines (they stay in the body)
    code: str                  # its statements, dedented, without comment lines
    plain: bool                # whether it may be outlined (see _plain)
    loads: frozenset           # names it reads
    stores: frozenset          # names it assigns
    indices: frozenset         # its loop indices


def outline(params: list[str], head: list[str], body: list[str],
            pieces: list[tuple[int, int]], line_sources: dict) -> Outlined:
    """``body`` (lines indented by 4) with the copies among ``pieces`` (line ranges, each one
    schedule item's code) replaced by calls; ``params`` and ``head`` (lines indented by 4:
    the tables read, the header) define names before the body."""
    unchanged = Outlined(body, line_sources, [], {})
    if not _may_repeat(body, pieces):
        return unchanged  # (most programs: nothing parsed)
    try:
        before = set(params) | _names(ast.parse("\n".join(h[4:] for h in head)))[1]
        parsed = [_parse(body, start, stop) for start, stop in pieces]
        parsed = _runs(parsed, _keys(parsed, body, before))
        keys = _keys(parsed, body, before)
    except SyntaxError:  # (a piece is not whole statements: leave everything in place)
        return unchanged
    counts: dict = {}
    for key in keys:
        if key is not None:
            counts[key[0]] = counts.get(key[0], 0) + 1
    functions: dict = {}       # a piece's shape (canonical code, parameters, results) -> name
    new_body: list[str] = []
    sources: dict = {}
    function_lines: list[str] = []
    function_sources: dict = {}
    position = 0
    for piece, key in zip(parsed, keys):
        _copy(body, line_sources, position, piece.start, new_body, sources)
        position = piece.stop
        if key is None or counts[key[0]] < MIN_REPEATS:
            _copy(body, line_sources, piece.start, piece.stop, new_body, sources)
            continue
        shape, arguments, results = key
        source = next((line_sources[n + 1] for n in range(piece.start, piece.stop)
                       if n + 1 in line_sources), None)
        name = functions.get(shape)
        if name is None:
            if not functions:
                function_lines += ["", "", IMPORT]
            name = functions[shape] = f"_repeated_{len(functions)}"
            first = len(function_lines)
            function_lines += _function(name, shape)
            if source is not None:
                function_sources.update((n, source) for n in
                                        range(first + 1, len(function_lines) + 1))
        _copy(body, line_sources, piece.start, piece.start + piece.comments, new_body,
              sources)
        call = f"{name}({', '.join(arguments)})"
        new_body.append("    " + (f"{', '.join(results)} = {call}" if results else call))
        if source is not None:
            sources[len(new_body)] = source
    _copy(body, line_sources, position, len(body), new_body, sources)
    return Outlined(new_body, sources, function_lines, function_sources)


def _keys(parsed: list[_Piece], body: list[str], before: set) -> list:
    """Each piece's ``_key`` (None: it stays as it is)."""
    keys = []
    defined = set(before)
    for piece, later in zip(parsed, _needed_later(parsed, body)):
        keys.append(_key(piece, defined, later))
        defined |= piece.stores
    return keys


# The longest sequence of pieces that repeats as a unit (an unrolled loop's body: a product,
# then a loop group) looked for
_MAX_PERIOD = 8


def _runs(parsed: list[_Piece], keys: list) -> list[_Piece]:
    """The pieces, consecutive ones merged where a sequence of them repeats ``MIN_REPEATS``
    times or more in a row (one call per step of an unrolled loop, not one per piece: each
    call site is code for Numba and LLVM too)."""
    shapes = [None if k is None else k[0] for k in keys]
    merged, i = [], 0
    while i < len(parsed):
        best = (1, 1)  # (period, repeats)
        for period in range(2, _MAX_PERIOD + 1):
            unit = shapes[i:i + period]
            if len(unit) < period or None in unit:
                break
            repeats = 1
            while shapes[i + repeats * period:i + (repeats + 1) * period] == unit:
                repeats += 1
            if repeats >= MIN_REPEATS and period * repeats > best[0] * best[1]:
                best = (period, repeats)
        period, repeats = best
        merged += [_merge(parsed[i + k * period:i + (k + 1) * period]) for k in range(repeats)]
        i += period * repeats
    return merged


def _merge(pieces: list[_Piece]) -> _Piece:
    if len(pieces) == 1:
        return pieces[0]
    first = pieces[0]
    return _Piece(first.start, pieces[-1].stop, first.comments,
                  "\n".join(p.code for p in pieces), all(p.plain for p in pieces),
                  frozenset().union(*(p.loads for p in pieces)),
                  frozenset().union(*(p.stores for p in pieces)),
                  frozenset().union(*(p.indices for p in pieces)))


def _copy(body, line_sources, start, stop, new_body, sources):
    for n in range(start, stop):
        new_body.append(body[n])
        if n + 1 in line_sources:
            sources[len(new_body)] = line_sources[n + 1]


def _may_repeat(body: list[str], pieces: list[tuple[int, int]]) -> bool:
    """Whether some piece's code, every name written as ``x``, occurs ``MIN_REPEATS`` times
    (a cheap test that equal shapes need)."""
    counts: dict[str, int] = {}
    for start, stop in pieces:
        code = _NAME.sub("x", "\n".join(line for line in body[start:stop]
                                          if not line.lstrip().startswith("#")))
        counts[code] = counts.get(code, 0) + 1
        if counts[code] >= MIN_REPEATS:
            return True
    return False


_NAME = re.compile(r"[A-Za-z_]\w*")


def _parse(body: list[str], start: int, stop: int) -> _Piece:
    lines = body[start:stop]
    comments = 0
    while comments < len(lines) and lines[comments].lstrip().startswith("#"):
        comments += 1
    code = "\n".join(line[4:] for line in lines[comments:]
                     if not line.lstrip().startswith("#"))
    names = _IDENTIFIER.findall(code)
    roles, plain = _roles(_IDENTIFIER.sub(_abstract, code))
    loads = frozenset(n for n, role in zip(names, roles) if role == "load")
    stores = frozenset(n for n, role in zip(names, roles) if role in ("store", "index"))
    indices = frozenset(n for n, role in zip(names, roles) if role == "index")
    return _Piece(start, stop, comments, code, plain, loads, stores, indices)


def _abstract(match) -> str:
    """A name as ``x``; a keyword as itself (the code's grammar is then the same), and
    ``range`` (``_plain`` reads it)."""
    word = match.group()
    return word if word == "range" or keyword.iskeyword(word) else "x"


@functools.lru_cache(maxsize=4096)
def _roles(shape: str) -> tuple[tuple, bool]:
    """For code with its names written as ``x`` (``_abstract``: the copies an unrolled loop
    makes differ only in their names, and are parsed once): the role of each identifier in
    order, ``"load"``, ``"store"``, ``"index"`` (a loop's) or None (a keyword, a keyword
    argument's name); and whether the code may be outlined (see ``_plain``)."""
    tree = ast.parse(shape)
    starts = [0]
    for line in shape.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    occurrence = {m.start(): k for k, m in enumerate(_IDENTIFIER.finditer(shape))}
    roles: list = [None] * len(occurrence)
    indices: set = set()
    plain = bool(tree.body) and "'" not in shape and '"' not in shape  # (names only: _key)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            k = occurrence[starts[node.lineno - 1] + node.col_offset]
            roles[k] = "store" if isinstance(node.ctx, ast.Store) else "load"
        elif isinstance(node, ast.stmt) and not _plain(node, indices):
            plain = False
        elif isinstance(node, (ast.Lambda, ast.comprehension, ast.NamedExpr)):
            plain = False
    for node in indices:
        roles[occurrence[starts[node.lineno - 1] + node.col_offset]] = "index"
    return tuple(roles), plain


def _plain(statement: ast.stmt, indices: set) -> bool:
    """Only assignments, calls and ``for`` loops over ``range`` (nothing whose meaning a
    function boundary could change); a loop's index (its Name node) is added to ``indices``."""
    if isinstance(statement, ast.For):
        it = statement.iter
        if not (isinstance(statement.target, ast.Name) and isinstance(it, ast.Call)
                and isinstance(it.func, ast.Name) and it.func.id == "range"
                and not statement.orelse):
            return False
        indices.add(statement.target)
        return True
    return isinstance(statement, (ast.Assign, ast.AugAssign, ast.Expr))


def _names(tree) -> tuple[set, set]:
    """The names ``tree`` reads and those it assigns."""
    loads: set[str] = set()
    stores: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (stores if isinstance(node.ctx, ast.Store) else loads).add(node.id)
    return loads, stores


def _needed_later(parsed: list[_Piece], body: list[str]) -> list[set]:
    """For each piece, the names that code after it reads without assigning them first (a
    piece's own loop temporaries are assigned before they are read)."""
    end = parsed[-1].stop if parsed else 0
    tail = [line[4:] for line in body[end:] if not line.lstrip().startswith("#")]
    later = _names(ast.parse("\n".join(tail)))[0]
    needed = []
    for piece in reversed(parsed):
        needed.append(set(later))
        later |= piece.loads - (piece.stores if piece.plain else _locals(piece))
    needed.reverse()
    return needed


def _locals(piece: _Piece) -> set:
    """The names the generated code only ever uses inside one piece: loop indices and ``_``
    temporaries (assigned before they are read wherever they occur)."""
    return {name for name in piece.stores if name.startswith("_") or name in piece.indices}


# A name in code: an identifier not after a dot (an attribute). Plain pieces hold no string
# literals, so every match outside an attribute is a name or a keyword (never renamed).
_IDENTIFIER = re.compile(r"(?<![.\w])[A-Za-z_]\w*")


def _key(piece: _Piece, defined: set, later: set):
    """(shape, arguments, results), or None when the piece must stay as it is: its shape
    is its code with its names renamed in the order they occur, and its parameters' and
    results' new names (equal shapes: the same function)."""
    if not piece.plain:
        return None
    if piece.stores & defined - _locals(piece):
        return None  # it assigns a value of the function's: leave it in place
    renames: dict[str, str] = {}

    def rename(match):
        name = match.group()
        new = renames.get(name)
        if new is None:
            if name not in piece.stores and name not in defined:
                return name  # a module's name (np, fgm, math, range, ...) or a keyword
            new = renames[name] = f"v{len(renames)}"
        return new
    code = _IDENTIFIER.sub(rename, piece.code)
    params = [name for name in renames if name in defined and name not in piece.stores]
    results = sorted((name for name in piece.stores if name in later), key=renames.__getitem__)
    shape = (code, tuple(renames[p] for p in params), tuple(renames[r] for r in results))
    return shape, params, results


def _function(name: str, shape) -> list[str]:
    code, params, results = shape
    lines = ["", "", "@register_jitable", f"def {name}({', '.join(params)}):"]
    lines += ["    " + line for line in code.splitlines()]
    if results:  # (one result as itself: a tuple of one is more code to type and lower)
        lines.append(f"    return {', '.join(results)}")
    return lines
