"""Straight-line corpus functions: arithmetic, NumPy functions, reductions, linear algebra, shapes."""

import numpy as np

from .registry import case, ints, pos, unit

# ----- arithmetic and broadcasting -----


@case(wrt=("a", "b", "c"), seed=True, a=(3,), b=(3,), c=pos(3))
def seed_page_001(a, b, c):
    y = 3 * a + 2 * b * b + np.log(c)
    return y


@case(wrt=("x", "y"), x=(3,), y=(3,))
def add_sub_mul(x, y):
    return np.sum(x * y - x + 2.0 * y)


@case(wrt=("x", "y"), x=(4, 3), y=pos(3))
def divide_broadcast(x, y):
    return np.sum(x / y)


@case(wrt=("x", "y"), x=pos(3), y=(4, 1))
def divide_broadcast_denominator(x, y):
    return np.sum(y / x)


@case(wrt=("x", "y"), x=pos(4, 3), y=(3,))
def power_broadcast(x, y):
    return np.sum(x**y)


@case(wrt="x", x=(5,))
def power_constant(x):
    return np.sum(x**3 - 2 * x**2)


@case(wrt=("x", "b"), x=(4, 3), b=(3,))
def bias_add(x, b):
    return np.sum((x + b) ** 2)


@case(wrt=("x", "s"), x=(2, 3), s=())
def scalar_times_matrix(x, s):
    return np.sum(s * x * x)


@case(wrt="x", x=(4,))
def fan_out_three(x):
    return np.sum(x * x * x)


@case(wrt="x", x=(3,))
def unary_minus(x):
    y = -x
    return np.sum(-y * x)


@case(wrt=("x", "y"), x=(3,), y=pos(3))
def mod_op(x, y):
    return np.sum(x % y)


@case(wrt="x", x=(2, 3))
def reassign(x):
    y = x * 2
    y = y + x
    y = y * y
    return np.sum(y)


@case(wrt="x", x=(3,))
def augmented(x):
    y = x * 1.0
    y += 1.0
    y *= x
    y -= 2 * x
    y /= 3.0
    y **= 2
    return np.sum(y)


@case(wrt=("a", "b"), a=(3,), b=(3,))
def tuple_swap(a, b):
    a, b = b, a * 2
    return np.sum(a * b + a)


@case(wrt="x", x=(3, 2))
def tuple_unpack_shape(x):
    n, m = x.shape
    return np.sum(x) * n + m


@case(wrt=("x",), x=(3,), scale=2.5)
def keyword_default(x, scale=3.0):
    return np.sum(scale * x**2)


@case(wrt="x", x=(3,))
def constants_module(x):
    return np.sum(np.pi * x + np.e)


@case(wrt=("x", "y"), x=(3,), y=(3,))
def comparisons_are_constant(x, y):
    mask = x > y
    return np.sum(np.where(mask, x, y) * 2.0)


# ----- elementwise NumPy functions -----


@case(wrt="x", x=(4,))
def trig(x):
    return np.sum(np.sin(x) * np.cos(x) + np.tan(0.3 * x))


@case(wrt="x", x=unit(4))
def inverse_trig(x):
    return np.sum(np.arcsin(x) + np.arccos(x) * 2 + np.arctan(x))


@case(wrt="x", x=(4,))
def hyperbolic(x):
    return np.sum(np.sinh(x) + np.cosh(x) + np.tanh(x))


@case(wrt="x", x=(4,))
def exponentials(x):
    return np.sum(np.exp(x) + np.expm1(x) + np.exp2(x))


@case(wrt="x", x=pos(4))
def logarithms(x):
    return np.sum(np.log(x) + np.log1p(x) + np.log2(x) + np.log10(x))


@case(wrt="x", x=pos(4))
def roots(x):
    return np.sum(np.sqrt(x) + np.square(x) + np.cbrt(x))


@case(wrt="x", x=(5,))
def absolute_value(x):
    return np.sum(np.abs(x) * x + np.absolute(2 * x))


@case(wrt="x", x=pos(4))
def reciprocal_negative(x):
    return np.sum(np.reciprocal(x) + np.negative(x) * 3)


@case(wrt=("x", "y"), x=(4,), y=(4,))
def max_min_elementwise(x, y):
    return np.sum(np.maximum(x, y) * 2 + np.minimum(x, 0.1 * y))


@case(wrt="x", x=(6,))
def relu(x):
    return np.sum(np.maximum(x, 0.0) ** 2)


