"""``checkpoint="binomial"``: revolve's checkpointing of ``for`` loops (``runtime.revolve``).

Gradients are checked against float64 central finite differences of the NumPy function, against
``jax.grad`` of the same loop written in jax.numpy, and against the full-tape gradient; the split
against an exhaustive dynamic programme over the recompute sweep's cost; the schedule by counting
the step evaluations it runs."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import sourcegrad
from sourcegrad import grad
from sourcegrad.errors import OptionError, SourcegradError
from sourcegrad.runtime.revolve import (
    binomial_scan,
    binomial_scan_adjoint,
    revolve_positions,
    revolve_split,
    revolve_split_traced,
)

from .helpers import assert_close, fd_vjp, make_function


def recurrence(x, k, n):
    for _i in range(n):
        x = np.sin(k * x) + 0.1 * x
    return np.sum(x * x)


def recurrence_jax(x, k, n):
    for _i in range(n):
        x = jnp.sin(k * x) + 0.1 * x
    return jnp.sum(x * x)


def over_rows(X, w):
    h = w
    for row in X:
        h = np.tanh(row * h) + 0.5 * h
    return np.sum(h * h)


def over_rows_jax(X, w):
    h = w
    for row in X:
        h = jnp.tanh(row * h) + 0.5 * h
    return jnp.sum(h * h)


def two_carries(x, v, k, n):
    for _i in range(n):
        x, v = x + 0.1 * v, v - 0.1 * np.sin(k * x)
    return np.sum(x * v)


def two_carries_jax(x, v, k, n):
    for _i in range(n):
        x, v = x + 0.1 * v, v - 0.1 * jnp.sin(k * x)
    return jnp.sum(x * v)


TRIPS = [1, 2, 3, 7, 33, 100]
SLOTS = [2, 3, 4, 32]
X0 = np.array([0.3, -0.8, 1.1])


def _check(fn, fn_jax, args, wrt, slots, rtol=1e-6):
    g = grad(fn, wrt=wrt, checkpoint=f"binomial:{slots}")
    assert "binomial_scan_adjoint(" in g.source and f"(revolve): {slots} slots" in g.source
    got = g(**args)
    full = grad(fn, wrt=wrt)(**args)
    for a, b in zip(got, full):
        assert_close(a, b, rtol=1e-12, atol=1e-14)  # the same steps, recomputed: the same numbers
    idx = [list(args).index(w) for w in wrt]
    ref = jax.grad(lambda *a: fn_jax(*a), argnums=idx)(*args.values())
    assert_close(tuple(got), tuple(ref), rtol=1e-9)
    _, fd = fd_vjp(fn, args, list(wrt))
    assert_close(tuple(got), tuple(fd), rtol=rtol, atol=1e-8)


@pytest.mark.parametrize("slots", SLOTS)
def test_recurrence_matches_fd_jax_and_the_full_tape(slots):
    for n in [0] + TRIPS:
        _check(recurrence, recurrence_jax, {"x": X0, "k": 1.3, "n": n}, ("x", "k"), slots)


@pytest.mark.parametrize("slots", SLOTS)
def test_loop_over_rows_stacks_each_rows_gradient(slots):
    rng = np.random.default_rng(1)
    for n in TRIPS:
        X = rng.standard_normal((n, 3))
        _check(over_rows, over_rows_jax, {"X": X, "w": X0}, ("X", "w"), slots)


@pytest.mark.parametrize("slots", [2, 4, 32])
def test_two_carried_values(slots):
    for n in [1, 7, 100]:
        args = {"x": X0, "v": np.array([0.5, 0.1, -0.2]), "k": 0.9, "n": n}
        _check(two_carries, two_carries_jax, args, ("x", "v", "k"), slots)


def test_default_is_32_slots_and_the_pragma_works_like_sqrt():
    fn = make_function("""
        def pragma_binomial(x, k, n):
            for _i in range(n):  # sourcegrad: checkpoint=binomial
                x = np.sin(k * x) + 0.1 * x
            return np.sum(x * x)
    """)
    g = grad(fn, wrt=("x", "k"))
    assert "# binomial checkpointing (revolve): 32 slots" in g.source
    assert "binomial_scan(" in g.source and ", 32)" in g.source
    args = {"x": X0, "k": 1.3, "n": 50}
    _, fd = fd_vjp(fn, args, ["x", "k"])
    assert_close(tuple(g(**args)), tuple(fd), rtol=1e-6)
    assert "binomial_scan(" in grad(recurrence, wrt=("x",), checkpoint="binomial").source


def test_bad_values_are_clear_errors():
    for bad in ["revolve", "binomial:1", "binomial:x", 0, -3]:
        with pytest.raises(OptionError) as info:
            grad(recurrence, wrt=("x",), checkpoint=bad)
        for word in ("sqrt", "binomial", "int", "None"):
            assert word in str(info.value)
    fn = make_function("""
        def one_slot(x):
            for i in range(4):  # sourcegrad: checkpoint=binomial:1
                x = np.sin(x)
            return np.sum(x)
    """)
    with pytest.raises(SourcegradError) as info:
        grad(fn, wrt=("x",))(X0)
    assert "binomial:1" in str(info.value) and "N >= 2" in str(info.value)
    with pytest.raises(ValueError, match="at least 2 slots"):
        binomial_scan(lambda c, x: (c, None), 0.0, jnp.zeros(3), 1)


# ----- the schedule: revolve's split is optimal, and the sweep runs exactly its cost -----


@functools.cache
def sweep_cost(gap, free):
    """The fewest step evaluations that reverse ``gap`` iterations from a checkpoint with ``free``
    slots, by exhaustive search: advance m, keep a checkpoint, reverse the rest with one slot
    fewer, then the first m with the slot free again; with no slot, recompute from the start."""
    if gap == 1:
        return 1
    if free == 0:
        return gap * (gap + 1) // 2
    return min(m + sweep_cost(gap - m, free - 1) + sweep_cost(m, free) for m in range(1, gap))


def split_cost(gap, free, split):
    if gap == 1:
        return 1
    if free == 0:
        return gap * (gap + 1) // 2
    m = split(gap, free)
    assert 1 <= m < gap
    return m + split_cost(gap - m, free - 1, split) + split_cost(m, free, split)


def test_revolve_split_is_optimal():
    for free in range(1, 8):
        for gap in range(2, 160):
            assert split_cost(gap, free, revolve_split) == sweep_cost(gap, free), (gap, free)
    # bisection, the while loop's split, is not (so the counts below tell the schedules apart)
    assert split_cost(100, 3, lambda g, f: g // 2) > sweep_cost(100, 3)


def test_traced_split_equals_the_python_one():
    gaps, free = np.meshgrid(np.arange(2, 400), np.arange(1, 34), indexing="ij")
    traced = jax.jit(jax.vmap(revolve_split_traced))(gaps.ravel(), free.ravel())
    python = [revolve_split(int(g), int(f)) for g, f in zip(gaps.ravel(), free.ravel())]
    np.testing.assert_array_equal(np.asarray(traced), python)
    big = [(100_000, 1), (100_000, 31), (65_537, 5), (99_999, 2)]
    traced = jax.jit(jax.vmap(revolve_split_traced))(*np.array(big).T)
    np.testing.assert_array_equal(np.asarray(traced), [revolve_split(g, f) for g, f in big])


@pytest.mark.parametrize("n, slots", [(10, 2), (30, 3), (100, 4), (57, 6), (5, 32)])
def test_the_sweep_runs_revolves_number_of_steps(n, slots):
    calls = []

    def step(c, x):
        jax.debug.callback(lambda: calls.append(1))
        return jnp.sin(c * x) + 0.1 * c, (c,)

    def adjoint(carry, xs):
        x, (c,) = xs
        _, vjp = jax.vjp(lambda c, x: jnp.sin(c * x) + 0.1 * c, c, x)
        bc, bx = vjp(carry)
        return bc, bx

    xs = jnp.linspace(0.5, 1.5, n, dtype=jnp.float32)
    carry, saved = jax.jit(lambda xs: binomial_scan(step, jnp.float32(0.3), xs, slots))(xs)
    jax.block_until_ready(carry)
    assert len(calls) == n
    calls.clear()
    run = jax.jit(lambda xs, s: binomial_scan_adjoint(step, adjoint, jnp.float32(1.0), xs, s, slots))
    jax.block_until_ready(run(xs, saved))
    last = revolve_positions(n, slots)[-1]  # the forward ran revolve's first sweep up to here
    assert len(calls) == sweep_cost(n, slots - 1) - last


def test_memory_does_not_grow_with_the_trip_count():
    x, k = jnp.ones(512, jnp.float32), jnp.float32(0.5)
    temp = {}
    for n in (1000, 8000):
        compiled = grad(recurrence, wrt=("x", "k"), checkpoint="binomial:8").compile(x, k, n)
        temp[n] = compiled.memory_analysis().temp_size_in_bytes
    full = grad(recurrence, wrt=("x", "k")).compile(x, k, 8000).memory_analysis().temp_size_in_bytes
    assert temp[8000] < 1.5 * temp[1000], temp
    assert full > 20 * temp[8000], (full, temp)


def test_bench_for_compares_the_three_tapes():
    from sourcegrad.bench.loops import run_for

    lines: list = []
    rows = run_for((10, 200), out=lines.append)
    assert len(lines) == 2 and "binomial" in lines[1]
    for row in rows:
        assert row["sqrt_max_abs_diff"] < 1e-5 and row["binomial_max_abs_diff"] < 1e-5
    assert rows[0]["binomial_temp_bytes"] == rows[1]["binomial_temp_bytes"]
    assert rows[1]["full_tape_temp_bytes"] > 5 * rows[1]["binomial_temp_bytes"]


REFUSED_COMMENTS = {
    "nested": (
        """
        def f(x):
            for i in range(3):
                for j in range(20):  # sourcegrad: checkpoint=binomial
                    x = np.sin(x) + 0.1 * x
            return np.sum(x)
        """,
        3,
        "a loop nested in another loop",
    ),
    "branch": (
        """
        def f(x):
            if np.sum(x) > 0:
                for j in range(20):  # sourcegrad: checkpoint=sqrt
                    x = np.sin(x) + 0.1 * x
            return np.sum(x)
        """,
        3,
        "a loop inside an if on array data",
    ),
    "window": (
        """
        def f(x):
            t = 0.0
            for i in range(4):  # sourcegrad: checkpoint=sqrt
                t = t + np.sum(x[i:i + 3] ** 2)
            return t
        """,
        3,
        "slices move with its index",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED_COMMENTS))
def test_a_checkpoint_comment_that_cannot_be_honoured_is_a_located_error(case):
    """A loop's own comment asks for checkpointing: where it cannot be (nested loops, branches on
    data, unrolled loops, called functions) that is an error at the loop, never a full tape kept
    silently; grad()'s option applies to the loops where it can."""
    source, line, what = REFUSED_COMMENTS[case]
    f = make_function(source)
    with pytest.raises(sourcegrad.UnsupportedSyntaxError) as info:
        sourcegrad.grad(f)(np.linspace(0.1, 0.9, 8))
    text = str(info.value)
    assert f":{line}:" in text and what in text and "how to fix" in text, text


def test_grads_option_checkpoints_the_top_level_loop_around_a_nested_one():
    f = make_function(
        """
        def f(x):
            for i in range(30):
                for j in range(3):
                    x = np.sin(x) + 0.1 * x
            return np.sum(x ** 2)
        """
    )
    x = np.linspace(0.1, 0.9, 8)
    full = sourcegrad.grad(f)(x)
    for option in ("sqrt", "binomial:4"):
        np.testing.assert_allclose(np.asarray(sourcegrad.grad(f, checkpoint=option)(x)), full, rtol=1e-12)


def test_a_checkpoint_comment_in_a_called_function_is_a_located_error():
    helper = make_function(
        """
        def helper(x):
            for j in range(20):  # sourcegrad: checkpoint=sqrt
                x = np.sin(x) + 0.1 * x
            return x
        """
    )
    f = make_function("def f(x):\n    return np.sum(helper(x))\n", namespace={"helper": helper})
    with pytest.raises(sourcegrad.UnsupportedSyntaxError) as info:
        sourcegrad.grad(f)(np.linspace(0.1, 0.9, 8))
    text = str(info.value)
    assert ":2:" in text and "a loop in a called function" in text, text
