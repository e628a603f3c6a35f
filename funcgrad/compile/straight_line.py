"""Branch-free jitted helpers written into their callers' LLVM IR directly, without Numba's
front end.

vector_math's functions must end up inside the loops that call them (LLVM vectorises a loop
only if nothing in it is a call). Numba's ``inline="always"`` does that at its own IR level,
but pays for it with type inference and its untyped passes run again for every call site
and every helper: 4 of the 5 seconds it took to compile the elementwise-chain benchmark's
gradient. These functions are straight-line code (arithmetic, comparisons, conversions and
conditional expressions written as ``select(c, a, b)``), so they can be run once in Python
on stand-in values that write the LLVM instructions as they go: each operation is typed and
lowered by Numba's own typing and target contexts (the same types, casts and instructions
Numba would have produced), straight into the calling function's builder, where LLVM sees
the whole loop.

``straight_line(function)`` registers a function this way; Python callers still run the
plain Python function. The functions it calls are followed the same way: functions of the
same module are run on the stand-ins (their own decorators do not matter), ``select``-marked
ones become LLVM selects, Numba intrinsics emit their code, and anything else Numba can
type (``math.copysign``, ``abs``, ``float``, operators) is typed and lowered as Numba
would. Code that branches on a computed value cannot be followed: such a function is
compiled by Numba as an ordinary jitted function instead and called (correct, but its loop
is then not vectorised).
"""

from __future__ import annotations

import operator
import threading
import types as pytypes

import numpy as np
from numba import njit, types
from numba.core.typing.templates import AbstractTemplate, infer_global, signature
from numba.extending import lower_builtin, register_jitable

_SELECTS: set = set()
_REGISTERED: set = set()  # the functions straight_line registered, of any module
_current = threading.local()  # the Tracer that stand-ins of this thread write into


class Unsupported(Exception):
    """The function does something these stand-ins cannot follow (a branch on a computed
    value, a call Numba cannot type)."""


def select(function):
    """Mark ``function(condition, if_true, if_false)`` (whose body is ``if_true if condition
    else if_false``) as a conditional expression: an LLVM select, a blend in vector code."""
    _SELECTS.add(function)
    return register_jitable(function)


class Value:
    """A stand-in for a value of the traced function: its Numba type and its LLVM value
    (None while only typing)."""

    __slots__ = ("type", "llvm")

    def __init__(self, numba_type, llvm):
        self.type = numba_type
        self.llvm = llvm

    def __bool__(self):
        raise Unsupported("a branch on a computed value")

    __float__ = __int__ = __index__ = __bool__
    __hash__ = object.__hash__


def _binary(op):
    return (lambda a, b: _tracer().call(op, a, b)), (lambda a, b: _tracer().call(op, b, a))


def _unary(op):
    return lambda a: _tracer().call(op, a)


_BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul,
           "truediv": operator.truediv, "floordiv": operator.floordiv, "mod": operator.mod,
           "pow": operator.pow, "lshift": operator.lshift, "rshift": operator.rshift,
           "and": operator.and_, "or": operator.or_, "xor": operator.xor}
_COMPARISONS = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
                "eq": operator.eq, "ne": operator.ne}
_UNARY = {"neg": operator.neg, "pos": operator.pos, "abs": abs, "invert": operator.invert}
for _name, _function in _BINARY.items():
    setattr(Value, f"__{_name}__", _binary(_function)[0])
    setattr(Value, f"__r{_name}__", _binary(_function)[1])
for _name, _function in _COMPARISONS.items():
    setattr(Value, f"__{_name}__", _binary(_function)[0])
for _name, _one in _UNARY.items():
    setattr(Value, f"__{_name}__", _unary(_one))


def _tracer() -> Tracer:
    tracer = getattr(_current, "tracer", None)
    if tracer is None:
        raise Unsupported("a stand-in used outside its trace")
    return tracer


