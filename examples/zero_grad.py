"""Why optimizer.zero_grad() exists (seed page 000), answered by reading the generated code.

PyTorch adds each backward() into .grad, so a training loop must zero the gradients between
steps. sourcegrad's gradient function shows both paths: with `accumulate=None` its accumulators
start at zero; with `accumulate=previous` they start from the previous gradients. This script
trains the page's linear model with plain gradient descent and with Adam, with and without
zeroing, and then accumulates gradients over micro-batches (gradient_accumulation_steps).

Run: python examples/zero_grad.py
"""

import numpy as np

from sourcegrad import grad


def linear_model(x, W, b):
    return x @ W + b


def loss(W, b, sample, target):
    output = linear_model(sample, W, b)
    return np.sum((output - target) ** 2)


def data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 4))
    true_W, true_b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    return x, x @ true_W + true_b, rng.standard_normal((4, 3)), rng.standard_normal(3)


def total_loss(W, b, x, y):
    return float(np.sum((x @ W + b - y) ** 2))


def gradient_descent(g, zero_grad: bool, steps=3, lr=0.02):
    x, y, W, b = data()
    acc = None
    for _ in range(steps):
        for sample, target in zip(x, y):
            if zero_grad:
                acc = None  # W.grad.data.zero_(); b.grad.data.zero_()
            acc = g(W, b, sample, target, accumulate=acc)  # loss.backward()
            W, b = W - lr * acc[0], b - lr * acc[1]
    return total_loss(W, b, x, y)


def adam(g, zero_grad: bool, steps=3, lr=0.05, b1=0.9, b2=0.999, eps=1e-8):
    x, y, W, b = data()
    params = [W, b]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    acc, t = None, 0
    for _ in range(steps):
        for sample, target in zip(x, y):
            if zero_grad:
                acc = None  # optimizer.zero_grad()
            acc = g(*params, sample, target, accumulate=acc)
            t += 1
            grads = [np.asarray(a) for a in acc]
            m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, grads)]
            v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, grads)]
            params = [p - lr * (mi / (1 - b1 ** t)) / (np.sqrt(vi / (1 - b2 ** t)) + eps)
                      for p, mi, vi in zip(params, m, v)]
    return total_loss(*params, x, y)


def main():
    g = grad(loss, wrt=("W", "b"))
    print(g.source.split("def grad_loss")[1].split("# == seed")[0].strip().join(["def grad_loss", "\n"]))
    x, y, W, b = data()
    print(f"loss before training: {total_loss(W, b, x, y):10.3f}")
    for name, train in (("gradient descent", gradient_descent), ("Adam", adam)):
        zeroed, kept = train(g, True), train(g, False)
        print(f"{name:17s} with zero_grad: {zeroed:10.3f}   without: {kept:14.3f}")
    # gradient accumulation over micro-batches: the sum of four micro-batch gradients
    acc = None
    for start in range(0, 32, 8):
        acc = g(W, b, x[start:start + 8], y[start:start + 8], accumulate=acc)
    full = g(W, b, x, y)
    diff = max(float(np.max(np.abs(np.asarray(a) - np.asarray(f)))) for a, f in zip(acc, full))
    print(f"4 micro-batches accumulated vs one batch of 32: max difference {diff:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
