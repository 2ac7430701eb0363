"""Discrete Fourier transforms and the complex values they give.

The transforms are linear: each adjoint is ``fft_adjoint`` (the transpose, in JAX's convention
for complex values, see ``sourcegrad.runtime.spectral``) and each tangent is the transform of the
tangent. ``real``, ``imag``, ``conj``, ``angle`` (and ``abs`` in ``elementwise``) bring a complex
value back to real numbers, so a real function that uses the FFT inside (a spectral loss, a
convolution by ``irfft(rfft(x) * H)``) has the gradient ``jax.grad`` gives the same code.
"""

from sourcegrad.rules import defrule

for _kind in ("fft", "ifft", "rfft", "irfft"):
    defrule(
        f"jnp.fft.{_kind}(a, n=None, axis=-1, norm=None)",
        static=("n", "axis", "norm"),
        temp="spectrum" if _kind in ("fft", "rfft") else "signal",
        a=f"fft_adjoint(g, a, '{_kind}', n, axis, norm)",
        tangent=f"jnp.fft.{_kind}(d_a, n, axis, norm)",
    )
    defrule(
        f"jnp.fft.{_kind}2(a, s=None, axes=(-2, -1), norm=None)",
        static=("s", "axes", "norm"),
        temp="spectrum" if _kind in ("fft", "rfft") else "signal",
        a=f"fft_adjoint(g, a, '{_kind}', s, axes, norm)",
        tangent=f"jnp.fft.{_kind}2(d_a, s, axes, norm)",
    )
    defrule(
        f"jnp.fft.{_kind}n(a, s=None, axes=None, norm=None)",
        static=("s", "axes", "norm"),
        temp="spectrum" if _kind in ("fft", "rfft") else "signal",
        a=f"fft_adjoint(g, a, '{_kind}', s, axes, norm)",
        tangent=f"jnp.fft.{_kind}n(d_a, s, axes, norm)",
    )

# ----- complex values back to real ones (JAX's convention for their cotangents) -----
# The cotangent of a real result is real: one that arrives complex (a real operand of a product
# with a complex value gets a complex adjoint; only an accumulator's cast drops its imaginary
# part) is read as its real part before it enters complex code again.
defrule("jnp.real(x)", temp="real_part", x="jnp.real(g)", tangent="jnp.real(d_x)")
defrule("jnp.imag(x)", temp="imag_part", x="imag_adjoint(jnp.real(g), x)", tangent="jnp.imag(d_x)")
defrule("jnp.conj(x)", temp="conjugate", aliases=("conjugate",), x="jnp.conj(g)", tangent="jnp.conj(d_x)")
defrule(
    "jnp.angle(x)",
    x="angle_adjoint(jnp.real(g), x)",
    tangent="jnp.imag(jnp.conj(x) * d_x) / jnp.maximum(jnp.abs(x), 1e-300) ** 2",
)
