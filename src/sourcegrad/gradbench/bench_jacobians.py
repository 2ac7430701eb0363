"""``sourcegrad bench gradbench`` for ba and ht, whose outputs are Jacobians: the eval's own jitted
function (sourcegrad's ``jacrev``/``jacfwd``/``jvp`` batched with ``jax.vmap``) against the same
assembly around ``jax.jacrev``/``jax.jacfwd``/``jax.jvp`` of a jax.numpy version of the eval's
function, both under ``jax.jit``.

The JAX versions are the eval's NumPy functions with ``np`` bound to ``jax.numpy`` and these
changes only: an ``if`` on a traced value (ba's rotation angle, ht's global rotation angle) is a
``lax.cond`` or a ``jnp.where``; ht's writes into arrays are ``.at[...].set``, and its parents are
a static tuple so that the bone chain's ``if parent == -1`` stays a Python ``if``.
"""

from __future__ import annotations

import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from sourcegrad import grad, jacfwd, jacrev, jvp
from sourcegrad.gradbench import ba, ht


def _ba_reprojection_error(cam, X, w, feat):
    def rotate(rot, X):
        theta_sq = jnp.sum(rot * rot)

        def turn(rot, X):
            theta = jnp.sqrt(theta_sq)
            axis = rot / theta
            cos, sin = jnp.cos(theta), jnp.sin(theta)
            return X * cos + jnp.cross(axis, X) * sin + axis * (jnp.dot(axis, X) * (1 - cos))

        return jax.lax.cond(theta_sq != 0, turn, lambda rot, X: X + jnp.cross(rot, X), rot, X)

    Xcam = rotate(cam[:3], X - cam[3:6])
    proj = Xcam[:2] / Xcam[2]
    r_sq = jnp.sum(proj * proj)
    distortion = 1 + cam[9] * r_sq + cam[10] * r_sq * r_sq
    proj = proj * distortion * cam[6] + cam[7:9]
    return w * (proj - feat)


@jax.jit
def ba_jacobian_jax(cams, X, w, obs, feats):
    d_reprojection_error = jax.jacrev(_ba_reprojection_error, argnums=(0, 1, 2))
    blocks = jax.vmap(d_reprojection_error)(cams[obs[:, 0]], X[obs[:, 1]], w, feats)
    d_w_err = jax.vmap(jax.grad(lambda w: 1 - w * w))(w)
    return ba.compressed_rows(blocks, d_w_err, obs, cams.shape[0], X.shape[0])


def _ht_errors(theta, us, model, correspondences, points, is_mirrored, complicated, parents):
    _, base_relatives, inverse_base_absolutes, base_positions, weights, triangles = model

    def angle_axis_rotation(v):
        angle = jnp.sqrt(jnp.sum(v * v))
        x, y, z = v / angle
        s, c = jnp.sin(angle), jnp.cos(angle)
        R = jnp.stack(
            [
                jnp.stack([x * x + (1 - x * x) * c, x * y * (1 - c) - z * s, x * z * (1 - c) + y * s]),
                jnp.stack([x * y * (1 - c) + z * s, y * y + (1 - y * y) * c, y * z * (1 - c) - x * s]),
                jnp.stack([x * z * (1 - c) - y * s, z * y * (1 - c) + x * s, z * z + (1 - z * z) * c]),
            ]
        )
        return jnp.where(angle < 1e-4, jnp.eye(3), R)

    def euler_rotation(xzy):
        cx, sx = jnp.cos(xzy[0]), jnp.sin(xzy[0])
        cy, sy = jnp.cos(xzy[2]), jnp.sin(xzy[2])
        cz, sz = jnp.cos(xzy[1]), jnp.sin(xzy[1])
        Rx = jnp.stack([jnp.stack([1.0, 0.0, 0.0]), jnp.stack([0.0, cx, -sx]), jnp.stack([0.0, sx, cx])])
        Ry = jnp.stack([jnp.stack([cy, 0.0, sy]), jnp.stack([0.0, 1.0, 0.0]), jnp.stack([-sy, 0.0, cy])])
        Rz = jnp.stack([jnp.stack([cz, -sz, 0.0]), jnp.stack([sz, cz, 0.0]), jnp.stack([0.0, 0.0, 1.0])])
        return Rz @ Ry @ Rx

    n_bones = len(parents)
    fingers = theta[6:].reshape(5, 4)
    angles = jnp.zeros((n_bones, 3))
    angles = angles.at[2::4, 0].set(fingers[:, 0]).at[2::4, 1].set(fingers[:, 1])
    angles = angles.at[3::4, 0].set(fingers[:, 2]).at[4::4, 0].set(fingers[:, 3])

    absolutes = jnp.zeros((n_bones, 4, 4))
    for i in range(n_bones):
        posed = jnp.eye(4).at[:3, :3].set(euler_rotation(angles[i]))
        relative = base_relatives[i] @ posed
        if parents[i] == -1:
            absolutes = absolutes.at[i].set(relative)
        else:
            absolutes = absolutes.at[i].set(absolutes[parents[i]] @ relative)
    transforms = absolutes @ inverse_base_absolutes

    positions = jnp.einsum("vb,bij,vj->vi", weights, transforms[:, :3, :], base_positions)
    if is_mirrored:
        positions = positions.at[:, 0].set(-positions[:, 0])
    positions = positions @ angle_axis_rotation(theta[:3]).T + theta[3:6]

    if complicated:
        corners = triangles[correspondences]
        u, v = us[:, :1], us[:, 1:]
        hand_points = u * positions[corners[:, 0]] + v * positions[corners[:, 1]]
        hand_points = hand_points + (1 - u - v) * positions[corners[:, 2]]
    else:
        hand_points = positions[correspondences]
    return jnp.ravel(points - hand_points)