@case(wrt=("x", "lo"), x=(6,), lo=())
def clip_values(x, lo):
    return np.sum(np.clip(x, lo, 0.5) * x)


@case(wrt=("x", "y"), x=(4,), y=(4,))
def where_select(x, y):
    return np.sum(np.where(x > 0, x * y, y**2))


@case(wrt=("y", "x"), y=(4,), x=(4,))
def arctan2_hypot(y, x):
    return np.sum(np.arctan2(y, x) + np.hypot(x, y))


@case(wrt=("a", "b"), a=(4,), b=(4,))
def logaddexp_pair(a, b):
    return np.sum(np.logaddexp(a, b))


@case(wrt=("x", "y"), x=pos(3), y=(3,))
def power_function(x, y):
    return np.sum(np.power(x, y))


@case(wrt="x", x=(4,))
def non_differentiable_helpers(x):
    s = np.sign(x)
    f = np.floor(x)
    r = np.round(x)
    return np.sum(x * s + f * x + r)


@case(wrt="x", x=(4,))
def softplus(x):
    return np.sum(np.log1p(np.exp(x)))


@case(wrt="x", x=(5,))
def sigmoid(x):
    return np.sum(1.0 / (1.0 + np.exp(-x)))


# ----- reductions -----


@case(wrt="x", x=(3, 4), seed=True)
def sum_axis(x):
    return np.sum(x, axis=0)


@case(wrt="x", x=(3, 4), seed=True)
def sum_keepdims(x):
    return np.sum(x, axis=1, keepdims=True) * 2


@case(wrt="x", x=(2, 3, 4), seed=True)
def sum_tuple_axes(x):
    return np.sum(x, axis=(0, 2))


@case(wrt="x", x=(3, 4))
def mean_methods(x):
    return x.mean() + x.sum() * 2 + x.mean(axis=0).sum()


@case(wrt="x", x=pos(3, 3), seed=True)
def prod_axis(x):
    return np.prod(x, axis=1)


@case(wrt="x", x=(3, 4), seed=True)
def max_axis(x):
    return np.max(x, axis=1)


@case(wrt="x", x=(3, 4))
def min_all(x):
    return np.min(x) + x.max()


@case(wrt="x", x=(4, 3))
def variance_std(x):
    return np.sum(np.var(x, axis=0)) + np.std(x) + np.var(x, ddof=1)


@case(wrt="x", x=(3, 4))
def norms(x):
    return np.linalg.norm(x) + np.sum(np.linalg.norm(x, axis=1))


@case(wrt="x", x=(5,))
def vector_norms(x):
    return np.linalg.norm(x, ord=1) + np.linalg.norm(x, ord=np.inf) * 0.5


@case(wrt="x", x=(3, 4), seed=True)
def cumulative_sum(x):
    return np.cumsum(x, axis=1) + np.cumsum(x).reshape(3, 4)


@case(wrt="x", x=(4, 5))
def logsumexp_stable(x):
    m = np.max(x, axis=1, keepdims=True)
    return np.sum(m + np.log(np.sum(np.exp(x - m), axis=1, keepdims=True)))


@case(wrt="z", z=(3, 5))
def softmax_cross_entropy(z):
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    p = e / np.sum(e, axis=1, keepdims=True)
    return -np.mean(np.log(p[:, 0]))


# ----- linear algebra -----


@case(wrt=("W", "b"), W=(4, 3), b=(3,), x=(5, 4), y=(5, 3))
def brief_example(W, b, x, y):
    return np.mean((np.tanh(x @ W + b) - y) ** 2)


@case(wrt=("A", "B"), A=(3, 4), B=(4, 2))
def matmul_operator(A, B):
    return np.sum((A @ B) ** 2)


@case(wrt=("A", "v"), A=(3, 4), v=(4,))
def matvec(A, v):
    return np.sum(np.sin(A @ v))


@case(wrt=("u", "A"), u=(3,), A=(3, 4))
def vecmat(u, A):
    return np.sum((u @ A) ** 2)


@case(wrt=("u", "v"), u=(4,), v=(4,))
def vecvec(u, v):
    return u @ v + np.dot(u, v) * 2 + np.inner(u, v)


@case(wrt=("A", "B"), A=(2, 3, 4), B=(2, 4, 5))
def batched_matmul(A, B):
    return np.sum(np.matmul(A, B) ** 2)


@case(wrt=("A", "B"), A=(3, 4), B=(4, 2))
def dot_matrix(A, B):
    return np.sum(np.dot(A, B) * A.sum())


