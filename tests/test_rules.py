"""Each derivative rule, checked on its own, driven by a table of input domains and tolerances.

Every differentiable rule in the registry must have a row here (``test_every_rule_is_covered``),
so a new rule cannot land untested. Each row is an expression over its inputs; the test
differentiates it with a random seed (a vector-Jacobian product) and compares with
``jax.vjp`` of the same expression and with float64 central finite differences.
"""

import math
import zlib

import jax
import jax.scipy.linalg
import jax.scipy.special
import jax.scipy.stats
import numpy as np
import pytest
import scipy.linalg
import scipy.special
import scipy.stats

from sourcegrad import grad
from sourcegrad.rules import all_rules

from .helpers import assert_close, fd_vjp, jax_vjp, make_function

# domains: "normal", "pos" (0.5..2), "unit" (-0.9..0.9), "gt1" (1.2..3), "spd" (a well-conditioned matrix)
N, P, U = "normal", "pos", "unit"

# rule key -> (expression, {input: (domain, shape)}, rtol)
TABLE = {
    # ----- arithmetic -----
    "add": ("x + y", {"x": (N, (3, 4)), "y": (N, (4,))}, 1e-6),
    "subtract": ("x - y", {"x": (N, (3, 1)), "y": (N, (4,))}, 1e-6),
    "multiply": ("x * y", {"x": (N, (2, 3)), "y": (N, (2, 1))}, 1e-6),
    "divide": ("x / y", {"x": (N, (3,)), "y": (P, (2, 3))}, 1e-6),
    "power": ("x ** y", {"x": (P, (3,)), "y": (N, (2, 3))}, 1e-6),
    "mod": ("x % y", {"x": (N, (4,)), "y": (P, (4,))}, 1e-6),
    "matmul": ("x @ y", {"x": (N, (2, 3, 4)), "y": (N, (4, 2))}, 1e-6),
    "negative": ("-x", {"x": (N, (3,))}, 1e-6),
    "positive": ("+x", {"x": (N, (3,))}, 1e-6),
    # ----- elementwise -----
    "sin": ("np.sin(x)", {"x": (N, (4,))}, 1e-6),
    "cos": ("np.cos(x)", {"x": (N, (4,))}, 1e-6),
    "tan": ("np.tan(x)", {"x": (U, (4,))}, 1e-6),
    "arcsin": ("np.arcsin(x)", {"x": (U, (4,))}, 1e-6),
    "arccos": ("np.arccos(x)", {"x": (U, (4,))}, 1e-6),
    "arctan": ("np.arctan(x)", {"x": (N, (4,))}, 1e-6),
    "sinh": ("np.sinh(x)", {"x": (N, (4,))}, 1e-6),
    "cosh": ("np.cosh(x)", {"x": (N, (4,))}, 1e-6),
    "tanh": ("np.tanh(x)", {"x": (N, (4,))}, 1e-6),
    "arcsinh": ("np.arcsinh(x)", {"x": (N, (4,))}, 1e-6),
    "arccosh": ("np.arccosh(x)", {"x": ("gt1", (4,))}, 1e-6),
    "arctanh": ("np.arctanh(x)", {"x": (U, (4,))}, 1e-6),
    "exp": ("np.exp(x)", {"x": (N, (4,))}, 1e-6),
    "expm1": ("np.expm1(x)", {"x": (N, (4,))}, 1e-6),
    "exp2": ("np.exp2(x)", {"x": (N, (4,))}, 1e-6),
    "log": ("np.log(x)", {"x": (P, (4,))}, 1e-6),
    "log1p": ("np.log1p(x)", {"x": (P, (4,))}, 1e-6),
    "log2": ("np.log2(x)", {"x": (P, (4,))}, 1e-6),
    "log10": ("np.log10(x)", {"x": (P, (4,))}, 1e-6),
    "sqrt": ("np.sqrt(x)", {"x": (P, (4,))}, 1e-6),
    "cbrt": ("np.cbrt(x)", {"x": (P, (4,))}, 1e-6),
    "square": ("np.square(x)", {"x": (N, (4,))}, 1e-6),
    "abs": ("np.abs(x)", {"x": (N, (4,))}, 1e-6),
    "reciprocal": ("np.reciprocal(x)", {"x": (P, (4,))}, 1e-6),
    "maximum": ("np.maximum(x, y)", {"x": (N, (3, 4)), "y": (N, (4,))}, 1e-6),
    "minimum": ("np.minimum(x, y)", {"x": (N, (3, 1)), "y": (N, (4,))}, 1e-6),
    "arctan2": ("np.arctan2(x, y)", {"x": (N, (4,)), "y": (N, (2, 4))}, 1e-6),
    "hypot": ("np.hypot(x, y)", {"x": (N, (4,)), "y": (N, (4,))}, 1e-6),
    "logaddexp": ("np.logaddexp(x, y)", {"x": (N, (4,)), "y": (N, (3, 1))}, 1e-6),
    "where": ("np.where(x > 0, x * y, y)", {"x": (N, (3, 4)), "y": (N, (4,))}, 1e-6),
    "clip": ("np.clip(x, y, 0.5)", {"x": (N, (6,)), "y": (U, ())}, 1e-6),
    "clip_upper": ("np.clip(x, -0.2, y) + np.clip(x, None, y)", {"x": (N, (6,)), "y": (U, ())}, 1e-6),
    # ----- reductions -----
    "sum": ("np.sum(x, axis=(0, 2), keepdims=True)", {"x": (N, (2, 3, 4))}, 1e-6),
    "mean": ("np.mean(x, axis=1)", {"x": (N, (3, 4))}, 1e-6),
    "prod": ("np.prod(x, axis=0)", {"x": (P, (3, 4))}, 1e-6),
    "max": ("np.max(x, axis=-1)", {"x": (N, (3, 4))}, 1e-6),
    "min": ("np.min(x, axis=0, keepdims=True)", {"x": (N, (3, 4))}, 1e-6),
    "var": ("np.var(x, axis=1, ddof=1)", {"x": (N, (3, 4))}, 1e-6),
    "std": ("np.std(x, axis=0)", {"x": (N, (3, 4))}, 1e-6),
    "linalg.norm": ("np.linalg.norm(x, axis=1, keepdims=True)", {"x": (N, (3, 4))}, 1e-6),
    "cumsum": ("np.cumsum(x, axis=0)", {"x": (N, (3, 4))}, 1e-6),
    "diff": ("np.diff(x, axis=0) + np.diff(x, n=2)[:1, :, :1]", {"x": (N, (2, 3, 4))}, 1e-6),
    "cumprod": ("np.cumprod(x, axis=-1) + np.cumprod(x)[:4]", {"x": (N, (3, 4))}, 1e-6),
    # every mode, and a kernel longer than the signal (NumPy swaps them)
    "convolve": (
        "np.convolve(x, y)[:7] + np.convolve(x, y, mode='same') + np.convolve(y, x, 'valid')[0]",
        {"x": (N, (7,)), "y": (N, (3,))},
        1e-6,
    ),
    "correlate": (
        "np.correlate(x, y) + np.correlate(x, y, mode='same')[2] + np.correlate(x, y, 'full')[:5]",
        {"x": (N, (7,)), "y": (N, (3,))},
        1e-6,
    ),
    # the spacing as a scalar and as coordinates (increasing: a cumsum of positive steps)
    "numpy_gradient": (
        "np.gradient(x, axis=1) + np.gradient(x, np.cumsum(y), axis=0) + np.gradient(x[0], 0.5)",
        {"x": (N, (3, 4)), "y": (P, (3,))},
        1e-6,
    ),
    "median": (
        "np.median(x, axis=1) + np.median(x[:, :3], axis=(0, 1), keepdims=True)",
        {"x": (N, (2, 4, 3))},
        1e-6,
    ),
    "quantile": (
        "np.quantile(x, 0.3, axis=0) + np.quantile(x, np.array([0.2, 0.9]))[:, None]",
        {"x": (N, (5, 3))},
        1e-6,
    ),
    "percentile": ("np.percentile(x, 30.0, axis=-1, keepdims=True)", {"x": (N, (2, 3, 5))}, 1e-6),
    "average": ("np.average(x, axis=1, weights=y) + np.average(x)", {"x": (N, (2, 3)), "y": (P, (3,))}, 1e-6),
    "sort": (
        "np.sort(x, axis=1) + np.sort(x)[:, :1] + np.sort(x, axis=None)[:12].reshape(3, 4)",
        {"x": (N, (3, 4))},
        1e-6,
    ),
    # ----- linear algebra -----
    "dot": ("np.dot(x, y)", {"x": (N, (3, 4)), "y": (N, (4,))}, 1e-6),
    "inner": ("np.inner(x, y)", {"x": (N, (2, 4)), "y": (N, (3, 4))}, 1e-6),
    "outer": ("np.outer(x, y)", {"x": (N, (3,)), "y": (N, (2, 2))}, 1e-6),
    "einsum": ("np.einsum('bij,bjk->bik', x, y)", {"x": (N, (2, 3, 4)), "y": (N, (2, 4, 2))}, 1e-6),
    "trace": ("np.trace(x, offset=1)", {"x": (N, (4, 4))}, 1e-6),
    "transpose": ("np.transpose(x, (1, 2, 0))", {"x": (N, (2, 3, 4))}, 1e-6),
    "linalg.solve": ("np.linalg.solve(x, y)", {"x": ("spd", (3, 3)), "y": (N, (3, 2))}, 1e-6),
    "linalg.inv": ("np.linalg.inv(x)", {"x": ("spd", (3, 3))}, 1e-6),
    "linalg.det": ("np.linalg.det(x)", {"x": ("spd", (3, 3))}, 1e-6),
    "cholesky_numpy": ("np.linalg.cholesky(x @ x.T + y)", {"x": ("spd", (3, 3)), "y": ("spd", (3, 3))}, 1e-6),
    "eigvalsh_of_triangle": ("np.linalg.eigvalsh(x + x.T)", {"x": ("spd", (3, 3))}, 1e-6),
    # JAX's own: symmetrizes a non-symmetric argument (NumPy's read one triangle)
    "linalg.cholesky": ("jnp.linalg.cholesky(x @ x.T + y)", {"x": ("spd", (3, 3)), "y": (N, (3, 3))}, 1e-6),
    "linalg.eigvalsh": ("jnp.linalg.eigvalsh(x)", {"x": (N, (3, 3))}, 1e-6),
    "linalg.pinv": ("jnp.linalg.pinv(x)", {"x": (N, (3, 2))}, 1e-6),
    "pinv_numpy": ("np.linalg.pinv(x) + np.linalg.pinv(y)", {"x": (N, (2, 3)), "y": (N, (2, 2, 3))}, 1e-6),
    # ----- functions that return several arrays: one row per part (eigenvectors and singular
    # vectors squared: their signs are arbitrary) -----
    "linalg.slogdet.logabsdet": ("np.linalg.slogdet(x)[1]", {"x": ("spd", (3, 3))}, 1e-6),
    "eigh_of_triangle.eigenvalues": ("np.linalg.eigh(x + x.T)[0]", {"x": (N, (3, 3))}, 1e-6),
    "eigh_of_triangle.eigenvectors": ("np.linalg.eigh(x + x.T)[1] ** 2", {"x": (N, (3, 3))}, 1e-6),
    "linalg.eigh.eigenvalues": ("jnp.linalg.eigh(x)[0]", {"x": (N, (3, 3))}, 1e-6),
    "linalg.eigh.eigenvectors": ("jnp.linalg.eigh(x)[1] ** 2", {"x": (N, (3, 3))}, 1e-6),
    "linalg.svd.U": ("np.linalg.svd(x, full_matrices=False)[0] ** 2", {"x": (N, (4, 3))}, 1e-6),
    "linalg.svd.S": ("np.linalg.svd(x, compute_uv=False)", {"x": (N, (3, 4))}, 1e-6),
    "linalg.svd.Vh": ("np.linalg.svd(x, full_matrices=False)[2] ** 2", {"x": (N, (3, 4))}, 1e-6),
    "linalg.qr.Q": ("np.linalg.qr(x)[0] ** 2", {"x": (N, (4, 3))}, 1e-6),
    "linalg.qr.R": ("np.linalg.qr(x)[1] ** 2", {"x": (N, (4, 3))}, 1e-6),
    "linalg.lstsq.solution": (
        "jnp.linalg.lstsq(x, y, rcond=None)[0]",
        {"x": (N, (5, 3)), "y": (N, (5, 2))},
        1e-6,
    ),
    "linalg.lstsq.residuals": (
        "jnp.linalg.lstsq(x, y, rcond=None)[1]",
        {"x": (N, (5, 3)), "y": (N, (5,))},
        1e-6,
    ),
    "linalg.lstsq.singular_values": (
        "jnp.linalg.lstsq(x, y, rcond=None)[3]",
        {"x": (N, (5, 3)), "y": (N, (5,))},
        1e-6,
    ),
    "lstsq_numpy.solution": (
        "np.linalg.lstsq(x, y, rcond=None)[0]",
        {"x": (N, (5, 3)), "y": (N, (5, 2))},
        1e-6,
    ),
    "lstsq_numpy.residuals": (
        "np.linalg.lstsq(x, y, rcond=None)[1]",
        {"x": (N, (5, 3)), "y": (N, (5,))},
        1e-6,
    ),
    "lstsq_numpy.singular_values": (
        "np.linalg.lstsq(x, y, rcond=None)[3]",
        {"x": (N, (5, 3)), "y": (N, (5,))},
        1e-6,
    ),
    # ----- FFT, and complex values back to real ones (outputs are real: |.|, real, irfft) -----
    "fft.fft": ("np.abs(np.fft.fft(x, n=6, axis=0) + 0.5)", {"x": (N, (4, 3))}, 1e-6),
    "fft.ifft": ("np.abs(np.fft.ifft(x, norm='ortho') + 0.5)", {"x": (N, (3, 5))}, 1e-6),
    "fft.rfft": ("np.abs(np.fft.rfft(x, n=5) + 0.5)", {"x": (N, (2, 6))}, 1e-6),
    "fft.irfft": ("np.fft.irfft(np.fft.fft(x), n=7)", {"x": (N, (5,))}, 1e-6),
    "fft.fft2": ("np.abs(np.fft.fft2(x, s=(3, 5)) + 0.5)", {"x": (N, (4, 4))}, 1e-6),
    "fft.ifft2": ("np.abs(np.fft.ifft2(x, axes=(0, 2)) + 0.5)", {"x": (N, (3, 2, 4))}, 1e-6),
    "fft.rfft2": ("np.abs(np.fft.rfft2(x, norm='forward') + 0.5)", {"x": (N, (4, 6))}, 1e-6),
    "fft.irfft2": ("np.fft.irfft2(np.fft.fft2(x), s=(3, 6))", {"x": (N, (3, 4))}, 1e-6),
    "fft.fftn": ("np.abs(np.fft.fftn(x) + 0.5)", {"x": (N, (2, 3, 4))}, 1e-6),
    "fft.ifftn": ("np.abs(np.fft.ifftn(x, s=(2, 4), axes=(1, 2)) + 0.5)", {"x": (N, (2, 3, 4))}, 1e-6),
    "fft.rfftn": ("np.abs(np.fft.rfftn(x, axes=(0, 2)) + 0.5)", {"x": (N, (3, 2, 5))}, 1e-6),
    "fft.irfftn": ("np.fft.irfftn(np.fft.fftn(x), axes=(0, 1))", {"x": (N, (3, 4))}, 1e-6),
    "real": ("np.real(np.fft.fft(x) * (1 + 2j))", {"x": (N, (5,))}, 1e-6),
    "imag": ("np.imag(np.fft.fft(x) * (1 + 2j)) + np.imag(x)", {"x": (N, (5,))}, 1e-6),
    "conj": ("np.real(np.conj(np.fft.fft(x)) * np.fft.fft(x * x))", {"x": (N, (5,))}, 1e-6),
    "angle": ("np.angle(np.fft.fft(x) + 0.5)", {"x": (N, (5,))}, 1e-6),
    "split.section": ("np.split(x, 2, axis=1)[1]", {"x": (N, (3, 4))}, 1e-6),
    "array_split.section": ("np.array_split(x, 3)[0]", {"x": (N, (5, 2))}, 1e-6),
    "hsplit.section": ("np.hsplit(x, [1, 3])[1]", {"x": (N, (2, 5))}, 1e-6),
    "vsplit.section": ("np.vsplit(x, 2)[1]", {"x": (N, (4, 3))}, 1e-6),
    "dsplit.section": ("np.dsplit(x, [1])[1]", {"x": (N, (2, 2, 3))}, 1e-6),
    "linalg.matrix_power": (
        "np.linalg.matrix_power(x, 3) + np.linalg.matrix_power(x, -2)",
        {"x": ("spd", (3, 3))},
        1e-6,
    ),
    "scipy.linalg.solve_triangular": (
        "scipy.linalg.solve_triangular(x, y, lower=True) + scipy.linalg.solve_triangular(x, y, trans=1)",
        {"x": ("spd", (3, 3)), "y": (N, (3, 2))},
        1e-6,
    ),
    # ----- shapes -----
    "reshape": ("np.reshape(x, (4, 3))", {"x": (N, (2, 6))}, 1e-6),
    "ravel": ("np.ravel(x)", {"x": (N, (2, 3))}, 1e-6),
    "expand_dims": ("np.expand_dims(x, 1)", {"x": (N, (2, 3))}, 1e-6),
    "squeeze": ("np.squeeze(x)", {"x": (N, (2, 1, 3))}, 1e-6),
    "broadcast_to": ("np.broadcast_to(x, (2, 3, 4))", {"x": (N, (3, 1))}, 1e-6),
    "roll": ("np.roll(x, (1, -2), axis=(0, 1))", {"x": (N, (3, 4))}, 1e-6),
    "flip": ("np.flip(x, axis=1)", {"x": (N, (3, 4))}, 1e-6),
    "diag": ("np.diag(x, k=1)", {"x": (N, (3, 4))}, 1e-6),
    "concatenate": ("np.concatenate([x, y, x], axis=1)", {"x": (N, (2, 3)), "y": (N, (2, 1))}, 1e-6),
    "stack": ("np.stack([x, y], axis=-1)", {"x": (N, (2, 3)), "y": (N, (2, 3))}, 1e-6),
    "asarray": ("np.asarray(x) * 2", {"x": (N, (3,))}, 1e-6),
    "array": ("np.array([x, y * 2, x])", {"x": (N, ()), "y": (N, ())}, 1e-6),
    "full": ("np.full((2, 3), x)", {"x": (N, (3,))}, 1e-6),
    "linspace": ("np.linspace(x, y, 5) + np.linspace(y, 1.0, num=1)", {"x": (N, ()), "y": (N, (3,))}, 1e-6),
    "astype": ("x.astype(np.float64)", {"x": (N, (3,))}, 1e-6),
    "copy": ("x.copy()", {"x": (N, (3,))}, 1e-6),
    "getitem": ("x[np.array([0, 2, 2])] * 2", {"x": (N, (3, 4))}, 1e-6),
    "getitem_static": ("x[1:, ::2, None] + x[-1, None, 1:3]", {"x": (N, (3, 4))}, 1e-6),
    # ----- assembly -----
    "moveaxis": ("np.moveaxis(x, 0, -1)", {"x": (N, (2, 3, 4))}, 1e-6),
    "swapaxes": ("np.swapaxes(x, 0, 2)", {"x": (N, (2, 3, 4, 2))}, 1e-6),
    "rollaxis": ("np.rollaxis(x, 2, 1)", {"x": (N, (2, 3, 4))}, 1e-6),
    "fliplr": ("np.fliplr(x)", {"x": (N, (2, 3, 4))}, 1e-6),
    "flipud": ("np.flipud(x)", {"x": (N, (3,))}, 1e-6),
    "rot90": ("np.rot90(x, 3, axes=(1, 2))", {"x": (N, (2, 3, 4))}, 1e-6),
    "tril": ("np.tril(x, -1)", {"x": (N, (2, 3, 4))}, 1e-6),
    "triu": ("np.triu(x, k=1)", {"x": (N, (4, 3))}, 1e-6),
    "diagonal": ("np.diagonal(x, 1, 2, 0)", {"x": (N, (3, 2, 4))}, 1e-6),
    "atleast_1d": ("np.atleast_1d(x)", {"x": (N, ())}, 1e-6),
    "atleast_2d": ("np.atleast_2d(x)", {"x": (N, (3,))}, 1e-6),
    "atleast_3d": ("np.atleast_3d(x)", {"x": (N, (2, 3))}, 1e-6),
    "repeat": (
        "np.repeat(x, 2, axis=-2)[:, :4] + np.repeat(x[:, :2], 2, axis=1) "
        "+ np.repeat(x, 2)[:32].reshape(2, 4, 4)",
        {"x": (N, (2, 3, 4))},
        1e-6,
    ),
    "tile": ("np.tile(x, (2, 1, 3))", {"x": (N, (3, 2))}, 1e-6),
    "pad": (
        "np.pad(x, (1, 2), constant_values=3.0)[:6, :5] + np.pad(x, 1, mode='reflect')",
        {"x": (N, (4, 3))},
        1e-6,
    ),
    "take": (
        "np.take(x, np.array([0, 2, 2]), axis=-1) + np.take(x, np.array([1, 0, 5]).reshape(1, 3))",
        {"x": (N, (2, 3))},
        1e-6,
    ),
    "take_along_axis": (
        "np.take_along_axis(x, np.array([0, 3, 2, 2, 2, 0]).reshape(1, 3, 2), axis=-1)",
        {"x": (N, (2, 3, 4))},
        1e-6,
    ),
    "tensordot": (
        "np.tensordot(x, y, axes=(2, 0)) + np.tensordot(x, y, 1)",
        {"x": (N, (2, 3, 4)), "y": (N, (4, 5, 2))},
        1e-6,
    ),
    "kron": ("np.kron(x, y)", {"x": (N, (2, 3)), "y": (N, (2, 2, 1))}, 1e-6),
    "cross": ("np.cross(x, y, axisa=0)", {"x": (N, (3, 4)), "y": (N, (2, 4, 3))}, 1e-6),
    "append": (
        "np.append(x, y, axis=1) + np.append(y, x)[:6].reshape(2, 3)",
        {"x": (N, (2, 2)), "y": (N, (2, 1))},
        1e-6,
    ),
    "hstack": ("np.hstack([x, y, x])", {"x": (N, (2, 3, 4)), "y": (N, (2, 1, 4))}, 1e-6),
    "vstack": ("np.vstack([x, y])", {"x": (N, (3,)), "y": (N, (2, 3))}, 1e-6),
    "dstack": ("np.dstack([x, y])", {"x": (N, (2, 3)), "y": (N, (2, 3, 2))}, 1e-6),
    "column_stack": ("np.column_stack([x, y])", {"x": (N, (3,)), "y": (N, (3, 2))}, 1e-6),
    "select": ("np.select([x > 0, y > 0], [x, x * y], y)", {"x": (N, (3, 4)), "y": (N, (4,))}, 1e-6),
    # ----- more elementwise -----
    "sinc": ("np.sinc(x) + np.sinc(x * 0)", {"x": (N, (2, 3))}, 1e-6),
    "fabs": ("np.fabs(x)", {"x": (N, (4,))}, 1e-6),
    "deg2rad": ("np.deg2rad(x) + np.radians(x)", {"x": (N, (2, 2))}, 1e-6),
    "rad2deg": ("np.rad2deg(x) + np.degrees(x)", {"x": (N, (2, 1, 3))}, 1e-6),
    "nan_to_num": ("np.nan_to_num(np.where(x > 0, x, np.inf), posinf=2.0)", {"x": (N, (6,))}, 1e-6),
    "fmax": ("np.fmax(x, y)", {"x": (N, (3, 4)), "y": (N, (4,))}, 1e-6),
    "fmin": ("np.fmin(x, y)", {"x": (N, (3, 1)), "y": (N, (2, 1, 4))}, 1e-6),
    "logaddexp2": ("np.logaddexp2(x, y)", {"x": (N, (4,)), "y": (N, (3, 1))}, 1e-6),
    # ----- scipy.special and scipy.stats.norm (the jax.numpy oracle runs jax.scipy) -----
    "scipy.special.erf": ("scipy.special.erf(x)", {"x": (N, (2, 3))}, 1e-6),
    "scipy.special.erfc": ("scipy.special.erfc(x)", {"x": (N, (4,))}, 1e-6),
    "scipy.special.erfinv": ("scipy.special.erfinv(x)", {"x": (U, (2, 2))}, 1e-6),
    "scipy.special.gammaln": ("scipy.special.gammaln(x)", {"x": (P, (4,))}, 1e-6),
    "scipy.special.digamma": ("scipy.special.digamma(x)", {"x": (P, (3, 2))}, 1e-6),
    "scipy.special.multigammaln": ("scipy.special.multigammaln(x, 3)", {"x": ("gt1", (4,))}, 1e-6),
    "scipy.special.expit": ("scipy.special.expit(x)", {"x": (N, (2, 3, 2))}, 1e-6),
    "scipy.special.logit": ("scipy.special.logit(x * 0.4 + 0.5)", {"x": (U, (4,))}, 1e-6),
    "scipy.special.softmax": (
        "scipy.special.softmax(x, axis=1) + scipy.special.softmax(x)",
        {"x": (N, (2, 3, 2))},
        1e-6,
    ),
    "scipy.special.log_softmax": (
        "scipy.special.log_softmax(x, axis=-1) + scipy.special.log_softmax(x)",
        {"x": (N, (3, 4))},
        1e-6,
    ),
    "scipy.special.xlogy": ("scipy.special.xlogy(x, y)", {"x": (N, (3, 4)), "y": (P, (4,))}, 1e-6),
    "scipy.special.xlog1py": ("scipy.special.xlog1py(x, y)", {"x": (N, (3, 1)), "y": (P, (4,))}, 1e-6),
    "scipy.special.betaln": ("scipy.special.betaln(x, y)", {"x": (P, (3, 4)), "y": (P, (4,))}, 1e-6),
    "scipy.stats.norm.pdf": (
        "scipy.stats.norm.pdf(x, y, z)",
        {"x": (N, (3, 4)), "y": (N, (4,)), "z": (P, ())},
        1e-6,
    ),
    "scipy.stats.norm.logpdf": (
        "scipy.stats.norm.logpdf(x, loc=y, scale=z)",
        {"x": (N, (2, 3)), "y": (N, ()), "z": (P, (3,))},
        1e-6,
    ),
    "scipy.stats.norm.cdf": (
        "scipy.stats.norm.cdf(x, y, z) + scipy.stats.norm.cdf(x)",
        {"x": (N, (2, 3)), "y": (N, (3,)), "z": (P, (2, 1))},
        1e-6,
    ),
    "scipy.stats.norm.logcdf": (
        "scipy.stats.norm.logcdf(x, y, scale=z)",
        {"x": (N, (4,)), "y": (N, (4,)), "z": (P, (4,))},
        1e-6,
    ),
    # ----- jax.nn and jax.scipy.special -----
    "nn.sigmoid": ("jax.nn.sigmoid(x)", {"x": (N, (4,))}, 1e-6),
    "nn.relu": ("jax.nn.relu(x)", {"x": (N, (5,))}, 1e-6),
    "nn.softplus": ("jax.nn.softplus(x)", {"x": (N, (4,))}, 1e-6),
    "nn.log_softmax": ("jax.nn.log_softmax(x, axis=1)", {"x": (N, (2, 4))}, 1e-6),
    "nn.softmax": ("jax.nn.softmax(x)", {"x": (N, (2, 4))}, 1e-6),
    "scipy.special.logsumexp": ("jax.scipy.special.logsumexp(x, axis=0)", {"x": (N, (3, 4))}, 1e-6),
    # ----- Python's math module, on one number (x[0] of an array, or a float) -----
    "math.sin": ("math.sin(x[0]) * x[1]", {"x": (N, (2,))}, 1e-6),
    "math.cos": ("math.cos(x[0]) * x[1]", {"x": (N, (2,))}, 1e-6),
    "math.tan": ("math.tan(x[0]) * x[1]", {"x": (U, (2,))}, 1e-6),
    "math.asin": ("math.asin(x[0]) * x[1]", {"x": (U, (2,))}, 1e-6),
    "math.acos": ("math.acos(x[0]) * x[1]", {"x": (U, (2,))}, 1e-6),
    "math.atan": ("math.atan(x[0]) * x[1]", {"x": (N, (2,))}, 1e-6),
    "math.sinh": ("math.sinh(x[0]) * x[1]", {"x": (N, (2,))}, 1e-6),
    "math.cosh": ("math.cosh(x[0]) * x[1]", {"x": (N, (2,))}, 1e-6),
    "math.tanh": ("math.tanh(x[0]) * x[1]", {"x": (N, (2,))}, 1e-6),
    "math.asinh": ("math.asinh(x[0]) * x[1]", {"x": (N, (2,))}, 1e-6),
    "math.acosh": ("math.acosh(x[0]) * x[1]", {"x": ("gt1", (2,))}, 1e-6),
    "math.atanh": ("math.atanh(x[0]) * x[1]", {"x": (U, (2,))}, 1e-6),
    "math.exp": ("math.exp(x[0]) * x[1]", {"x": (N, (2,))}, 1e-6),
    "math.expm1": ("math.expm1(x[0]) * x[1]", {"x": (N, (2,))}, 1e-6),
    "math.log1p": ("math.log1p(x[0]) * x[1]", {"x": (P, (2,))}, 1e-6),
    "math.log2": ("math.log2(x[0]) * x[1]", {"x": (P, (2,))}, 1e-6),
    "math.log10": ("math.log10(x[0]) * x[1]", {"x": (P, (2,))}, 1e-6),
    "math.sqrt": ("math.sqrt(x[0]) * x[1]", {"x": (P, (2,))}, 1e-6),
    "math.fabs": ("math.fabs(x[0]) * x[1]", {"x": (N, (2,))}, 1e-6),
    "math.degrees": ("math.degrees(x[0]) * x[1]", {"x": (N, (2,))}, 1e-6),
    "math.radians": ("math.radians(x[0]) * x[1]", {"x": (N, (2,))}, 1e-6),
    "math.erf": ("math.erf(x[0]) * x[1]", {"x": (N, (2,))}, 1e-6),
    "math.erfc": ("math.erfc(x[0]) * x[1]", {"x": (N, (2,))}, 1e-6),
    "math.lgamma": ("math.lgamma(x[0]) * x[1]", {"x": (P, (2,))}, 1e-6),
    "math.log": ("math.log(x[0]) + math.log(x[1], 3.0)", {"x": (P, (2,))}, 1e-6),
    "math.atan2": ("math.atan2(y, x[0])", {"x": (N, (1,)), "y": (N, ())}, 1e-6),
    "math.hypot": ("math.hypot(x[0], y)", {"x": (N, (2,)), "y": (N, ())}, 1e-6),
    # ----- np.r_[...] and np.c_[...] -----
    "r_concatenate": ("np.r_[x, y, 2.0]", {"x": (N, (3,)), "y": (N, ())}, 1e-6),
    "c_concatenate": ("np.c_[x, y]", {"x": (N, (3,)), "y": (N, (3, 2))}, 1e-6),
    # in-place writes, as statements (the last part is returned)
    "at_set": ("z = x * 1.0; z[1:, 0] = y; z", {"x": (N, (3, 4)), "y": (N, (2,))}, 1e-6),
    "at_add": ("z = x * 1.0; z[0] += y; z", {"x": (N, (3, 4)), "y": (N, (4,))}, 1e-6),
    "at_multiply": ("z = x * 1.0; z[:, 1] *= y; z", {"x": (N, (3, 4)), "y": (N, ())}, 1e-6),
}

