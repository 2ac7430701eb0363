"""The GradBench tool, driven through its protocol (JSON lines over a subprocess's stdin/stdout)
with small inputs; every answer is checked against jax.grad of a jax.numpy version of the same
math written here, in float64."""

import functools
import json
import math
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

jax.config.update("jax_enable_x64", True)
RUNS = {"min_runs": 2, "min_seconds": 0}


def _inputs():
    rng = np.random.default_rng(7)
    d, k, n = 3, 2, 6
    gmm = {
        "d": d,
        "k": k,
        "n": n,
        "m": 1,
        "gamma": 1.5,
        "alpha": rng.normal(size=k).tolist(),
        "mu": rng.uniform(size=(k, d)).tolist(),
        "q": rng.normal(size=(k, d)).tolist(),
        "l": rng.normal(size=(k, d * (d - 1) // 2)).tolist(),
        "x": rng.normal(size=(n, d)).tolist(),
    }
    layers, b, c = 2, 3, 5
    lstm = {
        "main_params": rng.random((2 * layers, 4 * b)).tolist(),
        "extra_params": rng.random((3, b)).tolist(),
        "state": rng.random((2 * layers, b)).tolist(),
        "sequence": rng.integers(0, 2, (c, b)).astype(float).tolist(),
    }
    kmeans = {"centroids": rng.normal(size=(3, 2)).tolist(), "points": rng.normal(size=(9, 2)).tolist()}
    # ba: the numbers of GradBench's ba1 data file, with few cameras, points and observations
    ba = {
        "n": 3,
        "m": 4,
        "p": 7,
        "w": 0.417022,
        "feat": [271.760969, 834.209256],
        "x": [7.203245, 0.001144, 3.023326],
    }
    ba["cam"] = [-0.758453, -1.109613, -0.845551, 34.556073, 39.676747, 53.881673]
    ba["cam"] += [419.194514, 5.864426, -8.518870, 0.087812, 0.002739]
    ht_simple, ht_complicated = hand_input(rng, False, mirrored=True), hand_input(rng, True)
    return [
        ("hello", "square", 1.5),
        ("hello", "double", 1.5),
        ("lse", "primal", {"x": rng.random(20).tolist()}),
        ("lse", "gradient", {"x": rng.random(20).tolist()}),
        ("llsq", "primal", {"x": rng.random(4).tolist(), "n": 9}),
        ("llsq", "gradient", {"x": rng.random(4).tolist(), "n": 9}),
        ("ode", "primal", {"x": rng.random(5).tolist(), "s": 3}),
        ("ode", "gradient", {"x": rng.random(5).tolist(), "s": 3}),
        ("gmm", "objective", gmm),
        ("gmm", "jacobian", gmm),
        ("lstm", "objective", lstm),
        ("lstm", "jacobian", lstm),
        ("kmeans", "cost", kmeans),
        ("kmeans", "dir", kmeans),
        ("ba", "objective", ba),
        ("ba", "jacobian", ba),
        ("ht", "objective", ht_simple),
        ("ht", "jacobian", ht_simple),
        ("ht", "objective", ht_complicated),
        ("ht", "jacobian", ht_complicated),
        ("det", "primal", {"A": rng.random(9).tolist(), "ell": 3}),
        ("det", "gradient", {"A": rng.random(9).tolist(), "ell": 3}),
        ("det", "gradient", {"A": rng.random(1).tolist(), "ell": 1}),
    ]


PARENTS = [-1, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 0, 13, 14, 15, 0, 17, 18, 19, 0]  # the eval's hand


def hand_input(rng, complicated, n_verts=12, n_tris=9, n_points=5, mirrored=False):
    """A small random hand with GradBench's 22 bones: rest transforms are rotations with offsets."""

    def rigid(k):
        q, _ = np.linalg.qr(rng.normal(size=(k, 3, 3)))
        out = np.tile(np.eye(4), (k, 1, 1))
        out[:, :3, :3], out[:, :3, 3] = q, rng.normal(size=(k, 3))
        return out

    n_bones = len(PARENTS)
    weights = rng.random((n_verts, n_bones)) * (rng.random((n_verts, n_bones)) < 0.3)
    weights[:, 0] += 0.1
    model = {
        "bone_count": n_bones,
        "bone_names": [f"bone{i}" for i in range(n_bones)],
        "parents": PARENTS,
        "base_relatives": rigid(n_bones).tolist(),
        "inverse_base_absolutes": rigid(n_bones).tolist(),
        "base_positions": np.concatenate([rng.normal(size=(n_verts, 3)), np.ones((n_verts, 1))], 1).tolist(),
        "weights": (weights / weights.sum(1, keepdims=True)).tolist(),
        "triangles": rng.integers(0, n_verts, (n_tris, 3)).tolist(),
        "is_mirrored": mirrored,
    }
    n_targets = n_tris if complicated else n_verts
    data = {
        "model": model,
        "correspondences": rng.integers(0, n_targets, n_points).tolist(),
        "points": rng.normal(size=(n_points, 3)).tolist(),
    }
    us = rng.random((n_points, 2)) / 2 if complicated else np.zeros((0, 2))
    return {"theta": rng.normal(size=26).tolist(), "data": data, "us": us.tolist()}


# ----- the same math in jax.numpy (the oracle) -----
def lse(x):
    a = jnp.max(x)
    return a + jnp.log(jnp.sum(jnp.exp(x - a)))


def llsq(x, n):
    t = -1 + jnp.arange(n) * 2 / (n - 1)
    powers = t[None, :] ** jnp.arange(x.shape[0])[:, None]
    r = jnp.sign(t) - x @ powers
    return jnp.sum(r * r) / 2


def ode(x, s):
    h, y = 2.0 / s, jnp.zeros_like(x)
    f = lambda y: x * jnp.concatenate([jnp.ones(1), y[:-1]])  # noqa: E731
    for _ in range(s):
        k1 = f(y)
        k2 = f(y + h / 2 * k1)
        k3 = f(y + h / 2 * k2)
        k4 = f(y + h * k3)
        y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


def gmm(params, inp):
    alpha, mu, q, lower = params
    x, (n, d), k, gamma, m = jnp.asarray(inp["x"]), (inp["n"], inp["d"]), inp["k"], inp["gamma"], inp["m"]
    total = 0.0
    for i in range(n):
        terms = []
        for c in range(k):
            Q = jnp.diag(jnp.exp(q[c]))
            idx = 0
            for col in range(d):
                for row in range(col + 1, d):
                    Q = Q.at[row, col].set(lower[c][idx])
                    idx += 1
            v = Q @ (x[i] - mu[c])
            terms.append(alpha[c] + jnp.sum(q[c]) - 0.5 * v @ v)
        total = total + jax.scipy.special.logsumexp(jnp.stack(terms))
    w = d + m + 1
    const = w * d * (math.log(gamma) - 0.5 * math.log(2)) - float(jax.scipy.special.multigammaln(0.5 * w, d))
    prior = sum(
        0.5 * gamma**2 * (jnp.sum(jnp.exp(q[c]) ** 2) + jnp.sum(lower[c] ** 2)) - m * jnp.sum(q[c])
        for c in range(k)
    )
    return (
        -n * d * 0.5 * math.log(2 * math.pi)
        + total
        - n * jax.scipy.special.logsumexp(alpha)
        - prior
        + k * const
    )


def lstm(params, state, seq):
    main, extra = params
    layers, b = main.shape[0] // 2, seq.shape[1]
    sig = jax.nn.sigmoid
    hidden, cell = [state[2 * i] for i in range(layers)], [state[2 * i + 1] for i in range(layers)]
    total = 0.0
    for t in range(seq.shape[0] - 1):
        inp = seq[t] * extra[0]
        for i in range(layers):
            w, bias = main[2 * i].reshape(4, b), main[2 * i + 1].reshape(4, b)
            f, ig = sig(inp * w[0] + bias[0]), sig(hidden[i] * w[1] + bias[1])
            o, ch = sig(inp * w[2] + bias[2]), jnp.tanh(hidden[i] * w[3] + bias[3])
            cell[i] = cell[i] * f + ig * ch
            hidden[i] = o * jnp.tanh(cell[i])
            inp = hidden[i]
        pred = inp * extra[1] + extra[2]
        total = total + jnp.sum(seq[t + 1] * (pred - jnp.log(jnp.sum(jnp.exp(pred)) + 2)))
    return -total / ((seq.shape[0] - 1) * b)


def rodrigues(r):
    """The rotation matrix of the angle-axis vector r: cos I + sin [k]x + (1 - cos) k k^T."""
    angle = jnp.sqrt(jnp.sum(r * r) + 1e-300)  # at r = 0: the identity, and I + [dr]x to first order
    k = r / angle
    cross = jnp.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return jnp.cos(angle) * jnp.eye(3) + jnp.sin(angle) * cross + (1 - jnp.cos(angle)) * jnp.outer(k, k)


def ba_residuals(cams, X, w, obs, feats):
    """All reprojection errors (p, 2) and weight errors (p,), the rotation as a matrix."""
    cam = cams[obs[:, 0]]
    p = jnp.einsum("pij,pj->pi", jax.vmap(rodrigues)(cam[:, :3]), X[obs[:, 1]] - cam[:, 3:6])
    p = p[:, :2] / p[:, 2:]
    r2 = jnp.sum(p * p, axis=1, keepdims=True)
    proj = cam[:, 6:7] * p * (1 + cam[:, 9:10] * r2 + cam[:, 10:11] * r2**2) + cam[:, 7:9]
    return w[:, None] * (proj - feats), 1 - w * w


@functools.cache
def ba_dense_jacobian(n, m, p, cam, x, w, feat):
    """The residuals and their dense Jacobian in (cams, X, w), flattened in that order."""
    obs = jnp.stack([jnp.arange(p) % n, jnp.arange(p) % m], axis=1)
    feats = jnp.tile(jnp.asarray(feat), (p, 1))

    def residuals(flat):
        cams, X, w = flat[: 11 * n].reshape(n, 11), flat[11 * n : 11 * n + 3 * m].reshape(m, 3), flat[-p:]
        reproj, w_err = ba_residuals(cams, X, w, obs, feats)
        return jnp.concatenate([reproj.ravel(), w_err])

    flat = jnp.concatenate([jnp.tile(jnp.asarray(cam), n), jnp.tile(jnp.asarray(x), m), jnp.full(p, w)])
    return jax.jit(residuals)(flat), jax.jit(jax.jacfwd(residuals))(flat)


def ba_expected(function, inp):
    key = ("n", "m", "p", "cam", "x", "w", "feat")
    values, dense = ba_dense_jacobian(*(tuple(v) if isinstance(v, list) else v for v in map(inp.get, key)))
    p = inp["p"]
    if function == "objective":
        return {
            "reproj_error": {"elements": values[:2], "repeated": p},
            "w_err": {"element": values[2 * p], "repeated": p},
        }
    # the eval stores, for both rows of observation i, its camera's 11 columns, its point's 3 and
    # its weight's (zeros included), and one entry per weight error; each row in column order,
    # with row starts as a running count
    n, m = inp["n"], inp["m"]
    stored = np.zeros(dense.shape, dtype=bool)
    for i in range(p):
        for r in (2 * i, 2 * i + 1):
            stored[r, 11 * (i % n) : 11 * (i % n) + 11] = True
            stored[r, 11 * n + 3 * (i % m) : 11 * n + 3 * (i % m) + 3] = True
            stored[r, 11 * n + 3 * m + i] = True
        stored[2 * p + i, 11 * n + 3 * m + i] = True
    rows, cols = np.nonzero(stored)
    starts = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=dense.shape[0]))])
    vals = np.asarray(dense)[rows, cols]
    return {
        key: np.concatenate([x[:30], x[-1:]]) for key, x in (("rows", starts), ("cols", cols), ("vals", vals))
    }


