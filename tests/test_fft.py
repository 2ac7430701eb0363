"""The FFT inside real functions: a spectral power loss, a convolution by ``irfft(rfft(x) *
rfft(h))``, a filter through ``np.real(np.fft.ifft(...))``, 2-D and n-D transforms with ``s``,
``axes`` and ``norm``; complex intermediate values through ``abs``, ``real``, ``imag``, ``conj``,
``angle`` and complex products. Gradients against ``jax.vjp`` of the same code in jax.numpy and
float64 finite differences, tangents against ``jax.jvp``; a complex output is refused, as
``jax.grad`` refuses it."""

import zlib

import numpy as np
import pytest

import sourcegrad
from sourcegrad import grad, jvp

from .helpers import assert_close, assert_hessian_matches_jax, fd_vjp, jax_vjp, make_function
from .test_forward import fd_jvp, reference_jvp

CASES = {
    "spectral_power": (
        """
        def spectral_power(x):
            return np.sum(np.abs(np.fft.rfft(x)) ** 2)
        """,
        {"x": (16,)},
    ),
    "high_frequency_penalty": (
        """
        def high_frequency_penalty(x, w):
            X = np.fft.rfft(x, norm="ortho")
            return np.sum(w * (X.real ** 2 + X.imag ** 2))
        """,
        {"x": (10,), "w": (6,)},
    ),
    "circular_convolution": (
        """
        def circular_convolution(x, h, y):
            pred = np.fft.irfft(np.fft.rfft(x) * np.fft.rfft(h), n=x.shape[0])
            return np.mean((pred - y) ** 2)
        """,
        {"x": (9,), "h": (9,), "y": (9,)},
    ),
    "ifft_filter": (
        """
        def ifft_filter(x, gain):
            X = np.fft.fft(x, axis=0)
            filtered = np.real(np.fft.ifft(X * gain[:, None], axis=0))
            return np.sum(filtered ** 2 * np.arange(1.0, 4.0))
        """,
        {"x": (6, 3), "gain": (6,)},
    ),
    "image_smoothness": (
        """
        def image_smoothness(img):
            F = np.fft.fft2(img)
            power = np.abs(F) ** 2
            smooth = np.fft.irfft2(np.fft.rfft2(img) * 0.5, s=img.shape)
            return np.sum(power[1:, 1:]) / img.size + np.sum(smooth * img)
        """,
        {"img": (4, 6)},
    ),
    "phase_and_conjugate": (
        """
        def phase_and_conjugate(x, y):
            X = np.fft.fftn(x)
            Y = np.fft.fftn(y)
            cross = X * np.conj(Y)
            return np.sum(np.real(cross)) + np.sum(np.angle(X + 2.0)) + np.sum(np.imag(cross * 1j))
        """,
        {"x": (2, 3, 4), "y": (2, 3, 4)},
    ),
    "ifftn_rfftn_padding": (
        """
        def ifftn_rfftn_padding(x):
            Z = np.fft.rfftn(x, s=(4, 6), axes=(0, 1))
            back = np.fft.irfftn(Z, s=(3, 5), axes=(0, 1))
            return np.sum(back ** 3) + np.sum(np.abs(np.fft.ifftn(x, s=(2, 2), axes=(0, 1))))
        """,
        {"x": (3, 5)},
    ),
    "real_matrix_times_spectrum": (
        """
        def real_matrix_times_spectrum(W, x):
            V = np.tanh(W)
            return np.sum(np.abs(V @ np.fft.fft(x)) ** 2)
        """,
        {"W": (3, 4), "x": (4,)},
    ),
    "filter_in_a_loop": (
        """
        def filter_in_a_loop(W, x):
            h = x
            for i in range(3):
                h = np.real(np.fft.ifft(np.fft.fft(h) * W[i]))
            return np.sum(h ** 2)
        """,
        {"W": (3, 4), "x": (4,)},
    ),
}


