"""Adjoints of products: matmul, dot, inner, einsum, solve; batched transposes."""

from __future__ import annotations

import string

import jax
import jax.numpy as jnp
from jax import lax

from .core import unbroadcast


def mT(a):
    """Swap the last two axes (the matrix transpose of a stack of matrices)."""
    return jnp.swapaxes(a, -1, -2)


def solve_outer(gb, ans):
    """The adjoint of ``a`` in ``ans = solve(a, b)`` is ``-solve_outer(solve(a.T, g), ans)``."""
    if jnp.ndim(ans) == jnp.ndim(gb) and jnp.ndim(ans) >= 2:
        return jnp.matmul(gb, mT(ans))
    return jnp.expand_dims(gb, -1) * jnp.expand_dims(ans, -2)


def _contract(a, b, a_axis, b_axis, like=None):
    """``a`` and ``b`` contracted over one axis each, without materializing a transpose (inside a
    loop XLA would copy a transposed operand on every iteration). Under Explicit sharding the
    result takes the sharding of ``like`` (the operand whose adjoint it is), as JAX's own transpose
    of a matmul does, or is replicated when ``like`` has none: the contraction over a sharded batch
    axis is then a cross-device sum."""
    out = None
    if like is not None:
        out = _explicit_sharding(like)
        if out is None:
            mesh = next((m for m in map(_explicit_mesh, (a, b)) if m is not None), None)
            out = None if mesh is None else jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
    return lax.dot_general(a, b, (((a_axis,), (b_axis,)), ((), ())), out_sharding=out)


def _explicit_mesh(x):
    """The mesh ``x`` is laid out on, when it has Explicit axes, else None."""
    mesh = getattr(jax.typeof(x).sharding, "mesh", None)
    if mesh is None or mesh.empty:
        return None
    return mesh if any(t == jax.sharding.AxisType.Explicit for t in mesh.axis_types) else None


def _explicit_sharding(like):
    """``like``'s sharding when it is laid out on a mesh with Explicit axes, else None."""
    return jax.typeof(like).sharding if _explicit_mesh(like) is not None else None


def matmul_adjoint_lhs(g, x, y):
    """Adjoint of ``x @ y`` with respect to x: ``g @ y.T``, for vectors and stacks of matrices."""
    if jnp.ndim(x) == 1 and jnp.ndim(y) == 1:
        return g * y
    if jnp.ndim(y) == 1:
        return unbroadcast(jnp.expand_dims(g, -1) * y, x)
    if jnp.ndim(x) == 1 and jnp.ndim(y) == 2:
        return _contract(y, g, 1, 0, like=x)
    if jnp.ndim(x) == 2 and jnp.ndim(y) == 2:
        return _contract(g, y, 1, 1, like=x)
    if jnp.ndim(x) == 1:
        return unbroadcast(jnp.matmul(jnp.expand_dims(g, -2), mT(y))[..., 0, :], x)
    return unbroadcast(jnp.matmul(g, mT(y)), x)


def matmul_adjoint_rhs(g, x, y):
    """Adjoint of ``x @ y`` with respect to y: ``x.T @ g``, for vectors and stacks of matrices."""
    if jnp.ndim(x) == 1 and jnp.ndim(y) == 1:
        return g * x
    if jnp.ndim(x) == 1:
        return unbroadcast(jnp.expand_dims(x, -1) * jnp.expand_dims(g, -2), y)
    if jnp.ndim(x) == 2 and jnp.ndim(y) == 1:
        return _contract(g, x, 0, 0, like=y)
    if jnp.ndim(x) == 2 and jnp.ndim(y) == 2:
        return _contract(x, g, 0, 0, like=y)
    if jnp.ndim(y) == 1:
        return unbroadcast(jnp.matmul(mT(x), jnp.expand_dims(g, -1))[..., 0], y)
    return unbroadcast(jnp.matmul(mT(x), g), y)


def dot_adjoint_lhs(g, a, b):
    """Adjoint of ``np.dot(a, b)`` with respect to a (np.dot's contraction rules)."""
    if jnp.ndim(a) == 0 or jnp.ndim(b) == 0:
        return unbroadcast(g * b, a)
    if jnp.ndim(b) == 1:
        return jnp.expand_dims(g, -1) * b
    # g: a.shape[:-1] + b.shape[:-2] + b.shape[-1:]; contract over b's batch and last axes
    nb = jnp.ndim(b)
    g_axes = tuple(range(jnp.ndim(a) - 1, jnp.ndim(g)))
    b_axes = tuple(range(nb - 2)) + (nb - 1,)
    return jnp.tensordot(g, b, axes=(g_axes, b_axes))


