"""Corpus functions with control flow, calls, containers and in-place writes.

Each is checked against float64 finite differences of the NumPy function and,
where jax.numpy can run it (not for in-place writes: JAX arrays are immutable),
against jax.vjp of the same function; jax.grad runs the Python loops and ifs
on concrete values, which is the reference semantics.
"""

import numpy as np

from .helpers_mod import dense, rk4_step
from .registry import case, pos

# ----- recurrences and integrators -----


@case(wrt="x", x=(3,))
def sin_recurrence(x, n=20):
    y = x
    for _i in range(n):
        y = np.sin(y) + x
    return np.sum(y)


@case(wrt=("c", "x"), c=(5,), x=(3,))
def horner(c, x):
    acc = np.zeros_like(x)
    for ci in c:
        acc = acc * x + ci
    return np.sum(acc)


@case(wrt=("y0", "k"), y0=(4,), k=())
def rk4_inline(y0, k, n=8, dt=0.1):
    y = y0
    for _ in range(n):
        k1 = -k * y + np.sin(y)
        k2 = -k * (y + 0.5 * dt * k1) + np.sin(y + 0.5 * dt * k1)
        k3 = -k * (y + 0.5 * dt * k2) + np.sin(y + 0.5 * dt * k2)
        k4 = -k * (y + dt * k3) + np.sin(y + dt * k3)
        y = y + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    return np.sum(y**2)


@case(wrt=("y0", "k"), y0=(4,), k=())
def rk4_called(y0, k, n=6):
    y = y0
    for _ in range(n):
        y = rk4_step(y, k, 0.05)
    return np.sum(np.cos(y))


@case(wrt=("y0", "k"), y0=(3,), k=())
def euler_decay(y0, k):
    y = y0
    t = 0.0
    for _i in range(10):
        y = y - 0.1 * k * y * (1.0 + t)
        t = t + 0.1
    return np.sum(y)


@case(wrt=("x", "v"), x=(4,), v=(4,))
def mass_spring(x, v, steps=12):
    for _ in range(steps):
        force = -2.0 * x + 0.5 * (np.roll(x, 1) + np.roll(x, -1) - 2 * x)
        v = v + 0.05 * force
        x = x + 0.05 * v
    return np.sum(x**2) + 0.5 * np.sum(v**2)


@case(wrt="x", x=(2,))
def fibonacci_like(x):
    a = x
    b = x * 0.5
    for _i in range(6):
        a, b = b, a + b * np.tanh(x)
    return np.sum(b)


@case(wrt="x", x=(4,))
def cumulative_product_loop(x):
    p = np.ones_like(x)
    out = 0.0
    for _i in range(4):
        p = p * (1.0 + 0.1 * x)
        out = out + np.sum(p)
    return out


# ----- recurrent networks -----


@case(wrt=("Wh", "Wx"), Wh=(3, 3), Wx=(3, 2), xs=(5, 2))
def rnn(Wh, Wx, xs):
    h = np.zeros(3)
    for x in xs:
        h = np.tanh(Wh @ h + Wx @ x)
    return np.sum(h**2)


@case(wrt="p", p={"Wf": (2, 3), "Uf": (3, 3), "Wc": (2, 3), "Uc": (3, 3)}, xs=(4, 2))
def gated_cell(p, xs):
    h = np.zeros(3)
    c = np.zeros(3)
    for x in xs:
        f = 1.0 / (1.0 + np.exp(-(x @ p["Wf"] + h @ p["Uf"])))
        g = np.tanh(x @ p["Wc"] + h @ p["Uc"])
        c = f * c + (1.0 - f) * g
        h = np.tanh(c)
    return np.sum(h) + np.sum(c**2)


@case(wrt=("W", "xs"), W=(3, 3), xs=(4, 3))
def rnn_state_tuple(W, xs):
    state = (np.zeros(3), np.zeros(3))
    for x in xs:
        h, s = state
        h = np.tanh(W @ h + x)
        state = (h, s + h)
    return np.sum(state[1] ** 2)


@case(wrt=("W", "b"), W=(3, 3), b=(3,), xs=(5, 3))
def rnn_with_dense_call(W, b, xs):
    h = np.zeros(3)
    for x in xs:
        h = dense(x + h, W, b)
    return np.mean(h)


# ----- nested loops, enumerate, zip, ranges -----


