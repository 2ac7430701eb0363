"""Derivatives of the matrix decompositions that return several arrays: ``eigh``, ``svd``, ``qr``,
``lstsq``, and of ``split``'s sections.

Each adjoint takes one cotangent per part (``None`` for a part whose adjoint another call adds),
so a part's rule passes its own ``g`` and ``None`` for the others; the sum over the parts is the
adjoint of the whole call. The formulas are the classical ones (real matrices, distinct
eigenvalues / singular values, full rank where said), written out here rather than taken from
``jax.vjp``: each docstring gives the formula it implements.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

from .core import NoDerivativeError
from .linalg import mT


# ----- symmetric matrices given by one triangle (NumPy's eigh and eigvalsh read only that) -----
def symmetric_from(a, UPLO="L"):
    """The symmetric matrix whose lower (``UPLO="L"``) or upper triangle is ``a``'s."""
    if UPLO == "L":
        return jnp.tril(a) + mT(jnp.tril(a, -1))
    return jnp.triu(a) + mT(jnp.triu(a, 1))


def triangle_adjoint(s_bar, UPLO="L"):
    """Adjoint of ``symmetric_from``: an off-diagonal entry of the triangle feeds two entries."""
    eye = jnp.eye(jnp.shape(s_bar)[-1], dtype=s_bar.dtype)
    both = s_bar + mT(s_bar)
    return (jnp.tril(both) if UPLO == "L" else jnp.triu(both)) - eye * s_bar


def eigh_of_triangle(a, UPLO="L"):
    """NumPy's ``linalg.eigh``: (eigenvalues ascending, eigenvectors as columns) of the symmetric
    matrix given by ``a``'s lower (or upper) triangle (``jnp.linalg.eigh`` symmetrizes instead)."""
    return jnp.linalg.eigh(symmetric_from(a, UPLO), symmetrize_input=False)


def eigvalsh_of_triangle(a, UPLO="L"):
    """NumPy's ``linalg.eigvalsh``: the eigenvalues of the symmetric matrix given by ``a``'s lower
    (or upper) triangle."""
    return jnp.linalg.eigvalsh(symmetric_from(a, UPLO), symmetrize_input=False)


def _eigen_gaps(w):
    """F[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it."""
    diff = jnp.expand_dims(w, -2) - jnp.expand_dims(w, -1)
    eye = jnp.eye(jnp.shape(w)[-1], dtype=w.dtype)
    return (1 - eye) / (diff + eye)


def eigh_adjoint(a, g_w, g_v, UPLO="L"):
    """Adjoint of ``w, V = eigh(a)``: with S the symmetric matrix, S-bar = V (diag(w-bar) +
    F o (V^T V-bar)) V^T, F[i, j] = 1 / (w[j] - w[i]); then onto ``a``'s triangle."""
    w, v = eigh_of_triangle(a, UPLO)
    inner = jnp.zeros(jnp.shape(a), dtype=v.dtype)
    if g_w is not None:
        inner = inner + jnp.expand_dims(g_w, -1) * jnp.eye(jnp.shape(w)[-1], dtype=v.dtype)
    if g_v is not None:
        inner = inner + _eigen_gaps(w) * (mT(v) @ g_v)
    return triangle_adjoint(v @ inner @ mT(v), UPLO)


def eigh_tangent(a, d_a, part, UPLO="L"):
    """Tangent of ``eigh(a)[part]``: with dS' = V^T dS V, dw = diag(dS'), dV = V (F o dS')."""
    w, v = eigh_of_triangle(a, UPLO)
    rotated = mT(v) @ symmetric_from(d_a, UPLO) @ v
    if part == 0:
        return jnp.diagonal(rotated, axis1=-2, axis2=-1)
    return v @ (_eigen_gaps(w) * rotated)


# ----- singular value decomposition (reduced) -----
def _check_svd(a, full_matrices):
    m, n = jnp.shape(a)[-2:]
    if full_matrices and m != n:
        raise NoDerivativeError(
            f"`svd` of a {m}x{n} matrix with full_matrices=True (NumPy's default) has no derivative: "
            f"the extra {'columns of U' if m > n else 'rows of Vh'} are any basis of a complement",
            "pass full_matrices=False (the reduced decomposition)",
        )


def _svd_parts(a):
    u, s, vt = jnp.linalg.svd(a, full_matrices=False)
    sd = jnp.expand_dims(s, -2)  # s along the last axis, as a row
    gaps = (sd + mT(sd)) * (sd - mT(sd))  # s_j^2 - s_i^2
    eye = jnp.eye(jnp.shape(s)[-1], dtype=s.dtype)
    return u, s, vt, (1 - eye) / (gaps + eye)


