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
from .linalg import mT, symmetric_from, triangle_adjoint


# ----- symmetric matrices given by one triangle (NumPy's eigh and eigvalsh read only that) -----
def eigh_of_triangle(a, UPLO="L", symmetrize=False):
    """NumPy's ``linalg.eigh``: (eigenvalues ascending, eigenvectors as columns) of the symmetric
    matrix given by ``a``'s lower (or upper) triangle (``jnp.linalg.eigh`` symmetrizes instead,
    as ``symmetrize`` does)."""
    return jnp.linalg.eigh(symmetric_from(a, UPLO, symmetrize), symmetrize_input=False)


def eigvalsh_of_triangle(a, UPLO="L"):
    """NumPy's ``linalg.eigvalsh``: the eigenvalues of the symmetric matrix given by ``a``'s lower
    (or upper) triangle."""
    return jnp.linalg.eigvalsh(symmetric_from(a, UPLO), symmetrize_input=False)


def _eigen_gaps(w):
    """F[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it."""
    diff = jnp.expand_dims(w, -2) - jnp.expand_dims(w, -1)
    eye = jnp.eye(jnp.shape(w)[-1], dtype=w.dtype)
    return (1 - eye) / (diff + eye)


def eigh_adjoint(a, g_w, g_v, UPLO="L", symmetrize=False):
    """Adjoint of ``w, V = eigh(a)``: with S the symmetric matrix, S-bar = V (diag(w-bar) +
    F o (V^T V-bar)) V^T, F[i, j] = 1 / (w[j] - w[i]); then onto ``a``'s triangle, or with
    ``symmetrize`` (JAX's eigh, of (a + a^T) / 2) onto both."""
    w, v = eigh_of_triangle(a, UPLO, symmetrize)
    inner = jnp.zeros(jnp.shape(a), dtype=v.dtype)
    if g_w is not None:
        inner = inner + jnp.expand_dims(g_w, -1) * jnp.eye(jnp.shape(w)[-1], dtype=v.dtype)
    if g_v is not None:
        inner = inner + _eigen_gaps(w) * (mT(v) @ g_v)
    return triangle_adjoint(v @ inner @ mT(v), UPLO, symmetrize)


def eigh_tangent(a, d_a, part, UPLO="L", symmetrize=False):
    """Tangent of ``eigh(a)[part]``: with dS' = V^T dS V, dw = diag(dS'), dV = V (F o dS')."""
    w, v = eigh_of_triangle(a, UPLO, symmetrize)
    rotated = mT(v) @ symmetric_from(d_a, UPLO, symmetrize) @ v
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
def _lstsq_keep(s, shape, rcond, numpy):
    """The singular values the solution uses. NumPy (LAPACK's gelsd): ``rcond=None`` is
    eps * max(m, n), one <= 0 or >= 1 is eps / 2, and s <= rcond * s_max counts as zero; JAX's
    ``lstsq``: one < 0 is eps, and s >= rcond * s_max (s > 0) is kept."""
    eps = jnp.finfo(s.dtype).eps
    if rcond is None:
        rcond = eps * max(shape[-2:])
    elif numpy:
        rcond = jnp.where((rcond <= 0) | (rcond >= 1), eps / 2, rcond)
    else:
        rcond = jnp.where(rcond < 0, eps, rcond)
    tol = rcond * s[..., :1]
    return s > tol if numpy else (s > 0) & (s >= tol)


def _cut_svd(a, keep_of):
    """U, s, V^T of ``a``, which singular values ``keep_of(s)`` keeps, and their inverses (0 for the
    others): the pseudo-inverse is V diag(inv) U^T."""
    u, s, vt = jnp.linalg.svd(a, full_matrices=False)
    keep = keep_of(s)
    return u, s, vt, keep, jnp.where(keep, 1 / jnp.where(keep, s, 1), 0)


def _lstsq_svd(a, rcond, numpy):
    return _cut_svd(a, lambda s: _lstsq_keep(s, jnp.shape(a), rcond, numpy))


def _numpy_pinv_svd(a):
    """NumPy's ``linalg.pinv`` (its default rcond, 1e-15): s <= 1e-15 * s_max counts as zero."""
    return _cut_svd(a, lambda s: s > 1e-15 * s[..., :1])


def pinv_numpy(a):
    """NumPy's ``linalg.pinv`` (``jnp.linalg.pinv`` cuts at 10 * max(m, n) * eps instead)."""
    u, _, vt, _, inv = _numpy_pinv_svd(a)
    return (mT(vt) * jnp.expand_dims(inv, -2)) @ mT(u)


