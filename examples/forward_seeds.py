"""Seeds in forward mode: a tangent picks a Jacobian column as a seed picks a row.

For y = 3a + 2b² + log c (elementwise, three inputs of 3 elements each), the Jacobian of y with
respect to (a, b, c) is 3 x 9. Reverse mode (`grad` with `seed=`) computes v @ J: a one-hot seed
gives row i. Forward mode (`jvp` with `tangents=`) computes J @ t: a one-hot tangent gives column
j. Both build the same Jacobian, one row or one column per run of the generated code.

Run: python examples/forward_seeds.py
"""

import numpy as np

from sourcegrad import grad, jvp


def f(a, b, c):
    y = 3 * a + 2 * b * b + np.log(c)
    return y


def main():
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([3.0, 4.0, 5.0])
    c = np.array([6.0, 7.0, 8.0])
    inputs = (a, b, c)
    forward, reverse = jvp(f, wrt=("a", "b", "c")), grad(f, wrt=("a", "b", "c"))
    code = forward.source.split("def jvp_f")[1]
    print("the tangent code, one tangent line after each primal line:")
    print("    # line" + code.split("# line", 1)[1].split("# ==")[0].rstrip())
    n = sum(x.size for x in inputs)

    columns = []
    for j in range(n):  # forward: a one-hot tangent on (a, b, c) picks column j
        flat = np.zeros(n)
        flat[j] = 1.0
        tangents = tuple(flat[3 * k:3 * k + 3] for k in range(3))
        _, column = forward(a, b, c, tangents=tangents)
        columns.append(np.asarray(column))
    by_columns = np.stack(columns, axis=1)

    rows = []
    for i in range(3):  # reverse: a one-hot seed on y picks row i
        seed = np.zeros(3)
        seed[i] = 1.0
        rows.append(np.concatenate([np.asarray(g) for g in reverse(a, b, c, seed=seed)]))
    by_rows = np.stack(rows)

    np.set_printoptions(precision=4, suppress=True)
    print("Jacobian from 9 tangents (columns):\n", by_columns)
    print("Jacobian from 3 seeds (rows):\n", by_rows)
    print("the same Jacobian:", bool(np.allclose(by_columns, by_rows, rtol=1e-6)))
    expected = np.hstack([3 * np.eye(3), np.diag(4 * b), np.diag(1 / c)])
    print("and it is [3I | diag(4b) | diag(1/c)]:", bool(np.allclose(by_columns, expected, rtol=1e-6)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
