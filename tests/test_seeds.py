"""Every example of the seed pages that is in scope, reproducing its printed numbers."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sourcegrad import SeedError, grad

from . import seed_functions as sf
from .helpers import assert_close

# ----- page 001: the `gradient` argument of backward() -----


def test_page001_weighted_seed_reproduces_printed_gradients():
    f = grad(sf.page001_y, wrt=("a", "b", "c"))
    a = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    b = np.array([3.0, 4.0, 5.0], dtype=np.float32)
    c = np.array([6.0, 7.0, 8.0], dtype=np.float32)
    ga, gb, gc = f(a, b, c, seed=np.array([0.1, 1.0, 0.0001], dtype=np.float32))
    # printed on the page: tensor([3.0000e-01, 3.0000e+00, 3.0000e-04]) etc.
    assert_close(ga, [3.0000e-01, 3.0000e00, 3.0000e-04], rtol=1e-4)
    assert_close(gb, [1.2000e00, 1.6000e01, 2.0000e-03], rtol=1e-4)
    assert_close(gc, [1.6667e-02, 1.4286e-01, 1.2500e-05], rtol=1e-4)
    assert ga.dtype == np.float32


def test_page001_scalar_inputs_need_no_seed():
    f = grad(sf.page001_y, wrt=("a", "b", "c"))
    ga, gb, gc = f(0.1, 1.0, 0.1)
    assert (float(ga), float(gb), float(gc)) == pytest.approx((3.0, 4.0, 10.0))


def test_page001_two_backward_calls_accumulate():
    f = grad(sf.page001_y, wrt=("a", "b", "c"))
    once = f(1.0, 1.0, 1.0)
    twice = f(1.0, 1.0, 1.0, accumulate=once)
    # y.backward(retain_graph=True); y.backward() -> a.grad = 6, b.grad = 8, c.grad = 2
    assert [float(g) for g in twice] == pytest.approx([6.0, 8.0, 2.0])
    assert [float(g) for g in once] == pytest.approx([3.0, 4.0, 1.0])


def test_page001_vector_output_without_seed_is_a_clear_error():
    f = grad(sf.page001_y, wrt=("a", "b", "c"))
    with pytest.raises(SeedError, match=r"shape \(3,\).*seed="):
        f(np.ones(3), np.ones(3), np.ones(3))


@pytest.mark.parametrize("row", range(4))
def test_page001_one_hot_seeds_pick_jacobian_rows(row):
    f = grad(sf.page001_z)
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    seed = np.zeros((1, 4))
    seed[0, row] = 1.0
    expected = np.zeros((1, 4))
    expected[0, row] = 2.0  # "2 0 0 0", then "0 2 0 0", ...
    assert_close(f(x, seed=seed), expected)


def test_page001_all_ones_seed_equals_backward_of_the_sum():
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    through_z = grad(sf.page001_z)(x, seed=np.ones((1, 4)))
    # loss = z.sum(dim=1) has one element: loss.backward() needs no explicit seed
    through_loss = grad(sf.page001_loss)(x)
    assert_close(through_z, [[2, 2, 2, 2]])
    assert_close(through_loss, [[2, 2, 2, 2]])


def test_page001_weighted_losses():
    # loss = [l1, l2, l3]; backward([-0.1, 1.0, 0.0001]) = -0.1 dl1/dw + dl2/dw + 1e-4 dl3/dw
    f = grad(sf.page001_y, wrt="b")
    b = np.array([3.0, 4.0, 5.0])
    g = f(np.zeros(3), b, np.ones(3), seed=np.array([-0.1, 1.0, 0.0001]))
    assert_close(g, np.array([-0.1, 1.0, 0.0001]) * 4 * b)


# ----- page 000: zero_grad -----


def _data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((n, 4))
    true_W = rng.standard_normal((4, 3))
    targets = data @ true_W + 0.5
    W0 = rng.standard_normal((4, 3))
    b0 = rng.standard_normal(3)
    return data, targets, W0, b0


def _oracle_grad(W, b, sample, target):
    return jax.grad(lambda W, b: jnp.sum((sample @ W + b - target) ** 2), argnums=(0, 1))(W, b)


def _total_loss(W, b, data, targets):
    return float(np.sum((data @ W + b - targets) ** 2))


def _train(zero_grad: bool, steps=5, lr=0.03):
    """The page's vanilla gradient-descent loop, with or without zeroing the gradients."""
    data, targets, W, b = _data()
    f = grad(sf.page000_loss, wrt=("W", "b"))
    acc = None
    history = []
    for _ in range(steps):
        for sample, target in zip(data, targets):
            if zero_grad:
                acc = None  # W.grad.data.zero_(); b.grad.data.zero_()
            acc = f(W, b, sample, target, accumulate=acc)  # loss.backward()
            W = W - lr * acc[0]
            b = b - lr * acc[1]
        history.append(_total_loss(W, b, data, targets))
    return W, b, history


def test_page000_each_step_uses_the_fresh_gradient_when_zeroed():
    data, targets, W, b = _data()
    f = grad(sf.page000_loss, wrt=("W", "b"))
    for sample, target in zip(data[:5], targets[:5]):
        gW, gb = f(W, b, sample, target)
        rW, rb = _oracle_grad(W, b, sample, target)
        assert_close(gW, rW)
        assert_close(gb, rb)
        W, b = W - 0.01 * gW, b - 0.01 * gb


