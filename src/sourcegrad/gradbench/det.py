"""det: the determinant by expansion in minors along the first row (recursive, as defined)."""

import numpy as np

from sourcegrad import grad
from sourcegrad.gradbench import Function, to_list


def det(A):
    def det_of(M):
        n = M.shape[0]
        if n == 1:
            return M[0, 0]
        total = 0.0
        sign = 1.0
        for j in range(n):
            minor = np.concatenate([M[1:, :j], M[1:, j + 1 :]], axis=1)
            total = total + sign * M[0, j] * det_of(minor)
            sign = -sign
        return total

    return det_of(A)


d_det = grad(det)


def _matrix(data):
    ell = int(data["ell"])
    return (np.asarray(data["A"], dtype=np.float64).reshape(ell, ell),)


def _flat(gradient):
    """The gradient in row-major order, as the eval's GradientOutput (double[]) has it."""
    return to_list(np.ravel(gradient))


FUNCTIONS = {
    "primal": Function(_matrix, d_det.primal, float),
    "gradient": Function(_matrix, d_det, _flat),
}
