"""Every unsupported construct gives a located UnsupportedSyntaxError, never an internal traceback."""

import traceback

import numpy as np
import pytest

import sourcegrad
from sourcegrad import MissingRuleError, SourceUnavailableError, UnsupportedSyntaxError, grad

from .helpers import library_frames, make_function

# (source, the text the caret must point at, a phrase the message must contain)
CASES = {
    "try": ("try:\n        x = x * 2\n    except ValueError:\n        pass", "try:", "`try`"),
    "lambda": ("f = lambda v: v * 2", "lambda v: v * 2", "`lambda`"),
    "listcomp_filter": (
        "y = [x[i] for i in range(3) if x[i] > 0]\n    x = y[0]",
        "x[i] > 0",
        "must be known when compiling",
    ),
    "listcomp_array": ("y = [v * 2 for v in x]\n    x = y[0]", "x]", "known only while JAX traces"),
    "setcomp": ("s = {v for v in x}", "{v for v in x}", "set comprehensions"),
    "dictcomp": ("d = {i * 2: x for i in range(3)}", "i * 2", "dict keys must be strings"),
    "genexp": ("s = sum(v for v in x)", "x)", "known only while JAX traces"),
    "genexp_to_numpy": ("s = np.stack(x[i] for i in range(2))", "(x[i] for", "a generator expression"),
    "global": ("global G\n    G = 1", "global G", "`global`"),
    "nonlocal": ("def inner():\n        nonlocal x\n        x = 1\n    inner()", "nonlocal x", "`nonlocal`"),
    "recursion": (  # recursion on data (one that never ends is stopped while tracing, below)
        "def inner(v):\n        if np.sum(v) > 1.0:\n            return inner(v * 0.5)\n"
        "        return v\n    x = inner(x)",
        "inner(v * 0.5)",
        "calls itself",
    ),
    "yield": ("yield x", "yield x", "`yield`"),
    "print": ("print(x, end='')", "''", "print()'s `end=`"),
    "raise": ("raise ValueError('no')", "raise ValueError('no')", "`raise`"),
    "assert": ("assert x.sum() > 0", "x.sum() > 0", "tests an array's values"),
    "assert_false": ("assert 1 > 2, 'never'", "1 > 2", "assert 1 > 2: never"),
    "del": ("y = x\n    del y", "del y", "`del`"),
    "import": ("import math", "import math", "imports"),
    "class": ("class A:\n        pass", "class A:", "class definitions"),
    "walrus": ("y = (z := x * 2)", "z := x * 2", "walrus"),
    "fstring": ("s = f'{x}'", "f'{x}'", "f-strings"),
    "and": ("m = (x > 0) and (x < 1)", "x > 0)", "`and` of an array"),
    "or": ("m = x or 1.0", "x or", "`or` of an array"),
    "not": ("m = not x", "x", "`not` of an array"),
    "chained": ("m = 0 < x < 1", "0 < x < 1", "`chained comparisons` of an array"),
    "is": ("m = x is x", "x is x", "`is` compares identities"),
    "in": ("m = 1 in x", "1 in x", "comparison `in`"),
    "setattr": ("x.y = 1.0", "x.y", "assigning to an attribute"),
    "starred": ("a, *b = x", "*b", "starred"),
    "with": ("with open('f') as fh:\n        pass", "open('f')", "only context manager"),
    "undefined": ("y = undefined_name * x", "undefined_name", "not defined"),
    "missing_rule": ("y = np.i0(x)", "np.i0", "no derivative rule for `np.i0`"),
    "keyword": ("y = np.sum(x, dtype=float)", "float", "keyword `dtype=`"),
    "method": ("y = x.cumprod()", "x.cumprod", "`.cumprod()` is not supported"),
    "attribute": ("y = x.flat", "x.flat", "attribute `.flat`"),
    "float_call": ("y = float(x)", "float", "converts an array to a Python number"),
    "expression_statement": ("x * 2", "x * 2", "has no effect"),
    "lshift": ("y = x << 2", "x << 2", "operator `<<`"),
    "after_return": ("return np.sum(x)\n    y = x", "y = x", "after `return`"),
    "aliased_update": ("y = x\n    y += 1.0", "y += 1.0", "would also change `x` under NumPy"),
    "view_write": ("y = x[1:]\n    y[0] = 2.0", "y[0]", "would also change `x` under NumPy"),
    "traced_range": (
        "n = np.sum(x)\n    for i in range(n):\n        x = x * 2",
        "range(n)",
        "trip count is not known",
    ),
    "loop_local": (
        "for i in range(3):\n        t = x * i\n        if i > 1:\n            break\n    x = t",
        "t",
        "`t` is not defined here",
    ),
    "one_branch": ("if np.sum(x) > 0:\n        t = x * 2\n    x = t", "t", "assigns it on one branch only"),
    "container_key": ("d = {'a': x}\n    k = 'a' + ''\n    x = d[k]", "k", "constant key"),
    "container_as_array": ("t = (x, x)\n    x = np.sin(t)", "t", "takes one array"),
    "container_operand": ("t = (x, x)\n    x = t * 2", "t", "cannot be used as one array"),
    "unknown_length": (
        "for v in map(np.sin, x):\n        x = x + v",
        "map(np.sin, x)",
        "length is not known",
    ),
    "generator_def": ("def gen():\n        yield x\n    x = x * 2", "yield x", "`yield`"),
    "for_else": (
        "for i in range(3):\n        x = x * 2\n    else:\n        x = x",
        "for i in range(3):",
        "`for ... else`",
    ),
}