def pinv_adjoint(g, a):
    """Adjoint of ``pinv_numpy(a)``: ``_pinv_derivative`` of g^T."""
    return _pinv_derivative(a, _numpy_pinv_svd(a), mT(g))


def pinv_tangent(a, d_a):
    """Tangent of ``pinv_numpy(a)``: ``_pinv_derivative`` of dA, transposed."""
    return mT(_pinv_derivative(a, _numpy_pinv_svd(a), d_a))


def _column(b):
    return b[..., None] if jnp.ndim(b) == 1 else b


def lstsq_numpy(a, b, rcond=None):
    """NumPy's ``linalg.lstsq``: (solution, residuals, rank, singular values), with NumPy's cut of
    the singular values (``_lstsq_keep``). The residuals are the squared norm of each column of
    b - a x when a has more rows than columns, an empty array when it has not (NumPy's shape); when
    a has more rows but lower rank NumPy gives an empty array, whose shape depends on the values:
    they are NaN here, and a gradient that reads them checks ``lstsq_rank_low`` after the call
    (a located error, as NumPy's empty array cannot be followed)."""
    if jnp.ndim(a) != 2 or jnp.ndim(b) not in (1, 2):  # NumPy's lstsq takes no stacks
        raise TypeError(f"lstsq takes a 2-D a and a 1-D or 2-D b, not {jnp.ndim(a)}-D and {jnp.ndim(b)}-D")
    u, s, vt, keep, inv = _lstsq_svd(a, rcond, True)
    bm = _column(b)
    x = mT(vt) @ (jnp.expand_dims(inv, -1) * (mT(u) @ bm))
    m, n = jnp.shape(a)[-2:]
    rank = jnp.sum(keep, axis=-1)
    if m > n:
        res = jnp.where(rank == n, jnp.sum((bm - a @ x) ** 2, axis=-2), jnp.nan)
    else:
        res = jnp.zeros((0,), dtype=s.dtype)
    return (x[..., 0] if jnp.ndim(b) == 1 else x), res, rank, s


def lstsq_rank_low(a, rcond=None):
    """Whether NumPy's ``lstsq(a, b, rcond)`` gives an empty residuals array where sourcegrad's
    has one value per column of b: a with more rows than columns and a lower rank (its
    singular values cut as ``_lstsq_keep`` cuts them). False for a with no more rows than columns
    (NumPy's residuals are empty at every rank, and so are these)."""
    m, n = jnp.shape(a)[-2:]
    if m <= n:
        return jnp.asarray(False)
    s = jnp.linalg.svd(a, compute_uv=False)
    return jnp.sum(_lstsq_keep(s, jnp.shape(a), rcond, True), axis=-1) < n


def _pinv_derivative(a, svd, x):
    """The derivative of G = U diag(inv) V^T = P^T, a function of the singular values (phi(s) = 1/s
    for those kept, 0 for the others), applied to ``x``: with H = U^T x V,
    G1[i, j] = (phi_i - phi_j) / (s_i - s_j) (phi' on the diagonal), G2[i, j] = (phi_i + phi_j) /
    (s_i + s_j) and D = diag(phi / s): U (G1 o sym(H) + G2 o skew(H)) V^T, plus (I - U U^T) x V D V^T
    (m > n) or U D U^T x (I - V V^T) (m < n). G1 and G2 are symmetric, so the map is its own
    adjoint: dG for x = dA, A-bar for x = G-bar. Within the kept values G1 = -1/(s_i s_j),
    G2 = 1/(s_i s_j): no division by their gaps, only by the gap between a kept and a dropped value
    (which the cut makes nonzero)."""
    u, s, vt, keep, inv = svd
    ki, kj = jnp.expand_dims(keep, -1), jnp.expand_dims(keep, -2)
    ii, ij = jnp.expand_dims(inv, -1), jnp.expand_dims(inv, -2)
    si, sj = jnp.expand_dims(s, -1), jnp.expand_dims(s, -2)
    mixed = ki != kj
    g1 = jnp.where(ki & kj, -ii * ij, jnp.where(mixed, (ii - ij) / jnp.where(mixed, si - sj, 1), 0))
    g2 = jnp.where(ki & kj, ii * ij, jnp.where(mixed, (ii + ij) / jnp.where(mixed, si + sj, 1), 0))
    h = mT(u) @ x @ mT(vt)
    out = u @ (g1 * (h + mT(h)) / 2 + g2 * (h - mT(h)) / 2) @ vt
    m, n = jnp.shape(a)[-2:]
    d = inv * inv
    if m > n:
        out = out + ((x - u @ (mT(u) @ x)) @ mT(vt) * jnp.expand_dims(d, -2)) @ vt
    elif m < n:
        ux = mT(u) @ x
        out = out + u @ (jnp.expand_dims(d, -1) * (ux - (ux @ mT(vt)) @ vt))
    return out