#: Rows checked against finite differences only: JAX arrays are immutable, so the jax.numpy
#: version of an in-place write does not run; and where NumPy's function differs from JAX's.
FD_ONLY = {
    "at_set",
    "at_add",
    "at_multiply",
    # NumPy's cholesky reads only one triangle; jax.grad returns the symmetric part instead
    "cholesky_numpy",
    # Python's math functions take numbers, not JAX tracers
    *(key for key in TABLE if key.startswith("math.")),
}

#: Rules whose gradient is zero by definition: the gradient through them must be zero.
NONDIFF = {
    "sign": "np.sign(x) * 2",
    "floor": "np.floor(x) * 2",
    "ceil": "np.ceil(x)",
    "round": "np.round(x, 1)",
    "argmax": "x[np.argmax(x)] * 0 + np.argmax(x)",
    "stop_gradient": "stop_gradient(x) ** 2",
}


def _inputs(spec, name):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    out = {}
    for k, (domain, shape) in spec.items():
        if domain == "pos":
            v = rng.uniform(0.5, 2.0, shape)
        elif domain == "unit":
            v = rng.uniform(-0.9, 0.9, shape)
        elif domain == "gt1":
            v = rng.uniform(1.2, 3.0, shape)
        elif domain == "spd":
            v = rng.standard_normal(shape) * 0.3 + 3 * np.eye(shape[0])
        else:
            v = rng.standard_normal(shape)
        out[k] = v if shape else float(v)
    return out