def dot_adjoint_rhs(g, a, b):
    """Adjoint of ``np.dot(a, b)`` with respect to b."""
    if jnp.ndim(a) == 0 or jnp.ndim(b) == 0:
        return unbroadcast(g * a, b)
    lead = tuple(range(jnp.ndim(a) - 1))
    out = jnp.tensordot(a, g, axes=(lead, lead))  # (n,) + b.shape[:-2] + (m,)  or (n,)
    if jnp.ndim(b) == 1:
        return out
    return jnp.moveaxis(out, 0, -2)


def inner_adjoint_lhs(g, a, b):
    """Adjoint of ``np.inner(a, b)`` (contraction over both last axes) with respect to a."""
    if jnp.ndim(a) == 0 or jnp.ndim(b) == 0:
        return unbroadcast(g * b, a)
    nb = jnp.ndim(b) - 1
    g_axes = tuple(range(jnp.ndim(g) - nb, jnp.ndim(g)))
    return jnp.tensordot(g, b, axes=(g_axes, tuple(range(nb))))


def inner_adjoint_rhs(g, a, b):
    """Adjoint of ``np.inner(a, b)`` with respect to b."""
    if jnp.ndim(a) == 0 or jnp.ndim(b) == 0:
        return unbroadcast(g * a, b)
    na = jnp.ndim(a) - 1
    return jnp.tensordot(g, a, axes=(tuple(range(na)), tuple(range(na))))


def _einsum_explicit(subscripts: str, shapes):
    """``subscripts`` with ``...`` written out as letters and the output made explicit: (inputs,
    output, unused letters). An ellipsis axis of size 1 that broadcasts against a longer one gets a
    letter of its own (summed over, size 1), so the explicit spec means the same as NumPy's."""
    spec = subscripts.replace(" ", "")
    lhs, out = spec.split("->") if "->" in spec else (spec, None)
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum subscripts {subscripts!r} name {len(ins)} operands, got {len(shapes)}")
    used = set(spec)
    free = [c for c in string.ascii_letters if c not in used]
    counts = [len(shape) - len(s.replace("...", "")) if "..." in s else 0 for s, shape in zip(ins, shapes)]
    n_ell = max(counts, default=0)
    ell, free = free[:n_ell], free[n_ell:]
    size: dict[str, int] = {}
    for s, shape, e in zip(ins, shapes, counts):
        if "..." in s:
            at = s.index("...")
            for c, d in zip(ell[n_ell - e :], shape[at : at + e]):
                size[c] = max(size.get(c, 1), d)
    explicit = []
    for s, shape, e in zip(ins, shapes, counts):
        if "..." in s:
            at = s.index("...")
            letters = "".join(
                c if d == size[c] else free.pop() for c, d in zip(ell[n_ell - e :], shape[at : at + e])
            )
            s = s.replace("...", letters)
        explicit.append(s)
    if out is None:
        letters = "".join(ins).replace(".", "")
        out = "".join(ell) + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    else:
        out = out.replace("...", "".join(ell))
    return explicit, out, free


def einsum_adjoint(subscripts, k, g, *operands):
    """Adjoint of ``einsum(subscripts, *operands)`` with respect to operand ``k``.

    Contract ``g`` with the other operands onto operand k's indices; indices that
    only operand k has are broadcast back; a repeated index (a diagonal) is
    rebuilt with an identity mask; ``...`` is written out as letters first.
    """
    ins, out, free = _einsum_explicit(subscripts, [jnp.shape(op) for op in operands])
    target = ins[k]
    others = [(s, op) for i, (s, op) in enumerate(zip(ins, operands)) if i != k]
    available = set(out).union(*[set(s) for s, _ in others]) if others else set(out)
    unique = "".join(dict.fromkeys(target))
    kept = "".join(c for c in unique if c in available)
    expr = ",".join([out] + [s for s, _ in others]) + "->" + kept
    part = jnp.einsum(expr, g, *[op for _, op in others])
    sizes = {c: d for c, d in zip(target, jnp.shape(operands[k]))}
    # indices of operand k that nothing else has: the adjoint is constant along them
    if kept != unique:
        shape = tuple(sizes[c] if c in kept else 1 for c in unique)
        part = jnp.broadcast_to(jnp.reshape(part, shape), tuple(sizes[c] for c in unique))
    if unique != target:  # repeated index: place values on the diagonal, one eye per repeat
        rebuilt, eyes, specs = "", [], []
        for i, c in enumerate(target):
            if target.index(c) == i:
                rebuilt += c
                continue
            fresh = free.pop()
            rebuilt += fresh
            specs.append(c + fresh)
            eyes.append(jnp.eye(sizes[c], dtype=part.dtype))
        part = jnp.einsum(",".join([unique] + specs) + "->" + rebuilt, part, *eyes)
    shape = jnp.shape(operands[k])
    if jnp.shape(part) != shape:  # an axis of size 1 that NumPy broadcast against a longer one
        summed = tuple(i for i, (a, b) in enumerate(zip(jnp.shape(part), shape)) if a != b and b == 1)
        part = jnp.broadcast_to(jnp.sum(part, axis=summed, keepdims=True), shape)
    return part


