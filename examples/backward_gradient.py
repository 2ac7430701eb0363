"""What the `gradient` argument of y.backward(gradient) means (seed page 001).

It is the seed of reverse mode: the vector v in v @ Jacobian. The generated code shows it as
`b_y = seed_like(y, seed)`, the first value of the output's accumulator.

Run: python examples/backward_gradient.py
"""

import numpy as np

from sourcegrad import grad


def f(a, b, c):
    y = 3 * a + 2 * b * b + np.log(c)
    return y


def double(x):
    z = 2 * x
    return z


def main():
    g = grad(f, wrt=("a", "b", "c"))
    print(g.source.split("# == seed")[1].split("# == the primal")[0].rstrip())
    a = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    b = np.array([3.0, 4.0, 5.0], dtype=np.float32)
    c = np.array([6.0, 7.0, 8.0], dtype=np.float32)
    ga, gb, gc = g(a, b, c, seed=np.array([0.1, 1.0, 0.0001], dtype=np.float32))
    np.set_printoptions(precision=4)
    print("y.backward([0.1, 1.0, 0.0001]):")
    print("  a.grad =", np.asarray(ga), "\n  b.grad =", np.asarray(gb), "\n  c.grad =", np.asarray(gc))
    once = g(1.0, 1.0, 1.0)
    twice = g(1.0, 1.0, 1.0, accumulate=once)
    print("y.backward() twice at a = b = c = 1: grads =", [float(t) for t in twice])
    jac = grad(double)
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    for row in range(4):
        seed = np.zeros((1, 4))
        seed[0, row] = 1.0
        print(f"one-hot seed {seed[0].astype(int)} picks Jacobian row {row}:",
              np.asarray(jac(x, seed=seed))[0])
    try:
        g(a, b, c)
    except ValueError as exc:
        print("without a seed:", str(exc).split(";")[0])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