def test_every_rule_is_covered():
    # a helper taking any keywords (vjp_of) has one rule per set of keywords, "vjp_of[axis:static]"
    differentiable = {
        k.split("[")[0] for k, r in all_rules().items() if r.differentiable and r.user_object is None
    }
    from .test_helper_rules import HELPER_TABLE  # the runtime helpers' rules have their own table

    missing = sorted(differentiable - set(TABLE) - set(HELPER_TABLE))
    assert not missing, f"rules without a row in TABLE: {missing}"


@pytest.mark.parametrize("key", sorted(TABLE))
def test_rule(key):
    expr, spec, rtol = TABLE[key]
    names = list(spec)
    *lines, result = [part.strip() for part in expr.split(";")]
    body = "".join(f"    {line}\n" for line in lines)
    source = f"def rule_{key.replace('.', '_')}({', '.join(names)}):\n{body}    return {result}\n"
    fn = make_function(source, namespace={"jax": jax, "scipy": scipy, "math": math})
    oracle = make_function(source, namespace={"jax": jax, "scipy": jax.scipy, "math": math})
    args = _inputs(spec, key)
    out = np.asarray(fn(**args))
    seed = np.random.default_rng(7).standard_normal(out.shape)
    g = grad(fn, wrt=tuple(names))
    ours = g(**args, seed=seed)
    _, fd = fd_vjp(fn, args, names, seed)
    ref = fd if key in FD_ONLY else jax_vjp(oracle, args, names, seed)[1]
    for name, mine, theirs, numeric in zip(names, ours, ref, fd):
        assert_close(mine, theirs, rtol=rtol, atol=1e-10, what=f"{key}: d/d{name} vs jax")
        assert_close(mine, numeric, rtol=1e-5, atol=1e-6, what=f"{key}: d/d{name} vs FD")


