"""Multi-task training (seed page 003): two losses' gradients accumulate before one update.

loss1.backward(); loss2.backward(); optimizer.step() adds the two gradients in .grad. Here the
second call continues from the first one's accumulators (`accumulate=`), which is the same as the
gradient of loss1 + loss2.

Run: python examples/multitask.py
"""

import numpy as np

from sourcegrad import grad


def task1(W, xs, ys):
    return np.mean((np.tanh(xs @ W) - ys) ** 2)


def task2(W, xs, ys):
    return np.mean(np.abs(xs @ W - ys) ** 1.5)


def both(W, xs, ys):
    return task1(W, xs, ys) + task2(W, xs, ys)


def main():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((4, 2)) * 0.5
    xs, ys = rng.standard_normal((16, 4)), rng.standard_normal((16, 2))
    g1, g2, g_both = grad(task1), grad(task2), grad(both)
    backward = g_both.source.split("def grad_both")[1].split("# == backward")[1]
    print("# == backward" + backward.split("# == the primal")[0].rstrip())
    for step in range(5):
        acc = g1(W, xs, ys)                   # loss1.backward()
        acc = g2(W, xs, ys, accumulate=acc)   # loss2.backward(): adds into the same accumulator
        same = np.allclose(acc, g_both(W, xs, ys))
        W = W - 0.1 * np.asarray(acc)         # optimizer.step()
        print(f"step {step}: loss1 + loss2 = {float(both(W, xs, ys)):.4f}; "
              f"accumulated == grad of the sum: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
