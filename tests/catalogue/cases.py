"""Bad and unusual inputs whose outcome is right today: checked by tests/test_catalogue.py.

Each function is one case; ``CASES`` at the end says what each must give (see table.py).
"""

# flake8: noqa
import functools
import math

import numpy as np

from sourcegrad import (
    MissingRuleError,
    SeedError,
    SourcegradError,
    SourceUnavailableError,
    UnsupportedSyntaxError,
    WrtError,
    no_grad,
)

from .table import GRAD, X3, X4, X23, X33, X234, Y3, case

G_SCALE = 1.5


def helper_scale(v):
    return v * G_SCALE


# ----- Python constructs outside the subset -----
def c_try(x):
    try:
        x = x * 2
    except ValueError:
        pass
    return np.sum(x)


def c_raise(x):
    if np.sum(x) > 100:
        raise ValueError("too big")
    return np.sum(x)


def c_lambda(x):
    f = lambda v: v * 2
    return np.sum(x)


def c_listcomp(x):
    y = np.stack([v * 2 for v in x])
    return np.sum(y)


def c_setcomp(x):
    s = {v for v in x}
    return np.sum(x)


def c_dictcomp(x):
    d = {i: x[i] for i in range(3)}
    return np.sum(x)


def c_genexp(x):
    s = sum(v for v in x)
    return s


def c_global(x):
    global G_SCALE
    G_SCALE = 2.0
    return np.sum(x)


def c_nonlocal(x):
    def inner():
        nonlocal x
        x = x * 2

    inner()
    return np.sum(x)


def c_yield(x):
    yield np.sum(x)


def c_yield_from(x):
    yield from x


async def c_async(x):
    return np.sum(x)


def c_del(x):
    y = x * 2
    del y
    return np.sum(x)


def c_import(x):
    import math as m

    return np.sum(x)


def c_import_from(x):
    from math import pi

    return np.sum(x) * pi


def c_class(x):
    class A:
        pass

    return np.sum(x)


def c_walrus(x):
    y = (z := x * 2)
    return np.sum(y)


def c_fstring(x):
    s = f"{x}"
    return np.sum(x)


def c_set_display(x):
    s = {1, 2}
    return np.sum(x)


def c_starred_call(x):
    y = np.maximum(*[x, x])
    return np.sum(y)


def c_starred_target(x):
    a, *b = x
    return a


def c_kwargs_call(x):
    y = np.sum(x, **{"axis": 0})
    return y


def c_match(x):
    match 1:
        case 1:
            x = x * 2
    return np.sum(x)


def c_assert(x):
    assert np.sum(x) > -100
    return np.sum(x)


def c_and(x):
    m = (x > 0) and (x < 1)
    return np.sum(x)


def c_or(x):
    m = (x > 0) or (x < 1)
    return np.sum(x)


def c_not(x):
    m = not x
    return np.sum(x)


def c_chained(x):
    m = 0 < x < 1
    return np.sum(x)


def c_is(x):
    m = x is None
    return np.sum(x)


def c_in(x):
    m = 1.0 in x
    return np.sum(x)


def c_lshift(x):
    y = x << 2
    return np.sum(x)


def c_rshift(x):
    y = x >> 2
    return np.sum(x)


def c_xor(x):
    y = x ^ x
    return np.sum(x)


def c_print(x):
    print(x)
    return np.sum(x)


def c_expression_statement(x):
    x * 2
    return np.sum(x)


def c_bare_annotation(x):
    y: float
    return np.sum(x)


def c_setattr(x):
    x.flags = 1
    return np.sum(x)


def c_with_open(x):
    with open("f") as fh:
        pass
    return np.sum(x)


def c_computed_call(x):
    fs = (np.sin, np.cos)
    y = fs[0](x)
    return np.sum(y)


def c_star_args(x, *rest):
    return np.sum(x)


def c_star_kwargs(x, **rest):
    return np.sum(x)


def c_bare_return(x):
    return


def c_no_return(x):
    y = x * 2


def c_after_return(x):
    return np.sum(x)
    y = x


def c_recursion(x):
    def inner(v):
        return inner(v * 0.5)

    return np.sum(inner(x))


def c_ping(x):
    return c_pong(x * 2)


def c_pong(x):
    return c_ping(x)