@pytest.mark.parametrize("key", sorted(NONDIFF))
def test_non_differentiable_rule_gives_zero(key):
    fn = make_function(
        f"def nd_{key}(x):\n    return np.sum({NONDIFF[key]})\n",
        namespace={"stop_gradient": __import__("sourcegrad").stop_gradient},
    )
    g = grad(fn)(np.array([0.3, -1.7, 2.2]))
    assert_close(g, np.zeros(3))
    assert "b_x = b_x +" not in grad(fn).source


def test_np_gradient_along_several_axes_or_with_edge_order_2_is_located():
    from sourcegrad.errors import ShapeError

    both = make_function("""
        def both(A):
            gy, gx = np.gradient(A)
            return np.sum(gx * gy)
    """)
    with pytest.raises(ShapeError, match=r"along 2 axes returns a list of 2 arrays") as info:
        grad(both)(np.ones((3, 4)))
    assert "np.gradient(f, axis=k)" in str(info.value) and ":2:" in str(info.value)
    second = make_function("""
        def second(x):
            return np.sum(np.gradient(x, edge_order=2))
    """)
    with pytest.raises(ShapeError, match=r"edge_order=2\) has no rule"):
        grad(second)(np.linspace(0.0, 1.0, 5))
    # one axis of the same array, each its own call, is NumPy's answer
    A = np.random.default_rng(5).normal(size=(3, 4))
    per_axis = make_function("""
        def per_axis(A):
            return np.sum(np.gradient(A, axis=0) * np.gradient(A, axis=1))
    """)
    want = jax.grad(lambda A: jax.numpy.sum(jax.numpy.gradient(A, axis=0) * jax.numpy.gradient(A, axis=1)))(A)
    assert_close(grad(per_axis)(A), want, rtol=1e-12, atol=1e-12)
