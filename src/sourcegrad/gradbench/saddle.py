"""saddle: the saddle point of f(p, q) = |p|^2 - |q|^2 over two points of the plane, as
min over p of (max over q of f(p, q)), then the q that maximizes f at that p. Every optimization
is the gradient-descent solver of descent.py, started at the input point; the spec's formula
(x1^2 + y1^2) - (x2^2 + y2^2) names the coordinates of p as x1, y1 and those of q as x2, y2.

The inner maximization is written out in ``max_over_q``, as a data-dependent ``while`` loop
that calls the gradient of ``f`` in ``q`` (the inner derivative), and the outer descent
differentiates that whole function in ``p`` (the outer derivative): nested differentiation
through a loop with branches. The four variants choose forward (f) or reverse (r) mode for the
outer and the inner derivative, in that order; the last maximization uses the outer mode."""

import numpy as np

from sourcegrad import grad, jacfwd, jvp
from sourcegrad.gradbench import Function, descent, to_list


def f(p, q):
    return (p[0] ** 2 + p[1] ** 2) - (q[0] ** 2 + q[1] ** 2)


df_dq = grad(f, wrt="q")
jf_q = jvp(f, wrt="q")


def gradient_in_q(p, q, forward):
    if forward:  # one tangent per coordinate of q
        _, along_0 = jf_q(p, q, tangents=np.array([1.0, 0.0]))
        _, along_1 = jf_q(p, q, tangents=np.array([0.0, 1.0]))
        return np.array([along_0, along_1])
    return df_dq(p, q)


def max_over_q(p, start, forward):
    """max over q of f(p, q): gradient ascent from ``start``, the solver of descent.py."""
    q = start
    fq = f(p, q)
    gq = gradient_in_q(p, q, forward)
    eta = 1e-5
    accepted = 0
    while np.sqrt(np.sum(gq * gq)) > 1e-5:
        if accepted == 10:
            eta = 2 * eta
            accepted = 0
        else:
            q_new = q + eta * gq
            if np.sqrt(np.sum((q_new - q) ** 2)) <= 1e-5:
                break
            f_new = f(p, q_new)
            if f_new > fq:
                q, fq, gq = q_new, f_new, gradient_in_q(p, q_new, forward)
                accepted = accepted + 1
            else:
                eta = eta / 2
                accepted = 0
    return fq


d_max = grad(max_over_q, wrt="p")
jac_max = jacfwd(max_over_q, wrt="p")
jac_f = jacfwd(f, wrt="q")


def _start(data):
    return (np.asarray(data["start"], dtype=np.float64),)


def solver(outer, inner):
    forward = inner == "f"
    d_max_p, d_f_q = (jac_max, jac_f) if outer == "f" else (d_max, df_dq)

    def saddle(start):
        def objective(p):
            return float(d_max.primal(p, start, forward))

        def derivative(p):
            return d_max_p(p, start, forward)

        p = descent.argmin(objective, derivative, start)
        q = descent.argmax(lambda q: float(df_dq.primal(p, q)), lambda q: d_f_q(p, q), start)
        return np.concatenate([p, q])

    return saddle


FUNCTIONS = {
    variant: Function(_start, solver(variant[0], variant[1]), to_list) for variant in ("ff", "fr", "rf", "rr")
}
