"""Property-based: random straight-line programs from the supported operations, against jax.grad.

Each program starts from 1-3 inputs (vectors of length 3 or scalars), applies a random sequence
of operations (new names, re-assignments, augmented assignments, fan-out), and returns the sum
of its last value. Operations are chosen so that every input is in their domain.
"""

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sourcegrad import grad

from .helpers import assert_close, jax_version, make_function

UNARY = [
    "np.sin({a})",
    "np.cos({a})",
    "np.tanh({a})",
    "np.exp(-{a} * {a})",
    "np.log({a} ** 2 + 1.0)",
    "np.sqrt({a} ** 2 + 1.0)",
    "{a} ** 2",
    "-{a}",
    "np.arctan({a})",
    "np.square({a}) * 0.5",
    "np.sum({a}) + {a}",
    "np.mean({a} * {a})",
    "np.maximum({a}, 0.1)",
]
BINARY = [
    "{a} + {b}",
    "{a} - {b}",
    "{a} * {b}",
    "{a} / ({b} ** 2 + 1.0)",
    "np.maximum({a}, {b})",
    "np.where({a} > {b}, {a}, {b} * 2.0)",
    "np.hypot({a}, {b})",
    "np.logaddexp({a}, {b})",
]
AUG = ["+=", "-=", "*="]


@st.composite
def programs(draw):
    n_in = draw(st.integers(1, 3))
    names = [f"x{i}" for i in range(n_in)]
    scalar = [draw(st.booleans()) for _ in names]
    lines = []
    live = list(names)
    for i in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["unary", "binary", "binary", "aug", "reassign"]))
        a = draw(st.sampled_from(live))
        b = draw(st.sampled_from(live))
        if kind == "unary":
            lines.append(f"v{i} = {draw(st.sampled_from(UNARY)).format(a=a)}")
            live.append(f"v{i}")
        elif kind == "binary":
            lines.append(f"v{i} = {draw(st.sampled_from(BINARY)).format(a=a, b=b)}")
            live.append(f"v{i}")
        elif kind == "aug" and a.startswith("v"):
            lines.append(f"{a} {draw(st.sampled_from(AUG))} {b}")
        else:
            lines.append(f"{a} = {draw(st.sampled_from(UNARY)).format(a=a)}")
    mixed = " + ".join(f"np.sum({v})" for v in live[-2:])
    lines.append(f"return {mixed}")
    src = f"def prog({', '.join(names)}):\n" + "".join(f"    {line}\n" for line in lines)
    values = draw(st.lists(st.floats(-2.0, 2.0), min_size=3 * n_in, max_size=3 * n_in))
    args = [
        np.float64(values[3 * k]) if s else np.array(values[3 * k : 3 * k + 3]) for k, s in enumerate(scalar)
    ]
    return src, names, args


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_programs_match_jax_grad(program):
    src, names, args = program
    fn = make_function(src, "prog")
    ours = grad(fn, wrt=tuple(names))(*args)
    ref = jax.grad(jax_version(fn), argnums=tuple(range(len(names))))(*[jnp.asarray(a) for a in args])
    for name, mine, theirs in zip(names, ours, ref):
        assert_close(mine, theirs, rtol=1e-7, atol=1e-9, what=f"d/d{name} of\n{src}")


LOOP_BODY = [
    "{v} = {v} * 0.9 + np.sin({v}) * 0.1",
    "{v} = np.tanh({v} + {w})",
    "{v} = {v} * np.cos({w}) + 0.05 * {w}",
    "{v} = np.maximum({v}, -0.5) * 0.95",
]


@st.composite
def loop_programs(draw):
    """Random programs with for loops, data-dependent branches, nesting and break."""
    lines = ["    v = x * 1.0", "    w = x * 0.5"]
    depth = draw(st.integers(1, 2))
    indent = "    "
    for level in range(depth):
        n = draw(st.integers(1, 4))
        lines.append(f"{indent}for i{level} in range({n}):")
        indent += "    "
        for _ in range(draw(st.integers(1, 3))):
            kind = draw(st.sampled_from(["stmt", "stmt", "if", "break"]))
            a, b = draw(st.sampled_from([("v", "w"), ("w", "v")]))
            if kind == "stmt":
                lines.append(indent + draw(st.sampled_from(LOOP_BODY)).format(v=a, w=b))
            elif kind == "if":
                lines.append(f"{indent}if np.sum({a}) > {draw(st.sampled_from(['0.0', '0.5', '-0.5']))}:")
                lines.append(indent + "    " + draw(st.sampled_from(LOOP_BODY)).format(v=a, w=b))
                lines.append(f"{indent}else:")
                lines.append(indent + "    " + draw(st.sampled_from(LOOP_BODY)).format(v=b, w=a))
            else:
                lines.append(f"{indent}if np.max(np.abs({a})) > 3.0:")
                lines.append(f"{indent}    break")
    lines.append("    return np.sum(v * w) + np.sum(v)")
    src = "def loop_prog(x):\n" + "\n".join(lines) + "\n"
    values = draw(st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3))
    return src, np.array(values)


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(loop_programs())
def test_random_loop_programs_match_jax_grad(program):
    """jax.grad runs the Python loops and ifs on concrete values: the reference semantics."""
    src, x = program
    fn = make_function(src, "loop_prog")
    ours = grad(fn)(x)
    ref = jax.grad(jax_version(fn))(jnp.asarray(x))
    assert_close(ours, ref, rtol=1e-7, atol=1e-9, what=f"\n{src}")


@st.composite
def basic_indices(draw):
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    items = []
    for size in shape:
        kind = draw(st.sampled_from(["int", "slice", "full", "none"]))
        if kind == "int":
            items.append(draw(st.integers(-size, size - 1)))
        elif kind == "slice":
            start = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
            stop = draw(st.one_of(st.none(), st.integers(-size - 1, size + 1)))
            step = draw(st.one_of(st.none(), st.integers(1, 3), st.integers(-3, -1)))
            items.append(slice(start, stop, step))
        elif kind == "none":
            items += [None, slice(None)]
        else:
            items.append(slice(None))
    if draw(st.booleans()):
        items = items[: draw(st.integers(0, len(items)))] + [Ellipsis]
    return shape, tuple(items)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(basic_indices())
def test_unslice_puts_gradients_back_like_numpy_add_at(case):
    from sourcegrad.runtime import unslice

    shape, index = case
    x = np.zeros(shape)
    g = np.random.default_rng(0).standard_normal(np.shape(x[index]))
    expected = np.zeros(shape)
    np.add.at(expected, index, g)
    assert_close(unslice(g, x, index), expected)