def hand_errors(theta, us, inp):
    """The hand model: Euler rotations of all bones at once, the chain bone by bone."""
    data, model = inp["data"], inp["data"]["model"]
    relatives, inverses = jnp.asarray(model["base_relatives"]), jnp.asarray(model["inverse_base_absolutes"])
    n_bones = len(model["parents"])
    finger = 2 + 4 * jnp.arange(5)  # each finger's first posed bone; theta's (x, z, y) angles
    a = theta[6:].reshape(5, 4)
    tx = jnp.zeros(n_bones).at[finger].set(a[:, 0]).at[finger + 1].set(a[:, 2]).at[finger + 2].set(a[:, 3])
    tz, ty = jnp.zeros(n_bones).at[finger].set(a[:, 1]), jnp.zeros(n_bones)
    zero, one = jnp.zeros(n_bones), jnp.ones(n_bones)

    def matrices(*rows):  # (bones, 3, 3) from nine per-bone entries, row by row
        return jnp.stack(rows, axis=1).reshape(n_bones, 3, 3)

    c, s = jnp.cos, jnp.sin
    rx = matrices(one, zero, zero, zero, c(tx), -s(tx), zero, s(tx), c(tx))
    ry = matrices(c(ty), zero, s(ty), zero, one, zero, -s(ty), zero, c(ty))
    rz = matrices(c(tz), -s(tz), zero, s(tz), c(tz), zero, zero, zero, one)
    posed = jnp.tile(jnp.eye(4), (n_bones, 1, 1)).at[:, :3, :3].set(rz @ ry @ rx)
    locals_ = relatives @ posed
    absolutes = []
    for i, parent in enumerate(model["parents"]):
        absolutes.append(locals_[i] if parent == -1 else absolutes[parent] @ locals_[i])
    transforms = jnp.stack(absolutes) @ inverses
    rest = jnp.asarray(model["base_positions"])  # vertices x 4
    verts = jnp.einsum(
        "vb,bvi->iv", jnp.asarray(model["weights"]), (transforms @ rest.T)[:, :3, :].swapaxes(1, 2)
    )
    if model["is_mirrored"]:
        verts = verts * jnp.array([[-1.0], [1.0], [1.0]])
    verts = rodrigues(theta[:3]) @ verts + theta[3:6, None]
    corr = jnp.asarray(data["correspondences"])
    if len(inp["us"]):
        t = jnp.asarray(model["triangles"])[corr]
        u, v = us[:, 0], us[:, 1]
        points = u * verts[:, t[:, 0]] + v * verts[:, t[:, 1]] + (1 - u - v) * verts[:, t[:, 2]]
    else:
        points = verts[:, corr]
    return jnp.ravel(jnp.asarray(data["points"]) - points.T)


