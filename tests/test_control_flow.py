"""Control flow as compiled: rolled loops, tapes, conds, bounds, and the seed pages' in-place case."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from sourcegrad import TapeOverflowError, UnsupportedSyntaxError, grad

from . import flow_functions as ff
from .helpers import assert_close, fd_vjp


def _jaxpr(g, *args):
    values, static, t = g._bind(args, {})
    return str(jax.make_jaxpr(t.grad_fn, static_argnums=static)(*values, None, None))


def _assert_matches_fd(g, fn, values: dict, wrt: list):
    """The gradients of g at values agree with float64 central finite differences of fn."""
    _, ref = fd_vjp(fn, values, wrt)
    grads = g(*values.values())
    assert len(grads) == len(ref) == len(wrt)
    for ours, expected in zip(grads, ref):
        assert_close(ours, expected, rtol=1e-6)


def test_loops_are_rolled_not_unrolled():
    g = grad(ff.recurrence, wrt=("x", "k"))
    x = np.linspace(-1, 1, 5)
    small, large = _jaxpr(g, x, 0.5, 10), _jaxpr(g, x, 0.5, 1000)
    assert "scan" in small
    # the program does not grow with the trip count: the same number of sin/cos either way
    assert small.count(" sin ") == large.count(" sin ") and small.count(" cos ") == large.count(" cos ")
    assert g.source.count("lax.scan(") == 3  # primal, gradient's forward, gradient's backward
    assert "reverse=True" in g.source


def test_tape_holds_what_the_backward_reads():
    g = grad(ff.recurrence, wrt=("x", "k"))
    x = jnp.ones(1024, jnp.float32)
    compiled = g.compile(x, jnp.float32(0.5), 10000)
    # sin (for the k adjoint) and cos(y_1) (the local partial of sin, computed in the forward
    # loop) are saved: two 10000 x 1024 float32 arrays.
    # mul is listed on the tape because unbroadcast reads its shape, but XLA drops it: the
    # backward never reads its values, and the generated code says so.
    assert "return (y_2,), (sin, dsin_dy_1, mul)" in g.source
    assert "so XLA stores no values for\n        #   them: mul\n" in g.source
    one_array = 10000 * 1024 * 4
    temp = compiled.memory_analysis().temp_size_in_bytes
    assert 2 * one_array <= temp < 2.1 * one_array, temp / one_array
    _assert_matches_fd(g, ff.recurrence, {"x": np.linspace(-1, 1, 5), "k": 0.5, "n": 30}, ["x", "k"])


def test_loop_invariant_values_are_recomputed_not_taped():
    g = grad(ff.euler_with_invariants, wrt=("y", "k"))
    tape = g.source.split("(y_2,), (")[1].split(")")[0]
    assert "neg" not in tape and "y_1" in tape  # -k is the same every step; y_1 varies
    _assert_matches_fd(
        g, ff.euler_with_invariants, {"y": np.linspace(-1, 1, 5), "k": 0.7, "n": 20}, ["y", "k"]
    )


def test_partials_of_outer_values_and_the_index_are_not_taped():
    """d(x ** i)/dx = i * x ** (i - 1) reads only x (from outside the loop) and the index: the
    backward computes it for free, and hoisting it into the forward would tape it every step."""
    g = grad(ff.polynomial, wrt=("x", "c"))
    x, c = jnp.ones(512, jnp.float32), jnp.ones(1000, jnp.float32)
    temp = g.compile(x, c, 1000).memory_analysis().temp_size_in_bytes
    assert temp < 1000 * 512 * 4 * 1.5, temp  # one n x |x| array (c[i] * x ** i, for c), not two
    _assert_matches_fd(
        g, ff.polynomial, {"x": np.linspace(0.5, 1.5, 5), "c": np.linspace(-1, 1, 6), "n": 6}, ["x", "c"]
    )


def test_power_rule_at_zero_with_a_zero_exponent():
    """d(x ** 0)/dx is 0, also at x = 0, where 0 * 0 ** -1 would give NaN (it did)."""
    x, c = np.array([0.0, 0.5]), np.array([1.0, 2.0, 3.0])
    gx, gc = grad(ff.polynomial, wrt=("x", "c"))(x, c, 3)
    ref = jax.grad(lambda x, c: jnp.sum(c[0] + c[1] * x + c[2] * x**2), argnums=(0, 1))(x, c)
    assert_close(gx, ref[0])
    assert_close(gc, ref[1])


def test_invariant_of_an_inner_loop_that_varies_in_the_outer_one():
    g = grad(ff.nested_invariant, wrt=("x", "w"))
    _assert_matches_fd(
        g, ff.nested_invariant, {"x": np.linspace(-1, 1, 5), "w": np.linspace(0.2, 0.8, 3)}, ["x", "w"]
    )


def test_data_dependent_while_which_jax_grad_cannot_reverse():
    def jax_newton(a):
        def body(state):
            x, _ = state
            x_new = 0.5 * (x + a / x)
            return x_new, jnp.max(jnp.abs(x_new - x))

        x, _ = lax.while_loop(lambda s: s[1] > 1e-12, body, (jnp.ones_like(a), 1.0))
        return jnp.sum(x)

    a = np.array([2.0, 3.0, 5.0])
    with pytest.raises(ValueError, match="Reverse-mode differentiation does not work"):
        jax.grad(jax_newton)(a)
    g = grad(ff.newton_unbounded, max_iter=100)
    assert_close(g(a, 1e-12), 0.5 / np.sqrt(a), rtol=1e-10)


def test_while_loop_that_outruns_its_tape_is_reported():
    with pytest.raises(TapeOverflowError, match=r"line \d+ \(max_iter=3\)"):
        grad(ff.newton)(np.array([2.0, 3.0]))


def test_compiled_gradient_reports_tape_overflow_too():
    """g.compile(...) has a fast call path that skips argument binding; it must still check."""
    a = np.array([2.0, 3.0])
    compiled = grad(ff.newton).compile(a)
    with pytest.raises(TapeOverflowError, match=r"line \d+ \(max_iter=3\)"):
        compiled(a)


def test_data_dependent_while_without_a_bound_is_checkpointed():
    """No max_iter: the gradient keeps checkpoints instead of a tape (d sum(sqrt(a)) / da)."""
    g = grad(ff.newton_unbounded)
    assert "checkpointed_while(" in g.source and "taped_while" not in g.source
    a = np.array([2.0, 3.0, 7.0])
    assert_close(g(a, 1e-6), 0.5 / np.sqrt(a), rtol=1e-4)


def test_branch_on_a_static_argument_is_a_python_if():
    g = grad(ff.mode_switch)
    x = np.array([0.1, 0.2])
    assert_close(g(x, "train"), [0.5, 0.5])
    assert "eq = mode == 'train'" in g.source and "if eq:" in g.source
    assert "lax.cond" not in g.source
    assert_close(g(x, "eval"), np.cos(x))


@pytest.mark.parametrize("fn", [ff.static_branch_in_loop, ff.static_branch_in_callee])
@pytest.mark.parametrize("mode", ["a", "b"])
def test_static_branch_whose_backward_runs_in_another_function(fn, mode):
    """In an adjoint loop body or a callee's bwd_, the branch's own values are out of scope: the
    backward runs the taken branch's forward again (it raised NameError before)."""
    g = grad(fn, wrt=("x", "k"))
    _assert_matches_fd(g, fn, {"x": np.array([0.1, 0.2]), "k": 0.7, "mode": mode}, ["x", "k"])