@partial(jax.jit, static_argnums=(5, 6, 7))
def ht_jacobian_jax(theta, us, model, correspondences, points, is_mirrored, complicated, parents):
    def errors(theta, us):
        return _ht_errors(theta, us, model, correspondences, points, is_mirrored, complicated, parents)

    if not complicated:
        return jax.jacfwd(errors)(theta, us)
    _, columns = jax.vmap(lambda dt, du: jax.jvp(errors, (theta, us), (dt, du)))(
        *ht.complicated_tangents(theta, us)
    )
    return columns.T


def _ba_input():
    """GradBench's ba1 (its numbers and sizes), laid out as the eval does."""
    return {
        "n": 49,
        "m": 7776,
        "p": 31843,
        "cam": [-0.758453, -1.109613, -0.845551, 34.556073, 39.676747, 53.881673]
        + [419.194514, 5.864426, -8.51887, 0.087812, 0.002739],
        "x": [7.203245, 0.001144, 3.023326],
        "w": 0.417022,
        "feat": [271.760969, 834.209256],
    }


def _ht_input(complicated: bool, n_verts=544, n_tris=1084, n_points=800):
    """A random hand the size of the eval's small model (22 bones, 544 vertices, 1084 triangles)
    and its hand5 (800 points): rest transforms are random rotations with random offsets."""
    rng = np.random.default_rng(5)

    def rigid(k):
        q, _ = np.linalg.qr(rng.normal(size=(k, 3, 3)))
        out = np.tile(np.eye(4), (k, 1, 1))
        out[:, :3, :3], out[:, :3, 3] = q, rng.normal(size=(k, 3))
        return out

    parents = [-1, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 0, 13, 14, 15, 0, 17, 18, 19, 0]
    weights = rng.random((n_verts, len(parents))) * (rng.random((n_verts, len(parents))) < 0.2) + 1e-3
    model = {
        "parents": parents,
        "base_relatives": rigid(len(parents)).tolist(),
        "inverse_base_absolutes": rigid(len(parents)).tolist(),
        "base_positions": np.concatenate([rng.normal(size=(n_verts, 3)), np.ones((n_verts, 1))], 1).tolist(),
        "weights": (weights / weights.sum(1, keepdims=True)).tolist(),
        "triangles": rng.integers(0, n_verts, (n_tris, 3)).tolist(),
        "is_mirrored": False,
    }
    data = {
        "model": model,
        "correspondences": rng.integers(0, n_tris if complicated else n_verts, n_points).tolist(),
        "points": rng.normal(size=(n_points, 3)).tolist(),
    }
    us = rng.random((n_points, 2)) / 2 if complicated else np.zeros((0, 2))
    return {"theta": rng.normal(size=26).tolist(), "data": data, "us": us.tolist()}


def fresh_transforms(name: str) -> float:
    """Seconds to transform the eval's functions anew (they were transformed at import)."""
    t0 = time.perf_counter()
    if name == "ba":
        jacrev(ba.reprojection_error, wrt=("cam", "X", "w"))
        grad(ba.weight_error)
    else:
        jacfwd(ht.hand_errors, wrt="theta") if name == "ht" else jvp(ht.hand_errors, wrt=("theta", "us"))
    return time.perf_counter() - t0


def workloads():
    """(eval, description, sourcegrad's jitted Jacobian, JAX's, arguments, JAX's arguments)."""
    ba_args = ba.FUNCTIONS["jacobian"].prepare(_ba_input())
    out = [("ba", "ba1 n=49,m=7776,p=31843", ba.jacobian, ba_jacobian_jax, ba_args, ba_args)]
    for complicated in (False, True):
        args = ht.FUNCTIONS["jacobian"].prepare(_ht_input(complicated))
        jax_args = (*args, tuple(int(p) for p in args[2][0]))
        desc = f"{'complicated' if complicated else 'simple'} c=800"
        out.append(("ht" if not complicated else "ht-c", desc, ht.jacobian, ht_jacobian_jax, args, jax_args))
    return out
