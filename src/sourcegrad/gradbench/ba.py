"""ba: bundle adjustment (ADBench). Observation i sees point X[obs[i, 1]] through camera
cams[obs[i, 0]] and was measured at feats[i]; its residual is its weight w[i] times the gap
between the projection and the measurement, and each weight is pulled toward 1 by 1 - w[i]^2.

A camera is 11 numbers: an angle-axis rotation (3), the camera center (3), the focal length,
the principal point (2) and two radial distortion coefficients. The projection rotates
X - center, divides by depth, distorts radially by 1 + k1 r^2 + k2 r^4, scales by the focal
length and shifts by the principal point.

The Jacobian of all residuals is block sparse: an observation's two residuals depend only on its
camera, its point and its weight, so each observation's 2 x 15 block comes from ``jacrev`` of
the one-observation function, batched over observations with ``jax.vmap``, and is laid out in
the compressed-row form the eval expects (rows are row starts, two rows of 15 entries per
observation, then one entry per weight).
"""

import jax
import jax.numpy as jnp
import numpy as np

from sourcegrad import grad, jacrev
from sourcegrad.gradbench import Function

N_CAM = 11


def reprojection_error(cam, X, w, feat):
    # rotate is nested: at module level here it would be a function of the `sourcegrad` package,
    # which sourcegrad takes for a library function and asks a derivative rule for
    def rotate(rot, X):
        """Rotate X by the angle-axis vector rot (Rodrigues' formula)."""
        theta_sq = np.sum(rot * rot)
        if theta_sq != 0:
            theta = np.sqrt(theta_sq)
            axis = rot / theta
            cos, sin = np.cos(theta), np.sin(theta)
            return X * cos + np.cross(axis, X) * sin + axis * (np.dot(axis, X) * (1 - cos))
        return X + np.cross(rot, X)

    Xcam = rotate(cam[:3], X - cam[3:6])
    proj = Xcam[:2] / Xcam[2]
    r_sq = np.sum(proj * proj)
    distortion = 1 + cam[9] * r_sq + cam[10] * r_sq * r_sq
    proj = proj * distortion * cam[6] + cam[7:9]
    return w * (proj - feat)


def weight_error(w):
    return 1 - w * w


d_reprojection_error = jacrev(reprojection_error, wrt=("cam", "X", "w"))
reprojection_error_primal = grad(reprojection_error, wrt=("cam", "X", "w")).primal
d_weight_error = grad(weight_error)


@jax.jit
def objective(cams, X, w, obs, feats):
    reproj_err = jax.vmap(reprojection_error_primal)(cams[obs[:, 0]], X[obs[:, 1]], w, feats)
    return jnp.ravel(reproj_err), jax.vmap(d_weight_error.primal)(w)


@jax.jit
def jacobian(cams, X, w, obs, feats):
    """The Jacobian of (reprojection errors, weight errors) in (cams, X, w), compressed rows."""
    blocks = jax.vmap(d_reprojection_error)(cams[obs[:, 0]], X[obs[:, 1]], w, feats)
    return compressed_rows(blocks, jax.vmap(d_weight_error)(w), obs, cams.shape[0], X.shape[0])


def compressed_rows(blocks, d_w_err, obs, n, m):
    """The eval's layout of the Jacobian from each observation's blocks (in its camera, point and
    weight) and each weight error's derivative: rows hold row starts, cols and vals the entries."""
    d_cam, d_X, d_w = blocks
    p = d_w.shape[0]
    entries = jnp.concatenate([d_cam, d_X, d_w[:, :, None]], axis=2)  # (p, 2 residuals, 15)
    w_cols = N_CAM * n + 3 * m + jnp.arange(p)
    block_cols = jnp.concatenate(
        [N_CAM * obs[:, :1] + jnp.arange(N_CAM), N_CAM * n + 3 * obs[:, 1:] + jnp.arange(3), w_cols[:, None]],
        axis=1,
    )  # (p, 15): the same columns for both residuals of an observation
    cols = jnp.concatenate([jnp.ravel(jnp.stack([block_cols, block_cols], axis=1)), w_cols])
    vals = jnp.concatenate([jnp.ravel(entries), d_w_err])
    width = entries.shape[2]
    rows = jnp.concatenate([width * jnp.arange(2 * p + 1), 2 * p * width + jnp.arange(1, p + 1)])
    return rows, cols, vals


def _arguments(data):
    """The eval sends one camera, point, weight and feature and the counts n, m, p: observation i
    sees point i mod m from camera i mod n."""
    n, m, p = int(data["n"]), int(data["m"]), int(data["p"])
    cams = np.tile(np.asarray(data["cam"], dtype=np.float64), (n, 1))
    X = np.tile(np.asarray(data["x"], dtype=np.float64), (m, 1))
    w = np.full(p, float(data["w"]))
    feats = np.tile(np.asarray(data["feat"], dtype=np.float64), (p, 1))
    obs = np.stack([np.arange(p) % n, np.arange(p) % m], axis=1)
    return cams, X, w, obs, feats


def _objective_json(errors):
    reproj_err, w_err = (np.asarray(e, dtype=np.float64) for e in errors)
    return {
        "reproj_error": {"elements": reproj_err[:2].tolist(), "repeated": reproj_err.size // 2},
        "w_err": {"element": float(w_err[0]), "repeated": w_err.size},
    }


def _jacobian_json(sparse):
    """Only the first 30 entries of each list and its last one travel (the eval's README)."""

    def head_and_last(x, kind):
        x = np.asarray(x)
        return np.concatenate([x[:30], x[-1:]]).astype(kind).tolist()

    rows, cols, vals = sparse
    return {
        "rows": head_and_last(rows, int),
        "cols": head_and_last(cols, int),
        "vals": head_and_last(vals, float),
    }


FUNCTIONS = {
    "objective": Function(_arguments, objective, _objective_json),
    "jacobian": Function(_arguments, jacobian, _jacobian_json),
}