def svd_adjoint(a, g_u, g_s, g_vt, full_matrices=False):
    """Adjoint of ``U, s, Vt = svd(a, full_matrices=False)`` (distinct nonzero singular values):
    with J = F o (U^T U-bar), K = F o (V^T V-bar), F[i, j] = 1 / (s_j^2 - s_i^2),
    A-bar = U ((J + J^T) S + diag(s-bar) + S (K + K^T)) V^T
            + (I - U U^T) U-bar S^-1 V^T + U S^-1 V-bar^T (I - V V^T)."""
    _check_svd(a, full_matrices and g_s is None)
    u, s, vt, f = _svd_parts(a)
    v = mT(vt)
    inner = jnp.zeros(jnp.shape(s) + jnp.shape(s)[-1:], dtype=s.dtype)
    out = jnp.zeros(jnp.shape(a), dtype=s.dtype)
    if g_s is not None:
        inner = inner + jnp.expand_dims(g_s, -1) * jnp.eye(jnp.shape(s)[-1], dtype=s.dtype)
    if g_u is not None:
        j = f * (mT(u) @ g_u)
        inner = inner + (j + mT(j)) * jnp.expand_dims(s, -2)
        if jnp.shape(a)[-2] > jnp.shape(a)[-1]:
            out = out + ((g_u - u @ (mT(u) @ g_u)) / jnp.expand_dims(s, -2)) @ vt
    if g_vt is not None:
        g_v = mT(g_vt)
        k = f * (vt @ g_v)
        inner = inner + jnp.expand_dims(s, -1) * (k + mT(k))
        if jnp.shape(a)[-1] > jnp.shape(a)[-2]:
            out = out + u @ mT((g_v - v @ (vt @ g_v)) / jnp.expand_dims(s, -2))
    return out + u @ inner @ vt


def svd_tangent(a, d_a, part, full_matrices=False):
    """Tangent of ``svd(a, full_matrices=False)[part]`` (``part`` None: the singular values alone),
    with dS = U^T dA V: ds = diag(dS), dU = U (F o (dS S + S dS^T)) + (I - U U^T) dA V S^-1,
    dV = V (F o (S dS + dS^T S)) + (I - V V^T) dA^T U S^-1."""
    _check_svd(a, full_matrices and part not in (None, 1))
    u, s, vt, f = _svd_parts(a)
    v = mT(vt)
    ds = mT(u) @ d_a @ v
    if part is None or part == 1:
        return jnp.diagonal(ds, axis1=-2, axis2=-1)
    sd = jnp.expand_dims(s, -2)
    if part == 0:
        du = u @ (f * (ds * sd + mT(ds * sd)))
        if jnp.shape(a)[-2] > jnp.shape(a)[-1]:
            dav = d_a @ v
            du = du + (dav - u @ (mT(u) @ dav)) / sd
        return du
    dv = v @ (f * (mT(sd) * ds + mT(mT(sd) * ds)))
    if jnp.shape(a)[-1] > jnp.shape(a)[-2]:
        dau = mT(d_a) @ u
        dv = dv + (dau - v @ (vt @ dau)) / sd
    return mT(dv)


# ----- QR (reduced, m >= n) -----
def _check_qr(a):
    m, n = jnp.shape(a)[-2:]
    if m < n:
        raise NoDerivativeError(
            f"`qr` of a {m}x{n} matrix (fewer rows than columns) has no derivative rule: R's last "
            f"{n - m} columns are not determined by a triangular system",
            "differentiate the QR decomposition of the transpose, or of a matrix with m >= n",
        )


def qr_adjoint(a, g_q, g_r):
    """Adjoint of ``Q, R = qr(a)`` (reduced, m >= n, full rank): with M = R R-bar^T - Q-bar^T Q,
    A-bar = (Q-bar + Q copyltu(M)) R^-T, copyltu(M) = tril(M) + tril(M, -1)^T."""
    _check_qr(a)
    q, r = jnp.linalg.qr(a)
    m = jnp.zeros(jnp.shape(r), dtype=r.dtype)
    b = jnp.zeros(jnp.shape(q), dtype=q.dtype)
    if g_r is not None:
        m = m + r @ mT(g_r)
    if g_q is not None:
        m = m - mT(g_q) @ q
        b = b + g_q
    b = b + q @ (jnp.tril(m) + mT(jnp.tril(m, -1)))
    return lax.linalg.triangular_solve(r, b, left_side=False, lower=False, transpose_a=True)


def qr_tangent(a, d_a, part):
    """Tangent of ``qr(a)[part]``: with C = Q^T dA R^-1 and W = tril(C, -1) - tril(C, -1)^T,
    dQ = Q (W - C) + dA R^-1, dR = (C - W) R."""
    _check_qr(a)
    q, r = jnp.linalg.qr(a)
    da_rinv = lax.linalg.triangular_solve(r, d_a, left_side=False, lower=False)
    c = mT(q) @ da_rinv
    w = jnp.tril(c, -1) - mT(jnp.tril(c, -1))
    if part == 0:
        return q @ (w - c) + da_rinv
    return (c - w) @ r