class Tracer:
    """Writes the operations on stand-ins into ``builder`` (or only types them, without)."""

    _signatures: dict = {}  # (function, argument types) -> (its Numba type, signature)
    _implementations: dict = {}  # id(target context) -> that key -> its lowering

    def __init__(self, typingctx, context=None, builder=None):
        self.typingctx, self.context, self.builder = typingctx, context, builder

    def value(self, x) -> Value:
        if isinstance(x, Value):
            return x
        if not isinstance(x, (bool, int, float, np.bool_, np.number)):
            raise Unsupported(f"a constant of type {type(x).__name__}")
        numba_type = types.unliteral(self.typingctx.resolve_value_type(x))
        llvm = None if self.builder is None else self.context.get_constant(numba_type, x)
        return Value(numba_type, llvm)

    def call(self, function, *args) -> Value:
        """``function(*args)`` typed and lowered as Numba types and lowers the call."""
        values = [self.value(a) for a in args]
        key = (function, tuple(v.type for v in values))
        found = self._signatures.get(key)
        if found is None:
            function_type = self.typingctx.resolve_value_type(function)
            signature = self.typingctx.resolve_function_type(function_type, key[1], {})
            if signature is None:
                raise Unsupported(f"{function} of {key[1]}")
            found = self._signatures[key] = (function_type, signature)
        function_type, signature = found
        if self.builder is None:
            return Value(signature.return_type, None)
        implementations = self._implementations.setdefault(id(self.context), {})
        implementation = implementations.get(key)
        if implementation is None:
            implementation = implementations[key] = self.context.get_function(
                function_type, signature)
        return Value(signature.return_type, implementation(self.builder, self._arguments(
            values, signature.args)))

    def _arguments(self, values, numba_types):
        """``values`` as the arguments of a signature: cast, and the last ones as one tuple
        where it takes them so (``max(a, b)``)."""
        last = numba_types[-1] if numba_types else None
        if isinstance(last, (types.StarArgTuple, types.StarArgUniTuple)):
            head = len(numba_types) - 1
            rest = self._cast(values[head:], list(last))
            return self._cast(values[:head], numba_types[:head]) + [
                self.context.make_tuple(self.builder, last, rest)]
        return self._cast(values, numba_types)

    def _cast(self, values, numba_types):
        return [self.context.cast(self.builder, v.llvm, v.type, t)
                for v, t in zip(values, numba_types)]

    def int(self, x) -> Value:
        """``int(x)`` as Numba computes it (its cast_int: an integer stays as it is, anything
        else is cast to intp), without compiling Numba's overload of ``int`` for it."""
        x = self.value(x)
        result = x.type if isinstance(x.type, types.Integer) else types.intp
        if self.builder is None:
            return Value(result, None)
        return Value(result, self.context.cast(self.builder, x.llvm, x.type, result))

    def select(self, condition, if_true, if_false) -> Value:
        condition, if_true, if_false = (self.value(condition), self.value(if_true),
                                        self.value(if_false))
        result = if_true.type if if_true.type == if_false.type else \
            self.typingctx.unify_types(if_true.type, if_false.type)
        if result is None:
            raise Unsupported(f"a conditional of {if_true.type} and {if_false.type}")
        if self.builder is None:
            return Value(result, None)
        if condition.type == types.boolean:  # an i1 already (Numba's is_true looks up and
            truth = condition.llvm  # lowers bool() at each call: a tenth of the lowering)
        else:
            truth = self.context.is_true(self.builder, condition.type, condition.llvm)
        a, b = self._cast([if_true, if_false], [result, result])
        return Value(result, self.builder.select(truth, a, b))

    def intrinsic(self, function, args) -> Value:
        values = [self.value(a) for a in args]
        signature, codegen = function._defn(self.typingctx, *[v.type for v in values])
        if self.builder is None:
            return Value(signature.return_type, None)
        return Value(signature.return_type, codegen(
            self.context, self.builder, signature, self._arguments(values, signature.args)))


# ---------------------------------------------------------------------------------------
# Functions run on stand-ins: copies of a module's functions whose globals send calls to
# the tracer


_module_globals: dict = {}  # id of a module's globals -> their stand-in version


_copies: dict = {}  # a registered function -> its copy on stand-in globals


def _traced(function):
    """``function`` with globals that route its calls to the current tracer."""
    copy = _copies.get(function)
    if copy is None:
        copy = _copies[function] = _copy(function, _stand_in_globals(function.__globals__))
    return copy


def _copy(function, namespace):
    return pytypes.FunctionType(function.__code__, namespace, function.__name__,
                                function.__defaults__, function.__closure__)