def ht_expected(function, inp):
    theta, us = jnp.asarray(inp["theta"]), jnp.asarray(inp["us"]).reshape(-1, 2)
    errors = jax.jit(lambda theta, us: hand_errors(theta, us, inp))
    if function == "objective":
        return errors(theta, us)
    d_theta = jax.jit(jax.jacfwd(errors))(theta, us)
    if not len(inp["us"]):
        return d_theta
    d_us = jax.jit(jax.jacfwd(errors, argnums=1))(theta, us)  # (3 points, points, 2)
    own = d_us.reshape(-1, 3, us.shape[0], 2)[jnp.arange(us.shape[0]), :, jnp.arange(us.shape[0])]
    return jnp.concatenate([own.reshape(-1, 2), d_theta], axis=1)


def kmeans_cost(centroids, points):
    distances = jnp.sum((points[:, None, :] - centroids[None, :, :]) ** 2, axis=2)
    return jnp.sum(jnp.min(distances, axis=1))


def expected(module, function, inp):
    a = lambda key: jnp.asarray(inp[key])  # noqa: E731
    if module == "hello":
        return inp * inp if function == "square" else 2 * inp
    if module == "lse":
        return (lse if function == "primal" else jax.grad(lse))(a("x"))
    if module == "llsq":
        return (llsq if function == "primal" else jax.grad(llsq))(a("x"), inp["n"])
    if module == "ode":
        return (
            ode(a("x"), inp["s"])
            if function == "primal"
            else jax.grad(lambda x: ode(x, inp["s"])[-1])(a("x"))
        )
    if module == "gmm":
        params = (a("alpha"), a("mu"), a("q"), a("l"))
        if function == "objective":
            return gmm(params, inp)
        g = jax.grad(gmm)(params, inp)
        return {"alpha": g[0], "mu": g[1], "q": g[2], "l": g[3]}
    if module == "kmeans":
        centroids, points = a("centroids"), a("points")
        if function == "cost":
            return kmeans_cost(centroids, points)
        gradient = jax.grad(kmeans_cost)(centroids, points)
        ones = jnp.ones_like(centroids)
        diagonal = jax.jvp(lambda c: jax.grad(kmeans_cost)(c, points), (centroids,), (ones,))[1]
        return gradient / diagonal  # the Hessian is diagonal in the centroids: H @ 1 is its diagonal
    if module == "ba":
        return ba_expected(function, inp)
    if module == "ht":
        return ht_expected(function, inp)
    if module == "det":  # jax's determinant (by LU) and its gradient, against expansion in minors
        A = a("A").reshape(inp["ell"], inp["ell"])
        return jnp.linalg.det(A) if function == "primal" else jnp.ravel(jax.grad(jnp.linalg.det)(A))
    params, state, seq = (a("main_params"), a("extra_params")), a("state"), a("sequence")
    if function == "objective":
        return lstm(params, state, seq)
    g = jax.grad(lstm)(params, state, seq)
    return jnp.concatenate([g[0].ravel(), g[1].ravel()])