def test_page000_without_zeroing_the_gradient_is_the_running_sum():
    data, targets, W, b = _data()
    f = grad(sf.page000_loss, wrt=("W", "b"))
    acc, total = None, None
    for sample, target in zip(data[:5], targets[:5]):
        acc = f(W, b, sample, target, accumulate=acc)
        fresh = _oracle_grad(W, b, sample, target)
        total = fresh if total is None else tuple(t + g for t, g in zip(total, fresh))
        assert_close(acc[0], total[0])
        assert_close(acc[1], total[1])
        W, b = W - 0.01 * acc[0], b - 0.01 * acc[1]


def test_page000_zeroing_matters_for_training():
    data, targets, W0, b0 = _data()
    start = _total_loss(W0, b0, data, targets)
    *_, zeroed = _train(zero_grad=True)
    *_, accumulated = _train(zero_grad=False)
    assert zeroed[-1] < 0.05 * start  # plain gradient descent converges
    assert accumulated[-1] > 10 * zeroed[-1]  # stale gradients keep pushing: it does not


def test_page000_gradient_accumulation_over_micro_batches():
    """gradient_accumulation_steps: summing micro-batch gradients gives the big batch's gradient."""
    data, targets, W, b = _data()
    f = grad(sf.page000_loss, wrt=("W", "b"))
    acc = None
    for start in range(0, 16, 4):  # 4 micro-batches of 4 samples
        acc = f(W, b, data[start : start + 4], targets[start : start + 4], accumulate=acc)
    full = f(W, b, data, targets)
    assert_close(acc[0], full[0])
    assert_close(acc[1], full[1])


def test_page000_adam_matches_adam_on_jax_gradients():
    data, targets, W, b = _data()
    f = grad(sf.page000_loss, wrt=("W", "b"))

    def adam(params, grads, state, lr=0.05, b1=0.9, b2=0.999, eps=1e-8):
        m, v, t = state
        t += 1
        m = [b1 * mi + (1 - b1) * g for mi, g in zip(m, grads)]
        v = [b2 * vi + (1 - b2) * g * g for vi, g in zip(v, grads)]
        new = [
            p - lr * (mi / (1 - b1**t)) / (np.sqrt(vi / (1 - b2**t)) + eps) for p, mi, vi in zip(params, m, v)
        ]
        return new, (m, v, t)

    ours = [W, b]
    ref = [W, b]
    s1 = ([np.zeros_like(W), np.zeros_like(b)], [np.zeros_like(W), np.zeros_like(b)], 0)
    s2 = s1
    for sample, target in zip(data, targets):
        ours, s1 = adam(ours, [np.asarray(g) for g in f(*ours, sample, target)], s1)
        ref, s2 = adam(ref, [np.asarray(g) for g in _oracle_grad(*ref, sample, target)], s2)
    assert_close(ours[0], ref[0])
    assert_close(ours[1], ref[1])
    assert _total_loss(*ours, data, targets) < _total_loss(W, b, data, targets)


# ----- page 003: multi-task accumulation, requires_grad propagation -----


def test_page003_two_losses_accumulate_before_one_step():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((4, 2))
    xs, ys = rng.standard_normal((8, 4)), rng.standard_normal((8, 2))
    g1 = grad(sf.page003_task1)(W, xs, ys)
    both = grad(sf.page003_task2)(W, xs, ys, accumulate=g1)
    ref = jax.grad(lambda W: jnp.mean((jnp.tanh(xs @ W) - ys) ** 2) + jnp.mean(jnp.abs(xs @ W - ys) ** 1.5))(
        W
    )
    assert_close(both, ref)


def test_page003_requires_grad_false_prunes_the_frozen_branch():
    f = grad(sf.frozen_first_layer, wrt="W2")
    src = f.source.split("def grad_frozen_first_layer")[1]
    backward = src.split("== backward")[1]
    # h depends only on frozen W1 and data: no accumulator for it, for x, or for W1
    assert "b_h =" not in backward and "b_W1" not in backward and "b_x" not in backward
    assert "no adjoint: `h` is constant with respect to W2" in backward
    rng = np.random.default_rng(0)
    W1, W2 = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    ref = jax.grad(lambda W2: jnp.mean((jnp.tanh(x @ W1) @ W2 - y) ** 2))(W2)
    assert_close(f(W1, W2, x, y), ref)


# ----- page 002: no-grad regions and detach -----


def test_page002_no_grad_values_are_constants():
    f = grad(sf.with_no_grad, wrt="w")
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal(3)
    ref = jax.grad(lambda w: jnp.sum((x @ w) / jax.lax.stop_gradient(jnp.sqrt(jnp.sum(w**2)))))(w)
    assert_close(f(x, w), ref)
    backward = f.source.split("== backward")[1]
    assert "block: constants (no_grad), no adjoint" in backward
    assert "b_norm" not in backward


def test_page002_stop_gradient_is_detach():
    f = grad(sf.with_stop_gradient, wrt="w")
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal(3)
    ref = jax.grad(lambda w: jnp.sum((x @ w - 0.5 * jax.lax.stop_gradient(x @ w)) ** 2))(w)
    assert_close(f(x, w), ref)
    assert "lax.stop_gradient" in f.source