def c_while_else(x):
    i = 0
    while i < 3:
        i = i + 1
    else:
        x = x * 2
    return np.sum(x)


def c_for_else(x):
    for i in range(3):
        x = x * 2
    else:
        x = x * 3
    return np.sum(x)


def c_traced_range(x):
    n = np.sum(x)
    for i in range(n):
        x = x * 2
    return np.sum(x)


def c_unbounded_while(x):
    while np.sum(x) < 3:
        x = x * 2
    return np.sum(x)


def c_loop_local(x):
    for i in range(3):
        t = x * i
    return np.sum(t)


def c_one_branch(x):
    if np.sum(x) > 0:
        t = x * 2
    return np.sum(t)


def c_dynamic_key(x):
    d = {"a": x}
    k = "a" + ""
    return np.sum(d[k])


def c_container_as_array(x):
    t = (x, x)
    y = np.sin(t)
    return np.sum(y)


def c_container_operand(x):
    t = (x, x)
    y = t * 2
    return np.sum(y)


def c_unknown_length(x):
    for v in map(np.sin, x):
        x = x + v
    return np.sum(x)


def c_inner_generator(x):
    def gen():
        yield x

    return np.sum(x)


def c_decorated_inner(x):
    @functools.lru_cache
    def inner(v):
        return v * 2

    return np.sum(inner(x))


def c_nested_unpack(x):
    (a, b), c = (x, x), x
    return np.sum(a)


def c_undefined(x):
    y = undefined_name_here * x
    return np.sum(y)


def c_missing_rule(x):
    y = np.sinc(x)
    return np.sum(y)


def c_library_function(x):
    y = math.gamma(x[0])
    return y


def c_math_erf(x):
    y = math.erf(x[0])
    return y


def c_dtype_keyword(x):
    y = np.sum(x, dtype=float)
    return y


def c_method_cumprod(x):
    y = x.cumprod()
    return np.sum(y)


def c_attribute_flat(x):
    y = x.flat
    return np.sum(y)


def c_float_call(x):
    y = float(x[0])
    return y * 2.0


def c_view_write(x):
    y = x[1:]
    y[0] = 2.0
    return np.sum(x)


def c_aliased_update(x):
    y = x
    y += 1.0
    return np.sum(x * y)


def c_return_in_loop(x):
    for i in range(3):
        x = x * 2
        if i == 1:
            return np.sum(x)
    return np.sum(x)


def c_nested_while(x):
    while np.sum(x) < 10:  # sourcegrad: max_iter=20
        while np.max(x) < 5:  # sourcegrad: max_iter=20
            x = x * 2
        x = x + 1
    return np.sum(x)


def c_seed_param(x, seed):
    return np.sum(x) * seed


def c_accumulate_param(x, accumulate):
    return np.sum(x) * accumulate


def c_with_no_grad_as(x):
    with no_grad() as ng:
        y = x * 2
    return np.sum(y)


# ----- errors about the call, not a line -----
def c_plain(x):
    return np.sum(np.sin(x) * x)


def c_two(x, y):
    return np.sum(np.sin(x) * y)


def c_vector_out(x):
    return np.sin(x)


def c_tuple_out(x):
    return np.sum(x), np.sum(x * x)


# ----- unusual inputs that are supported: gradients -----
def c_scalar_input(x):
    return np.sin(x) * x


def c_zero_d(x):
    return np.exp(x) * 2.0


def c_broadcast(x, y):
    return np.sum(x * y)


def c_negative_index(x):
    return x[-1] * x[-2]


def c_fancy_index(x):
    idx = np.array([2, 0])
    return np.sum(x[idx] * np.array([1.0, 3.0]))


def c_bool_mask_where(x):
    return np.sum(np.where(x > 0, x * x, -x))


def c_zero_trip_loop(x):
    for i in range(0):
        x = x * 5.0
    return np.sum(x * x)


def c_iterate_rows(x):
    s = 0.0
    for row in x:
        s = s + np.sum(np.sin(row))
    return s


def c_enumerate(x):
    s = 0.0
    for i, v in enumerate(x):
        s = s + v * (i + 1)
    return s


def c_zip(x, y):
    s = 0.0
    for a, b in zip(x, y):
        s = s + a * b
    return s


def c_while_max_iter(x):
    while np.sum(x * x) < 4.0:  # sourcegrad: max_iter=30
        x = x * 1.5
    return np.sum(x)