def _args(name, spec):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return {k: rng.standard_normal(shape) for k, shape in spec.items()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_against_jax_and_finite_differences(name):
    source, spec = CASES[name]
    fn = make_function(source)
    args = _args(name, spec)
    wrt = tuple(spec)
    ours = grad(fn, wrt=wrt)(**args)
    ours = ours if isinstance(ours, tuple) else (ours,)
    _, theirs = jax_vjp(fn, args, wrt)
    _, fd = fd_vjp(fn, args, wrt)
    for w, mine, ref, numeric in zip(wrt, ours, theirs, fd):
        assert np.asarray(mine).dtype == np.float64
        assert_close(mine, ref, rtol=1e-6, atol=1e-9, what=f"{name}: d/d{w} vs jax")
        assert_close(mine, numeric, rtol=1e-5, atol=1e-6, what=f"{name}: d/d{w} vs FD")


@pytest.mark.parametrize("name", sorted(CASES))
def test_tangent_against_jax_jvp(name):
    source, spec = CASES[name]
    fn = make_function(source)
    args = _args(name, spec)
    wrt = tuple(spec)
    tangents = tuple(np.random.default_rng(4).standard_normal(spec[w]) for w in wrt)
    out, d_out = jvp(fn, wrt=wrt)(**args, tangents=tangents)
    _, ref = reference_jvp(fn, args, wrt, tangents)
    assert_close(out, fn(**args), rtol=1e-10, atol=1e-12, what=f"{name}: value")
    assert_close(d_out, ref, rtol=1e-6, atol=1e-9, what=f"{name}: tangent vs jax")
    assert_close(d_out, fd_jvp(fn, args, wrt, tangents), rtol=1e-5, atol=1e-6, what=f"{name}: vs FD")


def test_a_complex_output_is_refused_as_jax_grad_refuses_it():
    fn = make_function("def spectrum_sum(x):\n    return np.sum(np.fft.fft(x))\n")
    with pytest.raises(sourcegrad.InputError) as info:
        grad(fn)(np.arange(4.0))
    assert ":2:" in str(info.value) and "np.abs(z) ** 2" in str(info.value)


@pytest.mark.parametrize("name", ["spectral_power", "circular_convolution", "high_frequency_penalty"])
def test_hessian_against_jax(name):
    # second order differentiates the generated gradient: fft_adjoint and the derivative of abs
    # of a complex value (conj_sign) have rules of their own
    source, spec = CASES[name]
    assert_hessian_matches_jax(make_function(source), _args(name, spec), name)


@pytest.mark.parametrize("part", ["np.real", "np.imag", "np.angle", "np.abs"])
def test_a_real_part_multiplied_by_a_complex_value(part):
    # `h @ C` gives the real `h` a complex adjoint; entering the spectrum through `real`/`imag`/
    # `angle`/`abs`, its imaginary part used to leak into the FFT's adjoint (a wrong gradient, no
    # error)
    fn = make_function(
        f"""
        def f(a, W):
            h = {part}(np.fft.fft(a))
            y = h @ np.exp(1j * W)
            return np.sum(np.abs(y) ** 2)
        """
    )
    rng = np.random.default_rng(zlib.crc32(part.encode()))
    args = {"a": rng.standard_normal(4), "W": rng.standard_normal((4, 3))}
    ours = grad(fn, wrt="a")(**args)
    _, (fd,) = fd_vjp(fn, args, ["a"])
    _, (ref,) = jax_vjp(fn, args, ["a"])
    assert_close(ours, fd, rtol=1e-6, atol=1e-8)
    assert_close(ours, ref, rtol=1e-9, atol=1e-12)


def test_the_magnitude_of_a_spectrum_gives_a_real_gradient():
    # |fft(x)| is real: the cotangent reaching the real input is real, in NumPy's float64
    fn = make_function(
        """
        def f(x, w):
            return np.sum(np.abs(np.fft.fft(x)) * w) + np.sum(np.abs(np.fft.rfft(x * w)) ** 3)
        """
    )
    rng = np.random.default_rng(11)
    args = {"x": rng.standard_normal(6), "w": rng.standard_normal(6)}
    ours = grad(fn, wrt=("x", "w"))(**args)
    _, fd = fd_vjp(fn, args, ["x", "w"])
    _, ref = jax_vjp(fn, args, ["x", "w"])
    for mine, numeric, theirs in zip(ours, fd, ref):
        assert mine.dtype == np.float64
        assert_close(mine, numeric, rtol=1e-6, atol=1e-8)
        assert_close(mine, theirs, rtol=1e-9, atol=1e-12)