# ----- least squares -----
def _pinv_lstsq(a, rcond):
    """The pseudo-inverse NumPy's lstsq applies: singular values <= rcond * s_max count as zero."""
    u, s, vt = jnp.linalg.svd(a, full_matrices=False)
    if rcond is None:
        rcond = jnp.finfo(s.dtype).eps * max(jnp.shape(a)[-2:])
    keep = s > rcond * s[..., :1]
    s_inv = jnp.where(keep, 1 / jnp.where(keep, s, 1), 0)
    return (mT(vt) * jnp.expand_dims(s_inv, -2)) @ mT(u)


def _column(b):
    return b[..., None] if jnp.ndim(b) == 1 else b


def lstsq_adjoint(a, b, g_x, g_res, rcond, wrt):
    """Adjoint of ``x, residuals = lstsq(a, b)[:2]`` (rank constant near ``a``), with A+ the
    pseudo-inverse, r = b - A x, P = I - A+ A: for x, b-bar = A+^T g and
    A-bar = -A+^T g x^T + r (A+ A+^T g)^T + (A+^T x) (P g)^T (Golub and Pereyra);
    for the residuals (|r|^2 per column), b-bar = 2 r g and A-bar = -2 r g x^T."""
    pinv = _pinv_lstsq(a, rcond)
    bm = _column(b)
    x = pinv @ bm
    r = bm - a @ x
    if g_x is not None:
        g = _column(g_x)
        if wrt == "b":
            out = mT(pinv) @ g
        else:
            p = jnp.eye(jnp.shape(a)[-1], dtype=a.dtype) - pinv @ a
            out = -mT(pinv) @ g @ mT(x) + r @ mT(pinv @ (mT(pinv) @ g)) + (mT(pinv) @ x) @ mT(p @ g)
    else:
        g = jnp.expand_dims(g_res, -2) if jnp.ndim(b) > 1 else jnp.reshape(g_res, (1, 1))
        out = 2 * r * g if wrt == "b" else -2 * (r * g) @ mT(x)
    return jnp.reshape(out, jnp.shape(b)) if wrt == "b" else out


def lstsq_tangent(a, b, d_a, d_b, rcond, part):
    """Tangent of ``lstsq(a, b)[part]``: dx = dA+ b + A+ db with
    dA+ = -A+ dA A+ + A+ A+^T dA^T (I - A A+) + (I - A+ A) dA^T A+^T A+; for the residuals,
    d|r|^2 = 2 r^T (db - dA x) per column."""
    pinv = _pinv_lstsq(a, rcond)
    bm, dbm = _column(b), _column(d_b)
    x = pinv @ bm
    r = bm - a @ x
    if part == 0:
        p = jnp.eye(jnp.shape(a)[-1], dtype=a.dtype) - pinv @ a
        dx = -pinv @ (d_a @ x) + pinv @ (mT(pinv) @ (mT(d_a) @ r)) + p @ (mT(d_a) @ (mT(pinv) @ x))
        dx = dx + pinv @ dbm
        return jnp.reshape(dx, jnp.shape(x)[:-1]) if jnp.ndim(b) == 1 else dx
    dres = 2 * jnp.sum(r * (dbm - d_a @ x), axis=-2)
    return dres if jnp.ndim(b) > 1 else jnp.reshape(dres, (1,))


# ----- split -----
def section_bounds(length: int, sections, part: int, even: bool = False):
    """(start, stop) of section ``part`` of an axis of ``length`` split as NumPy's ``array_split``
    (``sections`` an int: sizes differ by at most one, the longer first) or at indices."""
    if isinstance(sections, int):
        each, extra = divmod(length, sections)
        if even and extra:
            raise ValueError("array split does not result in an equal division")
        starts = [i * each + min(i, extra) for i in range(sections + 1)]
        return starts[part], starts[part + 1]
    cuts = [0, *sections, length]
    start, stop, _ = slice(cuts[part], cuts[part + 1]).indices(length)
    return start, max(start, stop)


def _split_axis(ary, axis):
    if axis is None:
        return 1 if jnp.ndim(ary) > 1 else 0
    return axis % jnp.ndim(ary)


def split_adjoint(g, ary, sections, axis, part):
    """Adjoint of one section of ``split(ary, sections, axis)``: ``g`` placed at its position,
    zeros elsewhere. ``axis`` None: ``hsplit``'s (the second, or the first of a 1-D array)."""
    axis = _split_axis(ary, axis)
    length = jnp.shape(ary)[axis]
    start, stop = section_bounds(length, sections, part)
    pads = [(0, 0)] * jnp.ndim(ary)
    pads[axis] = (start, length - stop)
    return jnp.pad(g, pads)


def split_section(g, ary, sections, axis, part):
    """Section ``part`` of ``g`` as ``split(ary, sections, axis)`` cuts it (the transpose of
    ``split_adjoint``)."""
    axis = _split_axis(ary, axis)
    start, stop = section_bounds(jnp.shape(ary)[axis], sections, part)
    return lax.slice_in_dim(g, start, stop, axis=axis)
