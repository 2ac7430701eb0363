"""Elementwise helpers: clip masks and guards at points where a finite gradient exists."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def clip_mask(a, a_min=None, a_max=None, which="a"):
    """Where the result of clip(a, a_min, a_max) = minimum(maximum(a, a_min), a_max) comes from:
    1 where it is ``which`` ("a", "a_min" or "a_max"), else 0."""
    low = a if a_min is None else jnp.maximum(a, a_min)
    if which == "a_max":
        hit = jnp.zeros(jnp.shape(low), bool) if a_max is None else low > a_max
    else:
        hit = (
            (a >= a_min)
            if which == "a" and a_min is not None
            else (jnp.ones(jnp.shape(a), bool) if which == "a" else a < a_min)
        )
        if a_max is not None:
            hit = hit & (low <= a_max)
    return hit.astype(jnp.result_type(a))


def div_or_zero(a, b):
    """``a / b``, with 0 where ``b == 0``: the derivative's convention at a point where the function
    is not differentiable (hypot, norm and std at 0, arctan2 at the origin), instead of a NaN that
    would spread through the whole gradient (docs/conventions.md)."""
    zero = b == 0
    return jnp.where(zero, jnp.zeros((), jnp.result_type(a, b)), a / jnp.where(zero, 1, b))


def logaddexp_weight(a, b):
    """d logaddexp(a, b) / da = exp(a) / (exp(a) + exp(b)) = sigmoid(a - b), with 1/2 where a == b
    (also where both are -inf or +inf, where a - b is NaN)."""
    return jnp.where(a == b, jnp.asarray(0.5, jnp.result_type(a, b)), jax.nn.sigmoid(a - b))


def log_or_zero(x):
    """log(x), with 0 where x == 0 (d x**y / dy at x = 0 is 0, as jax.grad gives)."""
    safe = jnp.where(x == 0, 1, x)
    return jnp.log(safe)


def sinc_derivative(x):
    """d sinc(x) / dx = (cos(pi x) - sinc(x)) / x, with its limit 0 at x = 0."""
    zero = x == 0
    safe = jnp.where(zero, 1, x)
    return jnp.where(zero, 0, (jnp.cos(jnp.pi * safe) - jnp.sinc(safe)) / safe)


def fmax_weight(a, b):
    """d fmax(a, b) / da: as maximum (1/2 at a tie), and 1 where only ``b`` is NaN (fmax ignores NaN)."""
    tie = jnp.where(a > b, 1.0, jnp.where(a == b, 0.5, 0.0))
    return jnp.where(jnp.isnan(b), 1.0, jnp.where(jnp.isnan(a), 0.0, tie)).astype(jnp.result_type(a, b))


def fmin_weight(a, b):
    """d fmin(a, b) / da: as minimum (1/2 at a tie), and 1 where only ``b`` is NaN (fmin ignores NaN)."""
    return fmax_weight(-a, -b)


def scalar_of(x):
    """What a function of Python's ``math`` module takes: one number. NumPy converts an array of one
    element (of any shape) to it and refuses a larger one; so does this, while JAX traces."""
    if jnp.size(x) != 1:
        raise TypeError(
            f"a `math` function takes one number, and this argument is an array of shape "
            f"{jnp.shape(x)} (NumPy: 'only length-1 arrays can be converted to Python scalars'); "
            f"use the np. function for arrays"
        )
    return jnp.reshape(x, ())