def c_break(x):
    for i in range(5):
        x = x * 1.1
        if np.sum(x) > 1.0:
            break
    return np.sum(x * x)


def c_tuple_arg(p):
    a, b = p
    return np.sum(a * np.sin(b))


def c_dict_arg(p):
    return np.sum(p["w"] @ p["b"])


def c_list_arg(p):
    return np.sum(p[0] * p[1])


def c_keyword_call(x, scale=2.0):
    return np.sum(np.tanh(x) * scale)


def c_static_int(x, n=3):
    for i in range(n):
        x = np.sin(x)
    return np.sum(x)


def c_inner_helper(x):
    def sq(v):
        return v * v

    return np.sum(sq(x) + sq(np.sin(x)))


def c_module_helper(x):
    return np.sum(helper_scale(x) * x)


def c_matmul(x):
    return np.sum(x @ X33)


def c_einsum(x):
    return np.sum(np.einsum("ij,jk->ik", x, X33))


def c_inv(x):
    return np.sum(np.linalg.inv(x))


def c_det(x):
    return np.linalg.det(x)


def c_solve(x):
    return np.sum(np.linalg.solve(x, Y3))


def c_norm(x):
    return np.linalg.norm(x)


def c_cumsum_axis(x):
    return np.sum(np.cumsum(x, axis=1) ** 2)


def c_transpose_axes(x):
    return np.sum(np.transpose(x, (2, 0, 1)) * np.arange(24.0).reshape(4, 2, 3))


def c_sum_axis_3d(x):
    return np.sum(np.sum(x, axis=1) ** 2)


def c_mean_axis_tuple(x):
    return np.sum(np.mean(x, axis=(0, 2)) ** 2)


def c_max_axis_3d(x):
    return np.sum(np.max(x * x, axis=-1))


def c_stack_axis(x, y):
    return np.sum(np.stack([x, y], axis=1) ** 2 * np.arange(6.0).reshape(3, 2))


def c_concat(x, y):
    return np.sum(np.concatenate([x, y * 2]) ** 2)


def c_copy_then_write(x):
    y = x.copy()
    y[0] = 5.0
    return np.sum(y * x)


def c_fresh_write_slice(x):
    y = x * 1.0
    y[1:] += x[:-1] * 2.0
    return np.sum(y * y)


def c_window_read(x):
    s = 0.0
    for i in range(2):
        s = s + np.sum(x[i : i + 2] ** 2)
    return s


def c_window_write(x):
    y = np.zeros(4)
    for i in range(3):
        y[i : i + 2] += x[i] * 2.0
    return np.sum(y**2)


def c_r_concatenator(x):
    return np.sum(np.r_[x, 2.0 * x[:2], 1.5] ** 2) + np.sum(np.c_[x, x * x] @ np.ones(2))


def c_r_range(x):
    return np.sum(x * np.r_[0:3])


def c_zeros_fill_loop(x):
    y = np.zeros(3)
    for i in range(3):
        y[i] = x[i] * (i + 1.0)
    return np.sum(y * y)


def c_augassign_fresh(x):
    y = x * 2.0
    y *= x
    return np.sum(y)


def c_no_grad_block(x):
    with no_grad():
        s = np.sum(x) * 0.0
    return np.sum(x * x) + s


def c_round(x):
    return np.sum(np.round(x) * x)


def c_clip_inside(x):
    return np.sum(np.clip(x, -5.0, 5.0) ** 2)


def c_abs(x):
    return np.sum(np.abs(x))


def c_pow_scalar_exponent(x):
    return np.sum(np.abs(x) ** 1.5)


def c_reshape(x):
    return np.sum(np.reshape(x, (3, 2)) @ np.array([1.0, 2.0]))


def c_string_arg(x, mode="sum"):
    if mode == "sum":
        return np.sum(x * x)
    return np.mean(x * x)


def c_none_arg(x, w=None):
    return np.sum(x * x)


def c_tuple_output(x):
    return np.sum(x), np.sum(x * x)


def c_vector_output(x):
    return np.sin(x)


def c_trace_2d(x):
    return np.trace(x) * 2.0


