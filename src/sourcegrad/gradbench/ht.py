"""ht: hand tracking (ADBench). A skinned hand model is posed by 26 parameters and compared with
measured points; the errors are the measured points minus the model's points.

theta holds the global rotation (angle-axis, 3), the global translation (3) and four angles per
finger (5 fingers): the finger's first bone bends about two axes, the next two about one each;
every other bone stays in its rest pose. A bone's pose is Euler angles (x, then y, then z, with
the angles stored in x, z, y order) applied after its rest transform relative to its parent;
a vertex is the weighted sum, over bones, of its rest position moved by each bone's transform
(posed absolute transform times the inverse rest absolute); then the whole hand is rotated and
translated. Each measured point corresponds to a vertex, or, in the "complicated" variant, to a
point of a triangle given by two barycentric coordinates ``us`` (one pair per point).

The Jacobian is dense in theta (26 columns, by ``jacfwd``). In the complicated variant each
point's error depends on its own pair of ``us`` only, so the eval wants two more columns, the
derivatives in each point's first and second coordinate: two forward tangents (all first
coordinates at once, then all second ones) give them exactly, next to theta's 26.
"""

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from sourcegrad import jacfwd, jvp
from sourcegrad.gradbench import Function, to_list


def hand_errors(theta, us, model, correspondences, points, is_mirrored, complicated):
    parents, base_relatives, inverse_base_absolutes, base_positions, weights, triangles = model

    # the helpers are nested for the reason given in ba.py; the matrices are np.stack of rows, since
    # np.array([[...], ...]) of computed entries is refused ("a nested container cannot be passed")
    def angle_axis_rotation(v):
        angle = np.sqrt(np.sum(v * v))
        if angle < 1e-4:
            return np.eye(3)
        x, y, z = v / angle
        s, c = np.sin(angle), np.cos(angle)
        return np.stack(
            [
                np.stack([x * x + (1 - x * x) * c, x * y * (1 - c) - z * s, x * z * (1 - c) + y * s]),
                np.stack([x * y * (1 - c) + z * s, y * y + (1 - y * y) * c, y * z * (1 - c) - x * s]),
                np.stack([x * z * (1 - c) - y * s, z * y * (1 - c) + x * s, z * z + (1 - z * z) * c]),
            ]
        )

    def euler_rotation(xzy):
        cx, sx = np.cos(xzy[0]), np.sin(xzy[0])
        cy, sy = np.cos(xzy[2]), np.sin(xzy[2])
        cz, sz = np.cos(xzy[1]), np.sin(xzy[1])
        Rx = np.stack([np.stack([1.0, 0.0, 0.0]), np.stack([0.0, cx, -sx]), np.stack([0.0, sx, cx])])
        Ry = np.stack([np.stack([cy, 0.0, sy]), np.stack([0.0, 1.0, 0.0]), np.stack([-sy, 0.0, cy])])
        Rz = np.stack([np.stack([cz, -sz, 0.0]), np.stack([sz, cz, 0.0]), np.stack([0.0, 0.0, 1.0])])
        return Rz @ Ry @ Rx

    n_bones = parents.shape[0]
    fingers = theta[6:].reshape(5, 4)
    angles = np.zeros((n_bones, 3))
    angles[2::4, 0] = fingers[:, 0]
    angles[2::4, 1] = fingers[:, 1]
    angles[3::4, 0] = fingers[:, 2]
    angles[4::4, 0] = fingers[:, 3]

    absolutes = np.zeros((n_bones, 4, 4))
    for i in range(n_bones):
        posed = np.eye(4)
        posed[:3, :3] = euler_rotation(angles[i])
        relative = base_relatives[i] @ posed
        if parents[i] == -1:
            absolutes[i] = relative
        else:
            absolutes[i] = absolutes[parents[i]] @ relative
    transforms = absolutes @ inverse_base_absolutes

    positions = np.einsum("vb,bij,vj->vi", weights, transforms[:, :3, :], base_positions)
    if is_mirrored:
        positions[:, 0] = -positions[:, 0]
    positions = positions @ angle_axis_rotation(theta[:3]).T + theta[3:6]

    if complicated:
        corners = triangles[correspondences]
        u, v = us[:, :1], us[:, 1:]
        hand_points = u * positions[corners[:, 0]] + v * positions[corners[:, 1]]
        hand_points = hand_points + (1 - u - v) * positions[corners[:, 2]]
    else:
        hand_points = positions[correspondences]
    return np.ravel(points - hand_points)


d_hand_errors = jacfwd(hand_errors, wrt="theta")
t_hand_errors = jvp(hand_errors, wrt=("theta", "us"))


@partial(jax.jit, static_argnums=(5, 6))
def objective(theta, us, model, correspondences, points, is_mirrored, complicated):
    return t_hand_errors.primal(theta, us, model, correspondences, points, is_mirrored, complicated)


@partial(jax.jit, static_argnums=(5, 6))
def jacobian(theta, us, model, correspondences, points, is_mirrored, complicated):
    """(3 * points) x (26 theta columns), after two columns for us in the complicated variant."""
    args = (model, correspondences, points, is_mirrored, complicated)
    if not complicated:
        return d_hand_errors(theta, us, *args)
    _, columns = jax.vmap(lambda dt, du: t_hand_errors(theta, us, *args, tangents=(dt, du)))(
        *complicated_tangents(theta, us)
    )
    return columns.T


def complicated_tangents(theta, us):
    """Tangent k gives column k of the complicated variant's Jacobian: first every point's first
    u coordinate at once, then every second one (a point's error reads its own us only), then
    each of theta's parameters."""
    n_theta = theta.shape[0]
    theta_tangents = jnp.concatenate([jnp.zeros((2, n_theta)), jnp.eye(n_theta)])
    us_tangents = jnp.zeros((n_theta + 2, *us.shape)).at[0, :, 0].set(1.0).at[1, :, 1].set(1.0)
    return theta_tangents, us_tangents


def _arguments(data):
    model = data["data"]["model"]

    def arr(source, key, dtype=np.float64):
        return np.asarray(source[key], dtype=dtype)

    model_arrays = (
        arr(model, "parents", np.int64),
        arr(model, "base_relatives"),
        arr(model, "inverse_base_absolutes"),
        arr(model, "base_positions"),
        arr(model, "weights"),
        arr(model, "triangles", np.int64),
    )
    us = np.asarray(data["us"], dtype=np.float64).reshape(-1, 2)
    return (
        arr(data, "theta"),
        us,
        model_arrays,
        arr(data["data"], "correspondences", np.int64),
        arr(data["data"], "points"),
        bool(model["is_mirrored"]),
        us.shape[0] > 0,
    )


FUNCTIONS = {
    "objective": Function(_arguments, objective, to_list),
    "jacobian": Function(_arguments, jacobian, to_list),
}