def _residual_rank_check(a, svd, numpy, values):
    """``values`` (the residuals, their tangent or cotangent), NaN where NumPy's residuals are an
    empty array whose shape is known only from the values (a of lower rank than its columns) and
    the value is not zero (the cotangent of residuals no one reads)."""
    if not numpy:
        return values
    full = jnp.sum(svd[3], axis=-1) == jnp.shape(a)[-1]
    return jnp.where(full | (values == 0), values, jnp.nan)


def lstsq_adjoint(a, b, g_x, g_res, rcond, wrt, numpy=True):
    """Adjoint of ``x, residuals = lstsq(a, b)[:2]`` (the rank constant near ``a``), with
    P = V diag(inv) U^T the pseudo-inverse the solution applies (``_lstsq_svd``): x = P b, so
    b-bar = P^T x-bar and P-bar = x-bar b^T (then ``_pinv_derivative`` of P-bar^T); the residuals
    |r|^2 per column, r = b - a x, give r-bar = 2 r g: b-bar = r-bar, A-bar = -r-bar x^T and
    x-bar = -A^T r-bar.
    NumPy's residuals of a with m <= n are empty: no cotangent."""
    m, n = jnp.shape(a)[-2:]
    if g_res is not None and numpy and m <= n:
        return jnp.zeros(jnp.shape(a) if wrt == "a" else jnp.shape(b), dtype=jnp.result_type(a, b))
    svd = _lstsq_svd(a, rcond, numpy)
    u, _, vt, _, inv = svd
    pinv = (mT(vt) * jnp.expand_dims(inv, -2)) @ mT(u)
    bm = _column(b)
    x = pinv @ bm
    if g_x is not None:
        g, direct = _column(g_x), 0
    else:
        g_res = jnp.reshape(g_res, (1,)) if jnp.ndim(b) == 1 else g_res
        r_bar = 2 * (bm - a @ x) * jnp.expand_dims(_residual_rank_check(a, svd, numpy, g_res), -2)
        g = -mT(a) @ r_bar
        direct = r_bar if wrt == "b" else -r_bar @ mT(x)
    if wrt == "b":
        return jnp.reshape(direct + mT(pinv) @ g, jnp.shape(b))
    return direct + _pinv_derivative(a, svd, bm @ mT(g))


def lstsq_tangent(a, b, d_a, d_b, rcond, part, numpy=True):
    """Tangent of ``lstsq(a, b)[part]``: dx = dP b + P db (``_pinv_derivative``); for the residuals,
    d|r|^2 = 2 r^T (db - dA x - A dx) per column (empty for NumPy's a with m <= n)."""
    m, n = jnp.shape(a)[-2:]
    if part == 1 and numpy and m <= n:
        return jnp.zeros((0,), dtype=jnp.result_type(a, b))
    svd = _lstsq_svd(a, rcond, numpy)
    u, _, vt, _, inv = svd
    pinv = (mT(vt) * jnp.expand_dims(inv, -2)) @ mT(u)
    bm, dbm = _column(b), _column(d_b)
    x = pinv @ bm
    dx = mT(_pinv_derivative(a, svd, d_a)) @ bm + pinv @ dbm
    if part == 0:
        return dx[..., 0] if jnp.ndim(b) == 1 else dx
    r = bm - a @ x
    dres = _residual_rank_check(a, svd, numpy, 2 * jnp.sum(r * (dbm - d_a @ x - a @ dx), axis=-2))
    return dres if jnp.ndim(b) > 1 else jnp.reshape(dres, (1,))


# ----- split -----
def section_bounds(length: int, sections, part: int):
    """(start, stop) of section ``part`` of an axis of ``length`` split as NumPy's ``array_split``
    (``sections`` an int: sizes differ by at most one, the longer first) or at indices."""
    if isinstance(sections, int):
        each, extra = divmod(length, sections)
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
