"""Adjoints of the discrete Fourier transforms and of the complex elementwise functions.

Complex values follow JAX's convention: the cotangent of a complex value is what ``jax.vjp``
passes (the transpose of the linear map, no conjugation), and a real argument of an operation
with a complex result receives the real part of its contribution, so a real function that uses
complex values inside has the gradient ``jax.grad`` gives it.

The DFT matrix is symmetric, so ``fft``'s transpose is ``fft`` (and ``ifft``'s is ``ifft``), with
the same ``norm``; ``n``/``s`` crop or zero-pad the input, whose transpose pads or crops back.
``rfft`` is ``fft`` of a real array cut to its first ``n // 2 + 1`` frequencies: its transpose
pads with zeros, applies ``fft`` and keeps the real part. ``irfft``'s transpose is JAX's: the
conjugate of ``rfft(g)`` scaled by 1, 2, ..., 2, (1) (each inner frequency stands for two).
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax


def _fft_axes(ndim, s, axes):
    """(lengths or None, axes as non-negative ints) of a 1-D (``n``, ``axis``) or n-D call."""
    if isinstance(s, int):
        s = (s,)
    if axes is None:
        axes = tuple(range(ndim)) if s is None else tuple(range(ndim - len(s), ndim))
    elif isinstance(axes, int):
        axes = (axes,)
    return (None if s is None else tuple(s)), tuple(ax % ndim for ax in axes)


def _resize(x, axes, lengths):
    """``x`` cropped or zero-padded at the end of each axis to its length (what ``n=`` does)."""
    for ax, length in zip(axes, lengths):
        size = jnp.shape(x)[ax]
        if size > length:
            x = lax.slice_in_dim(x, 0, length, axis=ax)
        elif size < length:
            pads = [(0, 0)] * jnp.ndim(x)
            pads[ax] = (0, length - size)
            x = jnp.pad(x, pads)
    return x


def _real_if(out, a):
    return out if jnp.iscomplexobj(a) else jnp.real(out)


def fft_adjoint(g, a, kind, s=None, axes=None, norm=None):
    """Adjoint of ``jnp.fft.<kind>(a, s, axes, norm)`` (``fft``/``ifft``/``rfft``/``irfft`` and
    their 2-D and n-D forms: ``s`` and ``axes`` may be one int, as ``n`` and ``axis``)."""
    s, axes = _fft_axes(jnp.ndim(a), s, axes)
    sizes = [jnp.shape(a)[ax] for ax in axes]
    if kind in ("fft", "ifft"):
        out = (jnp.fft.fftn if kind == "fft" else jnp.fft.ifftn)(g, axes=axes, norm=norm)
        return _real_if(_resize(out, axes, sizes), a)
    if kind == "rfft":
        n = s or sizes
        full = _resize(g, axes[-1:], n[-1:])  # the frequencies rfft drops get no gradient
        return _resize(jnp.real(jnp.fft.fftn(full, axes=axes, norm=norm)), axes, sizes)
    n = s or (*sizes[:-1], 2 * (sizes[-1] - 1))  # irfft
    total = 1
    for length in n:
        total *= length
    scale = {None: 1 / total, "backward": 1 / total, "ortho": total**-0.5, "forward": 1.0}[norm]
    spectrum = jnp.fft.rfftn(g, axes=axes)
    half = jnp.shape(spectrum)[axes[-1]]
    weights = jnp.full((half,), 2.0).at[0].set(1.0)
    if n[-1] % 2 == 0:
        weights = weights.at[-1].set(1.0)
    shape = [1] * jnp.ndim(spectrum)
    shape[axes[-1]] = half
    out = jnp.conj(scale * jnp.reshape(weights, shape) * spectrum)
    return _real_if(_resize(out, axes, sizes), a)


def fft_apply(x, kind, s=None, axes=None, norm=None):
    """``jnp.fft.<kind>n(x, s, axes, norm)``, ``s`` and ``axes`` given as for ``fft_adjoint``: the
    transpose of ``fft_adjoint`` (second order)."""
    s, axes = _fft_axes(jnp.ndim(x), s, axes)
    return getattr(jnp.fft, f"{kind}n")(x, s=s, axes=axes, norm=norm)


def conj_sign(x):
    """The derivative of ``abs`` in JAX's convention: ``sign(x)`` for a real ``x``, ``conj(x) / |x|``
    (0 at 0) for a complex one."""
    if not jnp.iscomplexobj(x):
        return jnp.sign(x)
    r = jnp.abs(x)
    return jnp.conj(x) / jnp.where(r == 0, 1, r)


def conj_sign_tangent(x, d_x):
    """Tangent of ``conj_sign``: 0 for a real ``x``; conj(dx) / r - conj(x) Re(conj(x) dx) / r^3."""
    if not jnp.iscomplexobj(x):
        return jnp.zeros_like(x)
    r = jnp.abs(x)
    safe = jnp.where(r == 0, 1, r)
    return jnp.conj(d_x) / safe - jnp.conj(x) * jnp.real(jnp.conj(x) * d_x) / safe**3


def conj_sign_adjoint(g, x):
    """Adjoint of ``conj_sign``: 0 for a real ``x``; conj(g) / r - Re(g conj(x)) conj(x) / r^3."""
    if not jnp.iscomplexobj(x):
        return jnp.zeros_like(x)
    r = jnp.abs(x)
    safe = jnp.where(r == 0, 1, r)
    return jnp.conj(g) / safe - jnp.real(g * jnp.conj(x)) * jnp.conj(x) / safe**3


def imag_adjoint(g, x):
    """Adjoint of ``imag(x)``: ``-1j * g`` for a complex ``x``; nothing for a real one (0)."""
    return -1j * g if jnp.iscomplexobj(x) else jnp.zeros_like(x)


def angle_adjoint(g, x):
    """Adjoint of ``angle(x)``: ``-1j * g * conj(x) / |x|^2``; nothing for a real ``x``."""
    if not jnp.iscomplexobj(x):
        return jnp.zeros_like(x)
    return -1j * g * jnp.conj(x) / (jnp.real(x) ** 2 + jnp.imag(x) ** 2)