@case(wrt="x", x=(3,))
def nested_loops(x):
    total = 0.0
    y = x
    for i in range(3):
        for _j in range(4):
            y = y * 0.9 + np.sin(y) * 0.1
            total = total + np.sum(y) * (i + 1)
    return total


@case(wrt="A", A=(3, 4))
def nested_loops_over_rows(A):
    s = 0.0
    for row in A:
        acc = 1.0
        for v in row:
            acc = acc * (1.0 + 0.1 * v)
        s = s + acc
    return s


@case(wrt="X", X=(4, 3))
def enumerate_weights(X):
    s = np.zeros(3)
    for i, row in enumerate(X):
        s = s + row * (i + 1) ** 2
    return np.sum(np.sin(s))


@case(wrt=("X", "Y"), X=(4, 2), Y=(4, 2))
def zip_pairs(X, Y):
    s = 0.0
    for a, b in zip(X, Y):
        s = s + np.sum(a * b) ** 2
    return s


@case(wrt="x", x=(8,))
def range_with_step(x):
    s = 0.0
    for i in range(1, 8, 3):
        s = s + x[i] * x[i - 1]
    return s


@case(wrt="x", x=(6,))
def mirrored_products(x):
    n = x.shape[0]
    s = 0.0
    for i in range(n):
        s = s + x[i] * x[n - 1 - i] * (i + 1)
    return s


@case(wrt="x", x=(5,))
def loop_with_argmax(x):
    y = x
    for _i in range(3):
        j = np.argmax(y)
        y = y * 0.5 + y[j] * 0.1
    return np.sum(y**2)


@case(wrt="x", x=(3,))
def overwritten_each_iteration(x):
    h = x
    for i in range(4):
        h = np.sin(x * (i + 1))
    return np.sum(h)


@case(wrt="x", x=(3,))
def counter_while(x):
    i = 0
    s = x
    while i < 5:
        s = s * np.cos(s) + 0.1
        i += 1
    return np.sum(s) + i


@case(wrt="x", x=(3,))
def counter_while_le(x):
    k = 2
    s = x
    while k <= 6:
        s = s + np.sin(s) / k
        k = k + 2
    return np.sum(s)


# ----- data-dependent while loops -----


@case(wrt="a", a=pos(3))
def newton_sqrt(a):
    x = np.ones_like(a)
    err = 1.0
    while err > 1e-12:  # sourcegrad: max_iter=60
        x_new = 0.5 * (x + a / x)
        err = np.max(np.abs(x_new - x))
        x = x_new
    return np.sum(x)


@case(wrt="c", c=(2,))
def fixed_point_cos(c):
    x = np.zeros(2)
    delta = 1.0
    while delta > 1e-13:  # sourcegrad: max_iter=200
        x_next = np.cos(x) * 0.5 + c
        delta = np.max(np.abs(x_next - x))
        x = x_next
    return np.sum(x**2)


@case(wrt="x", x=pos(2), options={"max_iter": 40})
def halve_until_small(x):
    y = x * 10.0
    while np.sum(y) > 1.0:
        y = y * 0.5 + 0.01 * np.sin(y)
    return np.sum(y * x)


@case(wrt=("x", "y"), x=pos(2), y=pos(2))
def while_two_variables(x, y):
    a = x
    b = y
    while np.sum(a + b) < 20.0:  # sourcegrad: max_iter=30
        a, b = b, a + b * 1.2
    return np.sum(a * b)


# ----- branches -----


@case(wrt=("x", "w"), x=(4,), w=(4,))
def branch_on_data(x, w):
    if np.sum(x) > 0:
        y = np.sin(x) * w
    else:
        y = x * x * w
    return np.sum(y)


@case(wrt="x", x=(3,))
def branch_elif_chain(x):
    s = np.sum(x)
    if s > 1.0:
        y = x**3
    elif s > -1.0:
        y = np.exp(x)
    else:
        y = -x
    return np.sum(y)


@case(wrt="x", x=(3,))
def branch_without_else(x):
    y = x * 2.0
    if np.max(x) > 0.0:
        y = y + np.sin(x)
    return np.sum(y**2)


@case(wrt="x", x=(3,))
def conditional_expression(x):
    y = x * 2.0 if np.sum(x) > 0 else x * x
    z = np.sin(y) if np.min(y) > -1.0 else y
    return np.sum(z)