def test_branch_on_data_is_a_cond_both_ways():
    g = grad(ff.data_switch)
    assert g.source.count("lax.cond(") == 3  # the primal, the gradient's forward and backward
    assert_close(g(np.array([0.1, 0.2])), [0.5, 0.5])
    assert_close(g(np.array([-0.1, -0.2])), np.cos([-0.1, -0.2]))


def test_untaken_branch_nan_does_not_poison_the_gradient():
    # jnp.where would evaluate both branches, and d sqrt(x)/dx at x < 0 is NaN
    where = jax.grad(lambda x: jnp.where(x > 0, jnp.sqrt(x), -x))(-1.0)
    assert np.isnan(where)
    assert float(grad(ff.sqrt_or_negate)(-1.0)) == -1.0
    assert float(grad(ff.sqrt_or_negate)(4.0)) == 0.25


def test_inplace_write_over_a_value_the_backward_needs():
    """Page 002: the version counter case. Each write makes a new version; the old one stays."""
    g = grad(ff.version_counter)
    x = np.array([0.5, -1.0, 2.0])
    _, (ref,) = fd_vjp(ff.version_counter, {"x": x}, ["x"])
    assert_close(g(x), ref, rtol=1e-6)
    assert "y_1 = inplace_set(y, jnp.s_[0], 5.0)" in g.source
    backward = g.source.split("== backward")[-1]
    assert "b_mul * y_1" in backward  # the new version, for y_1 * x
    assert "unbroadcast(b_z * y, y)" in backward  # the old version, for z = y * y