@pytest.mark.parametrize("key", sorted(CASES))
def test_located_error(key):
    body, caret_text, phrase = CASES[key]
    last = "" if "return" in body.split("\n")[0] else "\n    return np.sum(x)"
    src = f"def fn(x):\n    {body}{last}\n"
    fn = make_function(src, "fn", filename=f"/project/model_{key}.py")
    with pytest.raises(UnsupportedSyntaxError) as info:
        grad(fn)
    err = info.value
    assert isinstance(err, SyntaxError)
    assert phrase in err.msg, err.msg
    assert err.filename == f"/project/model_{key}.py"
    lines = src.splitlines()
    line = lines[err.lineno - 1]
    col = err.offset - 1
    assert line[col:].startswith(caret_text), (line, col, caret_text)
    text = str(err)
    assert text.startswith(f"/project/model_{key}.py:{err.lineno}:{err.offset}: ")
    assert "^" in text.splitlines()[-1]
    assert "how to fix:" in text or key in ("undefined",), text
    # the user sees no frames from deep inside the library
    inner = library_frames(info.value)
    assert not inner, inner


def test_mutual_recursion_through_module_functions():
    ns = {}
    fn = make_function(
        """
        def ping(x, n):
            return pong(x * 2, n)

        def pong(x, n):
            return ping(x, n)
    """,
        "ping",
        namespace=ns,
    )
    g = grad(fn, wrt="x")  # resolved while tracing: nothing decides it, so it never ends
    with pytest.raises(UnsupportedSyntaxError, match="recurses more than 100 calls deep") as info:
        g(np.ones(2), 1)
    assert info.value.lineno == 2 and "pong(x * 2, n)" in str(info.value)
    assert not library_frames(info.value)


def test_no_return():
    fn = make_function("def fn(x):\n    y = x * 2\n", "fn")
    with pytest.raises(UnsupportedSyntaxError, match="does not end with a `return`"):
        grad(fn)


def test_bare_return():
    fn = make_function("def fn(x):\n    return\n", "fn")
    with pytest.raises(UnsupportedSyntaxError, match="bare `return`"):
        grad(fn)


def test_star_args():
    fn = make_function("def fn(x, *rest):\n    return np.sum(x)\n", "fn")
    with pytest.raises(UnsupportedSyntaxError, match=r"\*args"):
        grad(fn)


def test_async_def():
    fn = make_function("async def fn(x):\n    return x\n", "fn")
    with pytest.raises(UnsupportedSyntaxError, match="async def"):
        grad(fn)


def test_source_unavailable():
    ns = {}
    exec("def fn(x):\n    return x * 2\n", ns)  # no file, no linecache entry: as in a REPL
    with pytest.raises(SourceUnavailableError, match="cannot be read"):
        grad(ns["fn"])


def test_not_a_python_function():
    with pytest.raises(SourceUnavailableError, match="Python functions"):
        grad(np.sin)


def test_lambda_function():
    fn = make_function("fn = lambda x: x * 2\n", "fn")
    with pytest.raises(UnsupportedSyntaxError, match="lambda"):
        grad(fn)


def test_missing_rule_shows_how_to_register():
    fn = make_function("def fn(x):\n    return np.sum(np.i0(x))\n", "fn")
    with pytest.raises(MissingRuleError) as info:
        grad(fn)
    assert 'sourcegrad.register_rule(np.i0, "i0(x)", x="g * <d i0 / d x>", jax_impl=jnp.i0)' in str(
        info.value
    )


def test_error_messages_print_with_python_traceback_formatting():
    fn = make_function(
        "def fn(x):\n    y = lambda v: v * 2\n    return x\n", "fn", filename="/project/lam.py"
    )
    with pytest.raises(UnsupportedSyntaxError) as info:
        grad(fn)
    formatted = "".join(traceback.format_exception_only(type(info.value), info.value))
    assert 'File "/project/lam.py", line 2' in formatted
    assert "y = lambda v: v * 2" in formatted and "^^^" in formatted


def test_errors_are_documented():
    for name in sourcegrad.errors.__all__:
        cls = getattr(sourcegrad, name)
        assert cls.__doc__ and len(cls.__doc__) > 60, name
