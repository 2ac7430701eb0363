"""gmm: the log-posterior of a Gaussian mixture with a Wishart prior (ADBench's objective).

Component k has weight logit alpha[k], mean mu[k] and inverse-covariance factor Q_k, whose
diagonal is exp(q[k]) and whose strict lower triangle is l[k] (``lower`` here), filled column by column.
"""

import math

import numpy as np

from sourcegrad import grad
from sourcegrad.gradbench import Function, to_list


def gmm_objective(alpha, mu, q, lower, x, gamma, m, wishart_const, rows, cols):
    n, d = x.shape
    k = alpha.shape[0]
    L = np.zeros((k, d, d))
    L[:, rows, cols] = lower
    Qdiag = np.exp(q)
    sum_q = np.sum(q, axis=1)

    centered = x[:, None, :] - mu[None, :, :]
    Qx = Qdiag[None, :, :] * centered + np.einsum("kij,nkj->nki", L, centered)
    main_term = alpha[None, :] + sum_q[None, :] - 0.5 * np.sum(Qx * Qx, axis=2)

    top = np.max(main_term, axis=1, keepdims=True)
    slse = np.sum(np.log(np.sum(np.exp(main_term - top), axis=1)) + top[:, 0])
    top_alpha = np.max(alpha)
    lse_alpha = np.log(np.sum(np.exp(alpha - top_alpha))) + top_alpha

    frobenius = np.sum(Qdiag * Qdiag) + np.sum(lower * lower)
    prior = 0.5 * gamma * gamma * frobenius - m * np.sum(sum_q)
    return -n * d * 0.5 * np.log(2 * np.pi) + slse - n * lse_alpha - prior + k * wishart_const


d_gmm = grad(gmm_objective, wrt=("alpha", "mu", "q", "lower"))


def wishart_constant(d: int, gamma: float, m: int) -> float:
    """The Wishart prior's normalizing constant, per component (no parameter enters it)."""
    n = d + m + 1
    log_gamma_d = 0.25 * d * (d - 1) * math.log(math.pi) + sum(
        math.lgamma(0.5 * n + 0.5 * (1 - j)) for j in range(1, d + 1)
    )
    return n * d * (math.log(gamma) - 0.5 * math.log(2)) - log_gamma_d


def _arguments(data):
    def arr(key):
        return np.asarray(data[key], dtype=np.float64)

    d = int(data["d"])
    lower = arr("l").reshape(int(data["k"]), d * (d - 1) // 2)
    # l[k] fills the strict lower triangle column by column: (row, col) = (j, i) for i < j
    cols, rows = np.triu_indices(d, 1)  # passed in: sourcegrad has no rule for np.triu_indices
    return (
        arr("alpha"),
        arr("mu"),
        arr("q"),
        lower,
        arr("x"),
        float(data["gamma"]),
        float(data["m"]),
        wishart_constant(d, float(data["gamma"]), int(data["m"])),
        rows,
        cols,
    )


def _jacobian_json(grads):
    alpha, mu, q, lower = grads
    return {"alpha": to_list(alpha), "mu": to_list(mu), "q": to_list(q), "l": to_list(lower)}


FUNCTIONS = {
    "objective": Function(_arguments, d_gmm.primal, float),
    "jacobian": Function(_arguments, d_gmm, _jacobian_json),
}