@case(wrt=("A", "B"), A=(2, 3, 4), B=(4, 5))
def dot_nd(A, B):
    return np.sum(np.dot(A, B) ** 2)


@case(wrt=("u", "v"), u=(3,), v=(4,))
def outer_product(u, v):
    return np.sum(np.outer(u, v) ** 2)


@case(wrt=("A", "B"), A=(3, 4), B=(2, 4))
def inner_matrix(A, B):
    return np.sum(np.inner(A, B) ** 2)


@case(wrt=("A", "B"), A=(3, 4), B=(4, 5))
def einsum_matmul(A, B):
    return np.sum(np.einsum("ij,jk->ik", A, B) ** 2)


@case(wrt=("A", "x"), A=(3, 4), x=(4,))
def einsum_reduce(A, x):
    return np.einsum("ij,j->", A, x) + np.sum(np.einsum("ij->j", A) ** 2)


@case(wrt="A", A=(4, 4))
def einsum_trace(A):
    return np.einsum("ii", A) + np.trace(A) * 2


@case(wrt="A", A=(3, 3))
def transpose_forms(A):
    return np.sum(A.T @ A + np.transpose(A) * A + A.transpose() ** 2)


@case(wrt="A", A=(2, 3, 4), seed=True)
def transpose_axes(A):
    return np.transpose(A, (2, 0, 1)) * 2


@case(wrt=("A", "b"), A=(3, 3), b=(3,))
def linear_solve(A, b):
    M = A + 4 * np.eye(3)
    return np.sum(np.linalg.solve(M, b) ** 2)


@case(wrt=("A", "B"), A=(3, 3), B=(3, 2))
def linear_solve_matrix(A, B):
    M = A + 4 * np.eye(3)
    return np.sum(np.linalg.solve(M, B) ** 2)


@case(wrt="A", A=(3, 3))
def inverse_and_det(A):
    M = A + 4 * np.eye(3)
    return np.sum(np.linalg.inv(M)) + np.linalg.det(M)


# ----- shapes and indexing -----


@case(wrt="x", x=(2, 6))
def reshape_forms(x):
    return np.sum(x.reshape(3, 4) * np.reshape(x, (4, 3)).T + x.reshape((12,)).reshape(3, 4))


@case(wrt=("a", "b"), a=(2, 3), b=(1, 3))
def concatenate_rows(a, b):
    return np.sum(np.concatenate([a, b, a], axis=0) ** 2)


@case(wrt=("a", "b"), a=(2, 3), b=(2, 3))
def stack_axis1(a, b):
    return np.sum(np.stack([a, b], axis=1) * np.stack((b, a)).sum(axis=0)[:, None, :])


@case(wrt="x", x=(3,), seed=True)
def expand_squeeze(x):
    y = np.expand_dims(x, 0)
    z = np.squeeze(y * 2, axis=0)
    return z + x[None].squeeze()


@case(wrt="x", x=(3,), seed=True)
def broadcast_to_matrix(x):
    return np.broadcast_to(x, (4, 3)) * np.arange(12.0).reshape(4, 3)


@case(wrt="x", x=(5,), seed=True)
def roll_flip(x):
    return np.roll(x, 2) * x + np.flip(x)


@case(wrt="x", x=(4,))
def diag_forms(x):
    D = np.diag(x)
    return np.sum(D @ D) + np.sum(np.diag(D * 3))


@case(wrt="x", x=(5, 4))
def indexing_forms(x):
    return x[0].sum() + x[1:].sum() * 2 + x[:, 0].sum() * 3 + x[::2, 1:3].sum() + x[-1, -1]


@case(wrt="x", x=(5,), idx=ints((6,), 5))
def integer_array_index(x, idx):
    return np.sum(x[idx] ** 2)


@case(wrt="x", x=(3, 4))
def newaxis_index(x):
    return np.sum(x[None] * x[:, None, :])


@case(wrt="x", x=(3,))
def array_from_scalars(x):
    v = np.array([x[0] * 2, x[1], x[2] ** 2])
    return np.sum(v * np.asarray(x))


@case(wrt=("x", "v"), x=(3,), v=())
def full_and_constructors(x, v):
    return np.sum(np.full((3,), v) * x + np.zeros(3) + np.ones_like(x) * x + np.zeros_like(x))


@case(wrt="x", x=(3, 4))
def argmax_is_constant(x):
    i = np.argmax(x[0])
    return x[0, i] * 2 + np.sum(x)


@case(wrt="x", x=(3,))
def astype_float(x):
    return np.sum(x.astype(np.float64) ** 2)