@pytest.fixture(scope="module")
def session():
    cases = _inputs()
    messages = [{"id": 0, "kind": "start"}]
    for module in sorted({m for m, _, _ in cases}) + ["nosuch"]:
        messages.append({"id": len(messages), "kind": "define", "module": module})
    for module, function, inp in cases:
        full = inp | RUNS if isinstance(inp, dict) else inp
        messages.append(
            {"id": len(messages), "kind": "evaluate", "module": module, "function": function, "input": full}
        )
    messages.append({"id": len(messages), "kind": "analysis", "of": 3, "valid": True})
    proc = subprocess.run(
        [sys.executable, "-m", "sourcegrad.gradbench"],
        capture_output=True,
        text=True,
        input="".join(json.dumps(m) + "\n" for m in messages),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    responses = [json.loads(line) for line in proc.stdout.splitlines()]
    return cases, messages, responses


def test_every_message_gets_one_response_with_its_id(session):
    _, messages, responses = session
    assert [r["id"] for r in responses] == [m["id"] for m in messages]
    assert responses[0]["tool"] == "sourcegrad"
    assert responses[-1] == {"id": messages[-1]["id"]}


def test_define_says_which_evals_exist(session):
    _, messages, responses = session
    by_module = {m["module"]: r for m, r in zip(messages, responses) if m["kind"] == "define"}
    evals = ("hello", "lse", "llsq", "ode", "gmm", "lstm", "ba", "ht", "det")
    assert all(by_module[m]["success"] for m in evals)
    assert by_module["nosuch"]["success"] is False and "nosuch" in by_module["nosuch"]["error"]


def _close(got, want):
    if isinstance(want, dict):
        assert set(got) == set(want)
        for key in want:
            _close(got[key], want[key])
        return
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    assert got.shape == want.shape
    assert np.all(np.abs(got - want) / np.maximum(1, np.abs(got) + np.abs(want)) <= 1e-9), (got, want)


def test_outputs_agree_with_jax_and_every_run_is_timed(session):
    cases, messages, responses = session
    evaluated = [(m, r) for m, r in zip(messages, responses) if m["kind"] == "evaluate"]
    assert len(evaluated) == len(cases)
    for (module, function, inp), (_, response) in zip(cases, evaluated):
        assert response["success"], response.get("error")
        _close(response["output"], expected(module, function, inp))
        runs = 1 if module == "hello" else RUNS["min_runs"]
        assert len(response["timings"]) == runs
        assert all(t["name"] == "evaluate" and t["nanoseconds"] > 0 for t in response["timings"])


def test_bench_gradbench_is_a_bench_subcommand():
    from sourcegrad.cli import build_parser

    args = build_parser().parse_args(["bench", "gradbench", "--only", "lse,gmm"])
    assert args.suite == "gradbench" and args.only == "lse,gmm"


def test_ba_blocks_land_in_their_rows_and_columns():
    """Distinct cameras (one with no rotation), points and weights, which the eval's inputs (one of
    each, repeated) cannot show: the compressed rows, expanded, are jax's dense Jacobian."""
    from sourcegrad.gradbench import ba

    rng = np.random.default_rng(3)
    n, m, p = 3, 4, 7
    cams = np.concatenate(
        [rng.normal(size=(n, 6)), rng.uniform(1, 2, (n, 3)), rng.normal(size=(n, 2)) / 10], 1
    )
    cams[1, :3] = 0.0
    X, w, feats = rng.normal(size=(m, 3)) + [0, 0, 8], rng.normal(size=p), rng.normal(size=(p, 2))
    obs = np.stack([rng.integers(0, n, p), rng.integers(0, m, p)], axis=1)

    def residuals(flat):
        reproj, w_err = ba_residuals(
            flat[: 11 * n].reshape(n, 11), flat[11 * n : -p].reshape(m, 3), flat[-p:], obs, feats
        )
        return jnp.concatenate([reproj.ravel(), w_err])

    flat = jnp.concatenate([cams.ravel(), X.ravel(), w])
    rows, cols, vals = (np.asarray(a) for a in ba.jacobian(cams, X, w, obs, feats))
    dense = np.zeros((3 * p, flat.size))
    for r in range(3 * p):
        for k in range(rows[r], rows[r + 1]):
            dense[r, cols[k]] += vals[k]
    assert rows[-1] == cols.size == vals.size == 31 * p
    _close(dense, jax.jacfwd(residuals)(flat))
    reproj, w_err = ba.objective(cams, X, w, obs, feats)
    _close(np.concatenate([np.ravel(reproj), w_err]), residuals(flat))


# ----- particle and saddle: nested derivatives, GradBench's default inputs -----
# jax.grad and jax.jvp trace abstract values, on which Python's `while`/`if` cannot branch, so the
# references below take their loops' decisions from a run on concrete numbers and let JAX
# differentiate the same computation along that path (the decisions are piecewise constant).

NESTED_INPUTS = {"particle": {"w": 0.0}, "saddle": {"start": [1.0, 1.0]}}
# GradBench's own expected outputs for those inputs (the evals' run.py)
GRADBENCH_EXPECTED = {"particle": 0.2071918746486116, "saddle": [8.246324826140356e-06] * 4}


def descend(branch, f, g, x):
    """GradBench's gradient-descent solver (the rules of its gd.hpp), each decision on data taken
    through ``branch``; returns the point where it stops and the objective there."""
    fx, gx, eta, accepted = f(x), g(x), 1e-5, 0
    while branch(jnp.sqrt(jnp.sum(gx * gx)) > 1e-5):
        if accepted == 10:
            eta, accepted = 2 * eta, 0
            continue
        x_new = x - eta * gx
        if branch(jnp.sqrt(jnp.sum((x_new - x) ** 2)) <= 1e-5):
            break
        f_new = f(x_new)
        if branch(f_new < fx):
            x, fx, gx, accepted = x_new, f_new, g(x_new), accepted + 1
        else:
            eta, accepted = eta / 2, 0
    return x, fx


def _concrete(condition):
    return bool(condition)


def particle_potential(x, w):
    return 1 / jnp.linalg.norm(x - jnp.array([10.0, 10.0 - w])) + 1 / jnp.linalg.norm(
        x - jnp.array([10.0, 0.0])
    )


def _euler_step(x, v, w, inner):
    if inner == "r":
        gradient = jax.grad(particle_potential)(x, w)
    else:  # forward: one tangent per coordinate
        along = lambda e: jax.jvp(lambda x: particle_potential(x, w), (x,), (e,))[1]  # noqa: E731
        gradient = jnp.stack([along(jnp.array([1.0, 0.0])), along(jnp.array([0.0, 1.0]))])
    return x + 0.1 * v, v - 0.1 * gradient


@functools.partial(jax.jit, static_argnames=("trips", "inner"))
def particle_miss(w, trips, inner):
    """x(t_f)**2 after ``trips`` Euler steps."""
    x, v = jax.lax.fori_loop(
        0,
        trips,
        lambda _, s: _euler_step(*s, w, inner),
        (jnp.array([0.0, 8.0]), jnp.array([0.75, 0.0])),
    )
    return (x[0] - x[1] / v[1] * v[0]) ** 2


@jax.jit
def particle_trips(w):
    def test(state):
        x, v, _ = state
        return x[1] + 0.1 * v[1] > 0

    def step(state):
        x, v, k = state
        return *_euler_step(x, v, w, "r"), k + 1

    return jax.lax.while_loop(test, step, (jnp.array([0.0, 8.0]), jnp.array([0.75, 0.0]), 0))[2]


_particle_derivative = {
    "r": jax.jit(jax.grad(particle_miss), static_argnames=("trips", "inner")),
    "f": jax.jit(
        lambda w, trips, inner: jax.jvp(lambda w: particle_miss(w, trips, inner), (w,), (1.0,))[1],
        static_argnames=("trips", "inner"),
    ),
}


@functools.cache
def particle_reference(w0, outer, inner):
    trips = lambda w: int(particle_trips(w))  # noqa: E731
    d_miss = _particle_derivative[outer]
    w, _ = descend(
        _concrete,
        lambda w: particle_miss(w, trips(w), inner),
        lambda w: d_miss(w, trips=trips(w), inner=inner),
        jnp.asarray(w0),
    )
    return w


def saddle_f(p, q):
    return jnp.sum(p * p) - jnp.sum(q * q)


_saddle_df_dq = jax.jit(jax.grad(saddle_f, argnums=1))


@jax.jit
def saddle_max(p, start):
    """max over q of f(p, q): the solver's ascent from ``start`` as a fixed number of steps, each
    decision a jnp.where, the steps after the stop doing nothing (so that jax.grad goes through)."""

    def step(state, _):
        q, fq, gq, eta, accepted, done = state
        double = accepted == 10
        q_new = q + eta * gq
        f_new = saddle_f(p, q_new)
        stop = done | (jnp.sqrt(jnp.sum(gq * gq)) <= 1e-5)
        stop = stop | (~double & (jnp.sqrt(jnp.sum((q_new - q) ** 2)) <= 1e-5))
        take = ~stop & ~double & (f_new > fq)
        halve = ~stop & ~double & ~(f_new > fq)
        q, fq, gq = (
            jnp.where(take, new, old)
            for new, old in ((q_new, q), (f_new, fq), (jax.grad(saddle_f, argnums=1)(p, q_new), gq))
        )
        eta = jnp.where(~stop & double, 2 * eta, jnp.where(halve, eta / 2, eta))
        accepted = jnp.where(~stop & double, 0, jnp.where(take, accepted + 1, jnp.where(halve, 0, accepted)))
        return (q, fq, gq, eta, accepted, stop), None

    init = (start, saddle_f(p, start), _saddle_df_dq(p, start), 1e-5, 0, False)
    (_, fq, _, _, _, done), _ = jax.lax.scan(step, init, None, length=SADDLE_STEPS)
    return fq, done


SADDLE_STEPS = 1000  # more than the ascent takes from the eval's start (checked: `done`)


@functools.cache
def saddle_reference(start):
    start = jnp.asarray(start)
    value = lambda p: saddle_max(p, start)[0]  # noqa: E731
    d_value = jax.jit(jax.grad(value))
    assert bool(saddle_max(start, start)[1])
    p, _ = descend(_concrete, value, d_value, start)
    q, _ = descend(_concrete, lambda q: -saddle_f(p, q), lambda q: -_saddle_df_dq(p, q), start)
    return jnp.concatenate([p, q])


@pytest.fixture(scope="module")
def nested_session():
    messages = [{"id": 0, "kind": "start"}]
    for module, inp in NESTED_INPUTS.items():
        messages.append({"id": len(messages), "kind": "define", "module": module})
        for function in ("ff", "fr", "rf", "rr"):
            evaluate = {"kind": "evaluate", "module": module, "function": function, "input": inp | RUNS}
            messages.append({"id": len(messages)} | evaluate)
    proc = subprocess.run(
        [sys.executable, "-m", "sourcegrad.gradbench"],
        capture_output=True,
        text=True,
        input="".join(json.dumps(m) + "\n" for m in messages),
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    responses = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["id"] for r in responses] == [m["id"] for m in messages]
    return {(m["module"], m["function"]): r for m, r in zip(messages, responses) if m["kind"] == "evaluate"}


@pytest.mark.parametrize("variant", ["ff", "fr", "rf", "rr"])
def test_particle_agrees_with_jax_in_its_variant(nested_session, variant):
    response = nested_session["particle", variant]
    assert response["success"], response.get("error")
    assert len(response["timings"]) == RUNS["min_runs"]
    want = particle_reference(NESTED_INPUTS["particle"]["w"], variant[0], variant[1])
    _close(response["output"], want)


def test_saddle_agrees_with_jax_in_every_variant(nested_session):
    want = saddle_reference(tuple(NESTED_INPUTS["saddle"]["start"]))
    for variant in ("ff", "fr", "rf", "rr"):
        response = nested_session["saddle", variant]
        assert response["success"], (variant, response.get("error"))
        assert len(response["timings"]) == RUNS["min_runs"]
        _close(response["output"], want)


@pytest.mark.parametrize("module", sorted(NESTED_INPUTS))
def test_nested_references_are_gradbench_expected_answers(module):
    """The JAX references reproduce GradBench's expected outputs within the eval's tolerance."""
    inp = NESTED_INPUTS[module]
    got = (
        particle_reference(inp["w"], "r", "r")
        if module == "particle"
        else saddle_reference(tuple(inp["start"]))
    )
    want = np.asarray(GRADBENCH_EXPECTED[module])
    assert np.all(np.abs(np.asarray(got) - want) / np.maximum(1, np.abs(got) + np.abs(want)) <= 1e-4)


def test_the_tool_runs_with_xlas_small_loop_threshold_unless_xla_flags_chooses():
    from sourcegrad.gradbench.__main__ import SMALL_LOOP_BYTES, with_small_loops

    env = with_small_loops({"PATH": "/bin", "XLA_FLAGS": "--xla_dump_to=/tmp/d"})
    assert env["PATH"] == "/bin"
    assert env["XLA_FLAGS"] == (
        "--xla_dump_to=/tmp/d --xla_backend_extra_options="
        f"xla_cpu_small_while_loop_byte_threshold={SMALL_LOOP_BYTES}"
    )
    assert with_small_loops(env) is None  # already set: no second start
    assert with_small_loops({"XLA_FLAGS": "--xla_backend_extra_options=a=1"}) is None  # the user's