@case(wrt="x", x=(4,), mode="train")
def static_mode_train(x, mode="eval"):
    if mode == "train":
        y = np.tanh(x) * 0.9
    else:
        y = np.tanh(x)
    return np.sum(y)


@case(wrt="x", x=(4,), mode="eval")
def static_mode_eval(x, mode="train"):
    if mode == "train":
        y = np.tanh(x) * 0.9
    else:
        y = np.sin(x)
    return np.sum(y)


@case(wrt="x", x=(2, 3))
def static_shape_branch(x):
    if x.ndim == 2:
        y = np.sum(x, axis=0)
    else:
        y = x
    return np.sum(y**2)


@case(wrt="x", x=(4,))
def early_return(x):
    if np.sum(x) > 0:
        return np.sum(np.sin(x))
    y = x * 2
    return np.sum(y**2)


@case(wrt="x", x=(4,))
def early_return_nested(x):
    if np.max(x) > 1.0:
        if np.min(x) < -1.0:
            return np.sum(x**2)
        return np.sum(np.abs(x))
    return np.sum(np.cos(x))


@case(wrt="x", x=(4,))
def branch_inside_loop(x):
    y = x
    for _i in range(5):
        if np.sum(y) > 0:
            y = y * 0.8 - 0.1
        else:
            y = y * 1.1 + 0.2
    return np.sum(y**2)


@case(wrt="x", x=(3,))
def relu_steps(x):
    h = x
    for _i in range(4):
        h = np.maximum(h * 1.5 - 0.2, 0.0) + 0.01 * h
    return np.sum(h)


@case(wrt="x", x=(3,))
def loop_inside_dynamic_branch(x):
    if np.sum(x) > -10.0:
        y = x
        for _i in range(3):
            y = np.sin(y) * 1.1
    else:
        y = x * 0.0
    return np.sum(y)


@case(wrt="x", x=(3,), n=3)
def loop_inside_static_branch(x, n=2):
    if n > 2:
        for _i in range(n):
            x = x * np.cos(x)
    return np.sum(x)


@case(wrt="x", x=(3,), n=7)
def int_trip_count(x, n=4):
    s = x
    for _i in range(n):
        s = s * 0.9 + np.sin(s) * 0.2
    return np.sum(s)


# ----- break and continue -----


@case(wrt="x", x=pos(2))
def break_when_large(x):
    s = x
    for _i in range(10):
        s = s * 1.5
        if np.sum(s) > 8.0:
            break
        s = s + 0.1
    return np.sum(s)


@case(wrt="x", x=(3,))
def continue_even_steps(x):
    s = x
    for i in range(6):
        if i % 2 == 0:
            continue
        s = s * np.cos(s)
    return np.sum(s)


@case(wrt="x", x=pos(2))
def while_with_break(x):
    s = x
    k = 0.0
    while k < 100.0:  # sourcegrad: max_iter=30
        s = s * 1.2
        if np.max(s) > 4.0:
            break
        k = k + 1.0
    return np.sum(s)


@case(wrt="x", x=(3,))
def break_inner_loop_only(x):
    total = 0.0
    for i in range(3):
        y = x * (i + 1)
        for _j in range(5):
            y = y * 0.7
            if np.sum(np.abs(y)) < 0.5:
                break
        total = total + np.sum(y)
    return total


# ----- calls, closures -----


@case(wrt=("W1", "b1", "W2"), W1=(3, 4), b1=(4,), W2=(4, 2), x=(5, 3))
def two_dense_calls(W1, b1, W2, x):
    h = dense(x, W1, b1)
    out = dense(h, W2, 0.0)
    return np.sum(out**2)


def _scaled_norm(v, scale):
    return np.sqrt(np.sum(v**2)) * scale


def _split(v):
    return v * 2.0, np.sin(v)


@case(wrt="x", x=(3,))
def call_twice_fan_out(x):
    a = _scaled_norm(x, 2.0)
    b = _scaled_norm(x * x, 0.5)
    return a * b


@case(wrt="x", x=(3,))
def call_returning_tuple(x):
    a, b = _split(x)
    c = _split(b)
    return np.sum(a * b) + np.sum(c[0] - c[1])