class _Module:
    """A module as seen from traced code: its functions called on stand-ins through Numba."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        value = getattr(self._module, name)
        if not callable(value):
            return value
        return lambda *args: (_tracer().call(value, *args)
                              if any(isinstance(a, Value) for a in args) else value(*args))


def _stand_in_globals(original: dict) -> dict:
    namespace = _module_globals.get(id(original))
    if namespace is not None:
        return namespace
    from numba.core.extending import _Intrinsic
    namespace = _module_globals[id(original)] = dict(original)
    module_name = original.get("__name__")
    for name, value in original.items():
        if isinstance(value, pytypes.FunctionType) and value in _SELECTS:
            namespace[name] = lambda c, a, b: _tracer().select(c, a, b)
        elif isinstance(value, pytypes.FunctionType) and value in _REGISTERED:
            namespace[name] = (lambda f: lambda *args: _traced(f)(*args))(value)
        elif isinstance(value, pytypes.FunctionType) and value.__module__ == module_name:
            namespace[name] = _copy(getattr(value, "__wrapped__", value), namespace)
        elif isinstance(value, _Intrinsic):
            namespace[name] = (lambda f: lambda *args: _tracer().intrinsic(f, args))(value)
        elif isinstance(value, pytypes.ModuleType) and not name.startswith("__"):
            namespace[name] = _Module(value)
    namespace["int"] = lambda x: _tracer().int(x) if isinstance(x, Value) else int(x)
    for builtin in (float, abs, min, max):
        namespace[builtin.__name__] = (lambda f: lambda *args: _tracer().call(f, *args) if any(
            isinstance(a, Value) for a in args) else f(*args))(builtin)
    return namespace


def _run(function, tracer: Tracer, arg_types, llvm_args):
    """The result of ``function`` on stand-ins of its arguments, written by ``tracer``."""
    saved = getattr(_current, "tracer", None)
    _current.tracer = tracer
    try:
        args = [Value(t, a) for t, a in zip(arg_types, llvm_args)]
        return _traced(function)(*args)
    finally:
        _current.tracer = saved


def _result_type(tracer: Tracer, result):
    if isinstance(result, tuple):
        return types.BaseTuple.from_types([_result_type(tracer, r) for r in result])
    return tracer.value(result).type


def _result_llvm(tracer: Tracer, result, numba_type):
    if isinstance(result, tuple):
        return tracer.context.make_tuple(tracer.builder, numba_type, [
            _result_llvm(tracer, r, t) for r, t in zip(result, numba_type)])
    value = tracer.value(result)
    return tracer.context.cast(tracer.builder, value.llvm, value.type, numba_type)


# ---------------------------------------------------------------------------------------
# Registration

_SCALARS = (types.Number, types.Boolean)
_typed: dict = {}  # (function, argument types) -> return type, or None: compiled by Numba


def straight_line(function):
    """Register ``function`` (straight-line code on scalars) to be written into the IR of
    the Numba functions that call it; return it unchanged for Python callers."""
    _REGISTERED.add(function)
    plain = _copy(function, function.__globals__)  # for Numba, when it cannot be traced
    fallback: list = []

    def return_type(typingctx, arg_types):
        key = (function, arg_types)
        if key not in _typed:
            try:
                if not all(isinstance(t, _SCALARS) for t in arg_types):
                    raise Unsupported("arguments that are not scalars")
                tracer = Tracer(typingctx)
                _typed[key] = _result_type(tracer, _run(function, tracer, arg_types,
                                                        [None] * len(arg_types)))
            except Exception:  # noqa: BLE001  (whatever stops the trace: Numba compiles it)
                _typed[key] = None
        return _typed[key]

    class Template(AbstractTemplate):
        key = function

        def generic(self, args, kws):
            if kws:
                return None
            arg_types = tuple(types.unliteral(a) for a in args)
            found = return_type(self.context, arg_types)
            if found is None:
                if not fallback:
                    fallback.append(njit(plain))
                fallback[0].compile(arg_types)
                found = fallback[0].overloads[arg_types].signature.return_type
            return signature(found, *arg_types)

    infer_global(function, types.Function(Template))

    @lower_builtin(function, types.VarArg(types.Any))
    def lower(context, builder, signature, args):
        arg_types = tuple(types.unliteral(t) for t in signature.args)
        args = [context.cast(builder, a, t, u)
                for a, t, u in zip(args, signature.args, arg_types)]
        if return_type(context.typing_context, arg_types) is None:
            return context.compile_internal(builder, plain, signature.return_type(*arg_types),
                                            args)
        tracer = Tracer(context.typing_context, context, builder)
        result = _run(function, tracer, arg_types, args)
        return _result_llvm(tracer, result, signature.return_type)

    return function


def traced(function, *arg_types) -> bool:
    """Whether calls of ``function`` (registered by ``straight_line``) with arguments of these
    Numba types are written into the caller's IR (False: compiled by Numba and called)."""
    from numba.core.registry import cpu_target
    typingctx = cpu_target.typing_context
    typingctx.refresh()
    key = (function, tuple(arg_types))
    if key not in _typed:
        typingctx.resolve_function_type(typingctx.resolve_value_type(function), key[1], {})
    return _typed[key] is not None