def c_float_literal_int_op(x):
    return np.sum(x // 1.0 + x * 3)


def c_two_wrt(x, y):
    return np.sum(x * np.cos(y))


def c_wrt_by_position(x, y):
    return np.sum(x * np.exp(y))


def c_same_name_reuse(x):
    x = np.sin(x)
    x = x * x
    x = np.sum(x)
    return x


# ----- shape rules on arrays of 3 and 4 dimensions, non-default axes -----
X2345 = np.sin(np.arange(120.0)).reshape(2, 3, 4, 5)
W234 = np.cos(np.arange(24.0)).reshape(2, 3, 4)


def c_cumsum_3d_flat(x):
    return np.sum(np.cumsum(x) * np.arange(24.0))


def c_cumsum_3d_axis1(x):
    return np.sum(np.cumsum(x, axis=1) * W234)


def c_roll_3d(x):
    return np.sum(np.roll(x, 2) * W234)


def c_roll_3d_axis(x):
    return np.sum(np.roll(x, 1, axis=2) * W234)


def c_flip_axis(x):
    return np.sum(np.flip(x, axis=1) * W234)


def c_squeeze_3d(x):
    return np.sum(np.squeeze(x[:, :1, :]) * W234[:, 0, :])


def c_sum_keepdims_3d(x):
    return np.sum(np.sum(x, axis=1, keepdims=True) * W234)


def c_var_axis_3d(x):
    return np.sum(np.var(x, axis=1) * W234[:, 0, :])


def c_std_ddof_3d(x):
    return np.sum(np.std(x, axis=2, ddof=1))


def c_prod_axis_3d(x):
    return np.sum(np.prod(x + 2.0, axis=0))


def c_min_axis0_3d(x):
    return np.sum(np.min(x * W234, axis=0))


def c_norm_axis_3d(x):
    return np.sum(np.linalg.norm(x, axis=-1))


def c_mean_4d_axes(x):
    return np.sum(np.mean(x, axis=(1, 3)) ** 2)


def c_max_4d_axes(x):
    return np.sum(np.max(x, axis=(0, 2)))


def c_transpose_default_3d(x):
    return np.sum(np.transpose(x) * np.transpose(W234) ** 2)


def c_reshape_4d(x):
    return np.sum(np.reshape(x, (2, 3, 2, 2)) * np.reshape(W234, (2, 3, 2, 2)))


def c_expand_dims_3d(x):
    return np.sum(np.expand_dims(x, 1) * 2.0 * np.expand_dims(W234, 1))


def c_matmul_batch(x):
    return np.sum(x @ np.transpose(W234, (0, 2, 1)))


def c_einsum_batch(x):
    return np.sum(np.einsum("bij,bkj->bik", x, W234))


def c_dot_3d_1d(x):
    return np.sum(np.dot(x, np.array([1.0, -2.0, 0.5, 3.0])) ** 2)


def c_take_axis(x):
    return np.sum(np.take(x, np.array([2, 0]), axis=1) ** 2)


def c_where_3d(x):
    return np.sum(np.where(x > 0.0, x * W234, x**2))


def c_concat_axis_3d(x):
    return np.sum(np.concatenate([x, W234 * x], axis=2) ** 2)


def c_stack_last_axis(x):
    return np.sum(np.stack([x, x * 2.0], axis=-1) * np.stack([W234, W234], axis=-1))


def c_swap_by_transpose_4d(x):
    return np.sum(np.transpose(x, (0, 2, 1, 3)) * np.arange(120.0).reshape(2, 4, 3, 5))


def c_index_3d(x):
    return np.sum(x[1, :, 2:] * x[0, 1:, :2].T[0])


def c_sum_negative_axis_4d(x):
    return np.sum(np.sum(x, axis=-2) ** 2)


CASES = [
    # Python constructs outside the subset: located UnsupportedSyntaxError
    case("try", c_try, {"x": X3}, expect=UnsupportedSyntaxError, marker="try:"),
    case("raise", c_raise, {"x": X3}, expect=UnsupportedSyntaxError, marker="raise ValueError"),
    case("lambda", c_lambda, {"x": X3}, expect=UnsupportedSyntaxError, marker="lambda v"),
    case("listcomp", c_listcomp, {"x": X3}, expect=UnsupportedSyntaxError, marker="for v in x]"),
    case("setcomp", c_setcomp, {"x": X3}, expect=UnsupportedSyntaxError, marker="{v for v"),
    case("dictcomp", c_dictcomp, {"x": X3}, expect=UnsupportedSyntaxError, marker="x[i] for i"),
    case("genexp", c_genexp, {"x": X3}, expect=UnsupportedSyntaxError, marker="sum(v for"),
    case("global", c_global, {"x": X3}, expect=UnsupportedSyntaxError, marker="global G_SCALE"),
    case("nonlocal", c_nonlocal, {"x": X3}, expect=UnsupportedSyntaxError, marker="nonlocal x"),
    case("yield", c_yield, {"x": X3}, expect=UnsupportedSyntaxError, marker="yield np.sum"),
    case("yield_from", c_yield_from, {"x": X3}, expect=UnsupportedSyntaxError, marker="yield from"),
    case("async_def", c_async, {"x": X3}, expect=UnsupportedSyntaxError, marker="async def"),
    case("del", c_del, {"x": X3}, expect=UnsupportedSyntaxError, marker="del y"),
    case("import", c_import, {"x": X3}, expect=UnsupportedSyntaxError, marker="import math"),
    case("import_from", c_import_from, {"x": X3}, expect=UnsupportedSyntaxError, marker="from math import"),
    case("class", c_class, {"x": X3}, expect=UnsupportedSyntaxError, marker="class A"),
    case("walrus", c_walrus, {"x": X3}, expect=UnsupportedSyntaxError, marker="z :="),
    case("fstring", c_fstring, {"x": X3}, expect=UnsupportedSyntaxError, marker='f"{x}"'),
    case("set_display", c_set_display, {"x": X3}, expect=UnsupportedSyntaxError, marker="{1, 2}"),
    case("starred_call", c_starred_call, {"x": X3}, expect=UnsupportedSyntaxError, marker="*[x, x]"),
    case("starred_target", c_starred_target, {"x": X3}, expect=UnsupportedSyntaxError, marker="*b"),
    case("kwargs_call", c_kwargs_call, {"x": X3}, expect=UnsupportedSyntaxError, marker="**{"),
    case("match", c_match, {"x": X3}, expect=UnsupportedSyntaxError, marker="match 1"),
    case("assert", c_assert, {"x": X3}, expect=UnsupportedSyntaxError, marker="assert np.sum"),
    case("and", c_and, {"x": X3}, expect=UnsupportedSyntaxError, marker="and (x < 1)"),
    case("or", c_or, {"x": X3}, expect=UnsupportedSyntaxError, marker="or (x < 1)"),
    case("not", c_not, {"x": X3}, expect=UnsupportedSyntaxError, marker="not x"),
    case("chained", c_chained, {"x": X3}, expect=UnsupportedSyntaxError, marker="0 < x < 1"),
    case("is", c_is, {"x": X3}),  # an array is never None: known when compiling (issue 10)
    case("in", c_in, {"x": X3}, expect=UnsupportedSyntaxError, marker="1.0 in x"),
    case("lshift", c_lshift, {"x": X3}, expect=UnsupportedSyntaxError, marker="x << 2"),
    case("rshift", c_rshift, {"x": X3}, expect=UnsupportedSyntaxError, marker="x >> 2"),
    case("xor", c_xor, {"x": X3}, expect=UnsupportedSyntaxError, marker="x ^ x"),
    case("print", c_print, {"x": X3}),  # printed at run time through jax.debug.print (issue 10)
    case(
        "expression_statement",
        c_expression_statement,
        {"x": X3},
        expect=UnsupportedSyntaxError,
        marker="    x * 2",
    ),
    case("bare_annotation", c_bare_annotation, {"x": X3}, expect=UnsupportedSyntaxError, marker="y: float"),
    case("setattr", c_setattr, {"x": X3}, expect=UnsupportedSyntaxError, marker="x.flags = 1"),
    case("with_open", c_with_open, {"x": X3}, expect=UnsupportedSyntaxError, marker="with open"),
    case("computed_call", c_computed_call, {"x": X3}, expect=UnsupportedSyntaxError, marker="fs[0](x)"),
    case("star_args", c_star_args, {"x": X3}, expect=UnsupportedSyntaxError, marker="*rest"),
    case("star_kwargs", c_star_kwargs, {"x": X3}, expect=UnsupportedSyntaxError, marker="**rest"),
    case("bare_return", c_bare_return, {"x": X3}, expect=UnsupportedSyntaxError, marker="    return"),
    case("no_return", c_no_return, {"x": X3}, expect=UnsupportedSyntaxError, marker="def c_no_return"),
    case("after_return", c_after_return, {"x": X3}, expect=UnsupportedSyntaxError, marker="y = x"),
    case("recursion", c_recursion, {"x": X3}, expect=UnsupportedSyntaxError, marker="inner(v * 0.5)"),
    # recursion is resolved while tracing; one that never reaches its end stops at the limit
    case(
        "mutual_recursion",
        c_ping,
        {"x": X3},
        expect=UnsupportedSyntaxError,
        marker="return c_pong(x * 2)",
        match="recurses more than 100 calls deep",
    ),
    case("while_else", c_while_else, {"x": X3}, expect=UnsupportedSyntaxError, marker="while i < 3"),
    case("for_else", c_for_else, {"x": X3}, expect=UnsupportedSyntaxError, marker="for i in range(3)"),
    case("traced_range", c_traced_range, {"x": X3}, expect=UnsupportedSyntaxError, marker="range(n)"),
    # a data-dependent while loop without max_iter: checkpointed (no longer refused)
    case("unbounded_while", c_unbounded_while, {"x": X3}),
    case("loop_local", c_loop_local, {"x": X3}),  # the last iteration's t, as in Python
    case("one_branch", c_one_branch, {"x": X3}, expect=UnsupportedSyntaxError, marker="np.sum(t)"),
    case("dynamic_key", c_dynamic_key, {"x": X3}, expect=UnsupportedSyntaxError, marker="d[k]"),
    case(
        "container_as_array",
        c_container_as_array,
        {"x": X3},
        expect=UnsupportedSyntaxError,
        marker="np.sin(t)",
    ),
    case("container_operand", c_container_operand, {"x": X3}, expect=UnsupportedSyntaxError, marker="t * 2"),
    case(
        "unknown_length", c_unknown_length, {"x": X3}, expect=UnsupportedSyntaxError, marker="map(np.sin, x)"
    ),
    case("inner_generator", c_inner_generator, {"x": X3}, expect=UnsupportedSyntaxError, marker="yield x"),
    case("decorated_inner", c_decorated_inner, {"x": X3}, expect=UnsupportedSyntaxError, marker="def inner"),
    case("nested_unpack", c_nested_unpack, {"x": X3}, expect=UnsupportedSyntaxError, marker="(a, b), c"),
    case(
        "undefined_name", c_undefined, {"x": X3}, expect=UnsupportedSyntaxError, marker="undefined_name_here"
    ),
    # np.sinc and np.take have rules now (issue 10): their gradients are checked instead
    case("sinc_has_a_rule", c_missing_rule, {"x": X3}),
    case("library_function", c_library_function, {"x": X3}, expect=MissingRuleError, marker="math.gamma"),
    # Python's math module has rules now (issue 10): the gradient is checked
    case("math_erf_has_a_rule", c_math_erf, {"x": X3}),
    case("dtype_keyword", c_dtype_keyword, {"x": X3}, expect=UnsupportedSyntaxError, marker="dtype=float"),
    case("method_cumprod", c_method_cumprod, {"x": X3}, expect=UnsupportedSyntaxError, marker="x.cumprod()"),
    case("attribute_flat", c_attribute_flat, {"x": X3}, expect=UnsupportedSyntaxError, marker="x.flat"),
    case("float_call", c_float_call, {"x": X3}, expect=UnsupportedSyntaxError, marker="float(x[0])"),
    case("view_write", c_view_write, {"x": X3}, expect=UnsupportedSyntaxError, marker="y[0] = 2.0"),
    case("aliased_update", c_aliased_update, {"x": X3}, expect=UnsupportedSyntaxError, marker="y += 1.0"),
    case("return_in_loop", c_return_in_loop, {"x": X3}),  # a flag, a break, the return after the loop
    case(
        "nested_while",
        c_nested_while,
        {"x": X3},
        expect=UnsupportedSyntaxError,
        marker="while np.max(x) < 5",  # the inner loop: its max_iter is what to drop
    ),
    case(
        "seed_param",
        c_seed_param,
        {"x": X3, "seed": 2.0},
        expect=UnsupportedSyntaxError,
        marker="def c_seed_param",
    ),
    case(
        "accumulate_param",
        c_accumulate_param,
        {"x": X3, "accumulate": 2.0},
        expect=UnsupportedSyntaxError,
        marker="def c_accumulate_param",
    ),
    case(
        "with_no_grad_as",
        c_with_no_grad_as,
        {"x": X3},
        expect=UnsupportedSyntaxError,
        marker="with no_grad() as ng",
    ),
    # errors about the call: no line to name, the message says what to change
    case("not_a_python_function", np.sin, {"x": X3}, expect=SourceUnavailableError, match="Python functions"),
    case("wrt_not_a_parameter", c_plain, {"x": X3}, wrt=("z",), expect=WrtError, match="not a parameter"),
    case("wrt_twice", c_two, {"x": X3, "y": Y3}, wrt=("x", "x"), expect=WrtError, match="twice"),
    case("wrt_integer_array", c_plain, {"x": np.array([1, 2, 3])}, expect=WrtError, match="dtype"),
    case("wrt_python_int", c_plain, {"x": 3}, expect=WrtError, match="Python int"),
    case("wrt_bool_array", c_plain, {"x": np.array([True, False])}, expect=WrtError, match="dtype"),
    case("vector_output_without_seed", c_vector_out, {"x": X3}, expect=SeedError, match="seed"),
    case("tuple_output_without_seed", c_tuple_out, {"x": X3}, expect=SeedError, match="tuple"),
    case(
        "accumulate_count",
        c_two,
        {"x": X3, "y": Y3},
        wrt=("x", "y"),
        expect=WrtError,
        match="one accumulator",
        call_kwargs={"accumulate": (np.zeros(3),)},
    ),
    # unusual inputs that are supported: the gradient NumPy's finite differences give
    case("scalar_input", c_scalar_input, {"x": 0.7}),
    case("zero_d_array", c_zero_d, {"x": np.array(0.4)}),
    case("broadcast", c_broadcast, {"x": X3, "y": X23}, wrt=("x", "y")),
    case("negative_index", c_negative_index, {"x": X3}),
    case("fancy_index", c_fancy_index, {"x": X3}),
    case("bool_mask_where", c_bool_mask_where, {"x": X3}),
    case("zero_trip_loop", c_zero_trip_loop, {"x": X3}),
    case("iterate_rows", c_iterate_rows, {"x": X23}),
    case("enumerate", c_enumerate, {"x": X3}),
    case("zip", c_zip, {"x": X3, "y": Y3}, wrt=("x", "y")),
    case("while_max_iter", c_while_max_iter, {"x": X3}),
    case("break", c_break, {"x": X3}),
    case("tuple_arg", c_tuple_arg, {"p": (X3, Y3)}, wrt=("p",)),
    case("dict_arg", c_dict_arg, {"p": {"w": X23, "b": Y3}}, wrt=("p",)),
    case("list_arg", c_list_arg, {"p": [X3, Y3]}, wrt=("p",)),
    case("keyword_default", c_keyword_call, {"x": X3, "scale": 3.0}, wrt=("x", "scale")),
    case("static_int", c_static_int, {"x": X3, "n": 4}),
    case("inner_helper", c_inner_helper, {"x": X3}),
    case("module_helper", c_module_helper, {"x": X3}),
    case("matmul", c_matmul, {"x": X23}),
    case("einsum", c_einsum, {"x": X23}),
    case("inv", c_inv, {"x": X33}),
    case("det", c_det, {"x": X33}),
    case("solve", c_solve, {"x": X33}),
    case("norm", c_norm, {"x": X23}),
    case("cumsum_axis", c_cumsum_axis, {"x": X23}),
    case("transpose_axes_3d", c_transpose_axes, {"x": X234}),
    case("sum_axis_3d", c_sum_axis_3d, {"x": X234}),
    case("mean_axis_tuple_3d", c_mean_axis_tuple, {"x": X234}),
    case("max_axis_3d", c_max_axis_3d, {"x": X234}),
    case("stack_axis", c_stack_axis, {"x": X3, "y": Y3}, wrt=("x", "y")),
    case("concatenate", c_concat, {"x": X3, "y": X4}, wrt=("x", "y")),
    case("copy_then_write", c_copy_then_write, {"x": X3}),
    case("fresh_write_slice", c_fresh_write_slice, {"x": X3}),
    # a slice whose bounds are a loop index: NumPy shortens it near the end, a compiled one cannot
    case("r_c_concatenators", c_r_concatenator, {"x": X3}),
    case("r_range", c_r_range, {"x": X3}, expect=UnsupportedSyntaxError, marker="np.r_[0:3]"),
    # sliding windows: the loop unrolls while tracing, each window NumPy's
    case("window_read", c_window_read, {"x": X3}),
    case("window_write", c_window_write, {"x": X3}),
    case("zeros_fill_loop", c_zeros_fill_loop, {"x": X3}),
    case("augassign_fresh", c_augassign_fresh, {"x": X3}),
    case("no_grad_block", c_no_grad_block, {"x": X3}),
    case("round", c_round, {"x": X3}),
    case("clip_inside", c_clip_inside, {"x": X3}),
    case("abs", c_abs, {"x": X3}),
    case("pow_scalar_exponent", c_pow_scalar_exponent, {"x": X3}),
    case("reshape", c_reshape, {"x": X23}),
    case("string_arg", c_string_arg, {"x": X3, "mode": "mean"}),
    case("none_arg", c_none_arg, {"x": X3, "w": None}),
    case("tuple_output_seed", c_tuple_output, {"x": X3}, seed=(1.0, 0.5), call_kwargs={"seed": (1.0, 0.5)}),
    case("vector_output_seed", c_vector_output, {"x": X3}, seed=Y3, call_kwargs={"seed": Y3}),
    case("trace_2d", c_trace_2d, {"x": X33}),
    case("floor_divide", c_float_literal_int_op, {"x": X3}),
    case("two_wrt", c_two_wrt, {"x": X3, "y": Y3}, wrt=("x", "y")),
    case("wrt_by_position", c_wrt_by_position, {"x": X3, "y": Y3}, wrt=(1,)),
    case("same_name_reuse", c_same_name_reuse, {"x": X3}),
    # shape rules with arrays of 3 and 4 dimensions and non-default axes
    case("cumsum_3d_flat", c_cumsum_3d_flat, {"x": X234}),
    case("cumsum_3d_axis1", c_cumsum_3d_axis1, {"x": X234}),
    case("roll_3d", c_roll_3d, {"x": X234}),
    case("roll_3d_axis", c_roll_3d_axis, {"x": X234}),
    case("flip_axis", c_flip_axis, {"x": X234}),
    case("squeeze_3d", c_squeeze_3d, {"x": X234}),
    case("sum_keepdims_3d", c_sum_keepdims_3d, {"x": X234}),
    case("var_axis_3d", c_var_axis_3d, {"x": X234}),
    case("std_ddof_3d", c_std_ddof_3d, {"x": X234}),
    case("prod_axis_3d", c_prod_axis_3d, {"x": X234}),
    case("min_axis0_3d", c_min_axis0_3d, {"x": X234}),
    case("norm_axis_3d", c_norm_axis_3d, {"x": X234}),
    case("mean_4d_axes", c_mean_4d_axes, {"x": X2345}),
    case("max_4d_axes", c_max_4d_axes, {"x": X2345}),
    case("transpose_default_3d", c_transpose_default_3d, {"x": X234}),
    case("reshape_4d", c_reshape_4d, {"x": X234}),
    case("expand_dims_3d", c_expand_dims_3d, {"x": X234}),
    case("matmul_batch", c_matmul_batch, {"x": X234}),
    case("einsum_batch", c_einsum_batch, {"x": X234}),
    case("dot_3d_1d", c_dot_3d_1d, {"x": X234}),
    case("take_axis", c_take_axis, {"x": X234}),
    case("where_3d", c_where_3d, {"x": X234}),
    case("concat_axis_3d", c_concat_axis_3d, {"x": X234}),
    case("stack_last_axis", c_stack_last_axis, {"x": X234}),
    case("transpose_4d", c_swap_by_transpose_4d, {"x": X2345}),
    case("index_3d", c_index_3d, {"x": X234}),
    case("sum_negative_axis_4d", c_sum_negative_axis_4d, {"x": X2345}),
    case(
        "accumulate_wrong_shape",
        c_plain,
        {"x": X3},
        expect=SourcegradError,
        match="accumulate",
        call_kwargs={"accumulate": np.zeros(4)},
    ),
]