@case(wrt=("x", "w"), x=(3,), w=(3,))
def closure_reads_enclosing(x, w):
    scale = np.sum(w)

    def f(v):
        return np.sin(v) * scale + w

    return np.sum(f(x) * f(x * 2))


@case(wrt="x", x=(3,))
def nested_def_calls_sibling(x):
    def sq(v):
        return v * v

    def poly(v):
        return sq(v) + 3.0 * v

    return np.sum(poly(x) + sq(poly(x)))


@case(wrt="x", x=(3,))
def call_inside_loop_with_branch(x):
    def step(v, i):
        if np.sum(v) > 0:
            return v * 0.9
        return v * 1.1 + 0.01 * i

    y = x
    for i in range(4):
        y = step(y, i)
    return np.sum(y**2)


# ----- containers -----


@case(wrt="params", params={"W1": (3, 4), "b1": (4,), "W2": (4, 2)}, x=(5, 3))
def dict_mlp(params, x):
    h = np.tanh(x @ params["W1"] + params["b1"])
    return np.mean((h @ params["W2"]) ** 2)


@case(wrt="layers", layers=[(3, 3), (3, 3), (3, 2)], x=(4, 3))
def list_of_layers(layers, x):
    h = x
    for W in layers:
        h = np.tanh(h @ W)
    return np.sum(h)


@case(wrt="pair", pair=((3,), (3,)))
def tuple_argument(pair):
    a, b = pair
    return np.sum(a * np.exp(b))


@case(wrt="params", params={"enc": {"W": (2, 3)}, "dec": {"W": (3, 2)}}, x=(4, 2))
def nested_dicts(params, x):
    z = np.tanh(x @ params["enc"]["W"])
    y = z @ params["dec"]["W"]
    return np.sum((y - x) ** 2)


@case(wrt=("params",), params={"w": (3,), "b": ()}, xs=(4, 3))
def dict_params_in_loop(params, xs):
    s = 0.0
    for x in xs:
        s = s + np.tanh(np.sum(x * params["w"]) + params["b"])
    return s


@case(wrt="x", x=(3,))
def container_built_inside(x):
    parts = [x, x * 2.0, np.sin(x)]
    total = 0.0
    for i, p in enumerate(parts):
        total = total + np.sum(p) * (i + 1)
    d = {"a": parts[0], "b": parts[2]}
    return total + np.sum(d["a"] * d["b"]) + len(parts)


@case(wrt="params", params={"W": (3, 3)}, x=(3,))
def dict_params_to_call(params, x):
    def apply(p, v):
        return np.tanh(p["W"] @ v)

    return np.sum(apply(params, apply(params, x)))


# ----- in-place writes -----


@case(wrt="x", x=(4,), jax=False)
def fill_buffer(x):
    y = np.zeros(4)
    for i in range(4):
        y[i] = x[i] ** 2 + x[(i + 1) % 4]
    return np.sum(y * y)


@case(wrt="x", x=(4,), jax=False)
def add_into_buffer(x):
    y = np.zeros(2)
    for i in range(4):
        y[i % 2] += x[i] * (i + 1)
    y[0] += 3.0 * x[2]
    return np.sum(np.sin(y))


@case(wrt="x", x=(3,), jax=False)
def overwrite_needed_value(x):
    y = x.copy()
    y[0] = y[0] * y[1]
    y[1] = y[0] + np.sin(y[1])
    y[2] = y[0] * y[1] * y[2]
    return np.sum(y)


@case(wrt=("x", "v"), x=(5,), v=(2,), jax=False)
def slice_write(x, v):
    y = x * 1.0
    y[1:3] = v * 2.0
    y[3:] *= v[0]
    return np.sum(y**2)


@case(wrt="x", x=(3,), jax=False)
def matrix_fill_nested(x):
    M = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            M[i, j] = x[i] * x[j] + (i == j)
    return np.sum(M @ x)


@case(wrt="x", x=(4,), jax=False)
def inplace_subtract(x):
    y = x * 1.0
    y[0] -= x[1] * x[2]
    y[2:] -= 0.5
    return np.sum(y**3)


@case(wrt="params", params={"a": (3,), "b": (3,), "c": (3,)})
def dict_items_loop(params):
    total = 0.0
    for _name, value in params.items():
        total = total + np.sum(np.sin(value))
    for key in params:
        total = total + np.sum(params[key] ** 2)
    return total