@pytest.mark.parametrize("segment", ["sqrt", 4, 7])
def test_checkpointed_loops_give_the_same_gradient(segment):
    rng = np.random.default_rng(0)
    W, X = rng.standard_normal((3, 3)) * 0.5, rng.standard_normal((23, 3))  # 23: segments + rest
    plain = grad(ff.rows_with_remainder, wrt=("W", "X"))(W, X)
    checkpointed = grad(ff.rows_with_remainder, wrt=("W", "X"), checkpoint=segment)
    for a, b in zip(plain, checkpointed(W, X)):
        assert_close(a, b, rtol=1e-12)
    assert "checkpointed_scan_adjoint(" in checkpointed.source


def test_static_value_from_a_no_grad_block_in_a_loop():
    """Known while tracing, so not taped: the adjoint body computes it again (NameError before)."""
    g = grad(ff.static_value_in_no_grad_in_loop, wrt=("x", "k"))
    _assert_matches_fd(
        g, ff.static_value_in_no_grad_in_loop, {"x": np.array([0.1, 0.2]), "k": 0.7}, ["x", "k"]
    )


def test_checkpoint_pragma_in_a_called_function_is_a_located_error():
    """Only the differentiated function's top-level loops are checkpointed (documented); a pragma
    in a callee used to be ignored (a full tape kept silently; before that it raised NameError in
    its bwd_): it is a located error at the callee's loop, whose fix says to remove it."""
    with pytest.raises(UnsupportedSyntaxError) as info:
        grad(ff.checkpoint_in_callee, wrt=("x", "k"))(np.array([0.1, 0.2]), 0.7)
    text = str(info.value)
    assert "a loop in a called function" in text and "remove the comment" in text, text


def test_checkpoint_pragma_on_one_loop():
    g = grad(ff.pragma_checkpoint)
    assert "'sqrt'" not in g.source and "segment_length(len(range(0, n, 1)), 7)" in g.source
    x = np.linspace(-1, 1, 4)
    _, (ref,) = fd_vjp(ff.pragma_checkpoint, {"x": x, "n": 30}, ["x"])
    assert_close(g(x, 30), ref, rtol=1e-6)


def test_checkpointing_cuts_tape_memory_tenfold():
    x, k = jnp.ones(1024, jnp.float32), jnp.float32(0.5)
    plain = grad(ff.recurrence, wrt=("x", "k")).compile(x, k, 10000)
    checkpointed = grad(ff.recurrence, wrt=("x", "k"), checkpoint="sqrt").compile(x, k, 10000)
    before = plain.memory_analysis().temp_size_in_bytes
    after = checkpointed.memory_analysis().temp_size_in_bytes
    assert before > 10 * after, (before, after)


# A Python constant passed to the user's own function stays a Python value there (the callee is
# specialized to a static parameter), so its `if` is a Python `if` decided while tracing, as for
# a static argument of the differentiated function itself, never a lax.cond (issue 10).
CALLEE_FLAGS = {
    "bool": ("if flag:", "helper(x, w, True)", "helper(x, w, False)"),
    "int": ("if flag > 1:", "helper(x, w, 2)", "helper(x, w, 0)"),
    "str": ("if flag == 'sin':", "helper(x, w, 'sin')", "helper(x, w, 'cos')"),
    "none": ("if flag is None:", "helper(x, w, None)", "helper(x, w, 1.5)"),
    "keyword": ("if flag:", "helper(x, w, flag=True)", "helper(x, w, flag=False)"),
}


@pytest.mark.parametrize("key", sorted(CALLEE_FLAGS))
def test_constant_passed_to_a_callee_is_a_python_if_there(key):
    from .helpers import jax_vjp, make_function

    test, first, second = CALLEE_FLAGS[key]
    helper = make_function(
        f"""
        def helper(x, w, flag):
            {test}
                y = np.sin(x) * w
            else:
                y = np.cos(x * w)
            return y
        """
    )
    f = make_function(
        f"""
        def f(x, w):
            return np.sum({first} ** 2) + np.sum({second} * x)
        """,
        namespace={"helper": helper},
    )
    values = {"x": np.array([0.3, -1.2, 0.7]), "w": np.array([1.5, 0.2, -0.4])}
    g = grad(f, wrt=("x", "w"))
    _assert_matches_fd(g, f, values, ["x", "w"])
    _, reference = jax_vjp(f, values, ("x", "w"))
    assert_close(list(g(**values)), list(reference), rtol=1e-9)
    assert "lax.cond" not in g.source
    callee = g.source.split("def helper(x, w, flag):")[1].split("\ndef ")[0]
    assert "\n    if " in callee and "\n    else:" in callee  # a Python if, in the callee itself