def symmetric_from(a, UPLO="L", symmetrize=False):
    """The symmetric matrix whose lower (``UPLO`` "L" or None) or upper ("U") triangle is ``a``'s:
    what NumPy's eigh, eigvalsh and cholesky read. ``symmetrize``: (a + a^T) / 2 instead, what JAX's
    read by default (``symmetrize_input=True``)."""
    if symmetrize:
        return (a + mT(a)) / 2
    if UPLO == "U":
        return jnp.triu(a) + mT(jnp.triu(a, 1))
    return jnp.tril(a) + mT(jnp.tril(a, -1))


def triangle_adjoint(s_bar, UPLO="L", symmetrize=False):
    """Adjoint of ``symmetric_from``: an off-diagonal entry of the triangle feeds two entries."""
    if symmetrize:
        return (s_bar + mT(s_bar)) / 2
    eye = jnp.eye(jnp.shape(s_bar)[-1], dtype=s_bar.dtype)
    both = s_bar + mT(s_bar)
    return (jnp.triu(both) if UPLO == "U" else jnp.tril(both)) - eye * s_bar


def cholesky_adjoint(g, L, symmetrize=False, upper=False, reads_upper=False):
    """Adjoint of ``L = cholesky(A)`` (lower): with P = Phi(L^T G) (lower triangle, half diagonal) and
    S = L^-T P L^-1, A-bar is the lower triangle of S + S^T with S's diagonal (``triangle_adjoint``,
    S the cotangent of the symmetric matrix factored): NumPy reads only A's
    lower triangle, so its upper triangle gets no gradient (jax.grad and autograd give the symmetric
    part instead, which differs from NumPy's function off the diagonal). ``symmetrize``: JAX's
    ``jnp.linalg.cholesky``, which factors (A + A^T) / 2; ``upper``: ``L`` and ``g`` are of L^T;
    ``reads_upper``: A's upper triangle was read (NumPy's ``cholesky(a, upper=True)``)."""
    if upper:
        g, L = mT(g), mT(L)
    P = jnp.tril(mT(L) @ g)
    P = P - 0.5 * jnp.eye(jnp.shape(L)[-1], dtype=P.dtype) * P
    S = lax.linalg.triangular_solve(L, P, left_side=False, lower=True, transpose_a=False)
    S = lax.linalg.triangular_solve(L, S, left_side=True, lower=True, transpose_a=True)
    return triangle_adjoint(S, "U" if reads_upper else "L", symmetrize)


def cholesky_numpy(a, upper=False):
    """NumPy's ``linalg.cholesky``: the lower factor of the symmetric matrix whose lower triangle
    is ``a``'s, or with ``upper`` the upper factor of the one whose upper triangle is ``a``'s
    (NumPy reads only that triangle, as LAPACK's potrf does with 'L' or 'U'; ``jnp.linalg.
    cholesky`` symmetrizes ``a``, or reads its lower triangle, whichever factor it returns)."""
    return jnp.linalg.cholesky(symmetric_from(a, "U" if upper else "L"), upper=upper)


def cholesky_lower(a, symmetrize=False, upper=False):
    """NumPy's ``linalg.cholesky``: the factor of the symmetric matrix whose lower triangle is ``a``'s
    (NumPy reads only that triangle; ``jnp.linalg.cholesky`` would symmetrize ``a`` instead, as it
    does here with ``symmetrize``)."""
    return jnp.linalg.cholesky(symmetric_from(a, "L", symmetrize), upper=upper)
