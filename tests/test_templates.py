"""The statement templates of generated control flow (``sourcegrad.ad.templates``): what code an
instantiated template prints, which optional pieces it drops, that it refuses to leave a
placeholder unreplaced, and that a filled-in loop adjoint computes what its loop's adjoint is."""

import ast

import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from sourcegrad import runtime
from sourcegrad.ad import templates
from sourcegrad.ad.templates import Template
from sourcegrad.backend import emit
from sourcegrad.errors import InternalError
from sourcegrad.normal import ir


def printed(stmts) -> str:
    """The statements as the body of a generated function, without its ``def`` line."""
    text = emit.format_function(ir.Function("f", (), tuple(stmts)))
    return "\n".join(line[4:] for line in text.splitlines()[1:]) + "\n"


def assign(target, text):
    return ir.Assign(target, ir.Raw(ast.parse(text, mode="eval").body))


STEP = Template("""
def ADJOINT(CARRY, XS):
    CARRY_IN = CARRY
    ROW = XS
    BODY
    return cast_like(CARRY_OUT, CARRY), STACK_ROW
CARRY_OUT, STACKS = lax.scan(ADJOINT, INIT, SCANNED, length=LENGTH, reverse=True)
""")


def scan_mapping(**changes):
    mapping = dict(
        ADJOINT="loop_adjoint",
        CARRY="carry",
        XS="xs",
        CARRY_IN=("b_y",),
        ROW=("w",),
        BODY=[assign("b_y", "b_y * w")],
        CARRY_OUT=("b_y",),
        STACK_ROW=ast.Constant(None),
        STACKS="_",
        INIT=("b_out",),
        SCANNED=("w_tape",),
        LENGTH=None,
    )
    mapping.update(changes)
    return mapping


def test_a_template_prints_the_code_it_shows_with_its_placeholders_filled_in():
    assert printed(STEP.instantiate(**scan_mapping())) == (
        "def loop_adjoint(carry, xs):\n"
        "    b_y, = carry\n"
        "    w, = xs\n"
        "    b_y = b_y * w\n"
        "    return cast_like((b_y,), carry), None\n"
        "(b_y,), _ = lax.scan(loop_adjoint, (b_out,), (w_tape,), reverse=True)\n"
    )


def test_expressions_are_substituted_as_trees_so_precedence_is_kept():
    t = Template("OUT = G * FACTOR")
    factor = ast.parse("a + b", mode="eval").body
    assert printed(t.instantiate(OUT="r", G="g", FACTOR=factor)) == "r = g * (a + b)\n"


def test_a_statement_placeholder_splices_a_list_of_statements_in_place():
    t = Template("""
    first = 1
    BODY
    last = 2
    """)
    body = [assign("x", "first + 1"), assign("y", "x * 2")]
    assert printed(t.instantiate(BODY=body)) == "first = 1\nx = first + 1\ny = x * 2\nlast = 2\n"
    assert printed(t.instantiate(BODY=[])) == "first = 1\nlast = 2\n"


def test_a_statement_whose_target_is_the_empty_tuple_is_dropped():
    out = STEP.instantiate(**scan_mapping(ROW=(), SCANNED=(), LENGTH=ast.Constant(5), BODY=[]))
    assert printed(out) == (
        "def loop_adjoint(carry, xs):\n"
        "    b_y, = carry\n"
        "    return cast_like((b_y,), carry), None\n"
        "(b_y,), _ = lax.scan(loop_adjoint, (b_out,), (), length=5, reverse=True)\n"
    )


def test_a_keyword_given_none_is_dropped_and_one_given_a_value_is_kept():
    t = Template("OUT = f(X, length=LENGTH, axis=AXIS)")
    assert printed(t.instantiate(OUT="r", X="x", LENGTH=None, AXIS=ast.Constant(0))) == "r = f(x, axis=0)\n"


def test_targets_nest_and_an_empty_part_prints_as_an_empty_tuple():
    t = Template("TARGETS, ROW = XS")
    assert printed(t.instantiate(TARGETS=("i",), ROW="_", XS="xs")) == "(i,), _ = xs\n"
    assert printed(t.instantiate(TARGETS=("i", "j"), ROW=("a",), XS="xs")) == "(i, j), (a,) = xs\n"
    assert printed(t.instantiate(TARGETS=(), ROW="_", XS="xs")) == "(), _ = xs\n"
    nested = Template("ROW = XS")
    assert printed(nested.instantiate(ROW=(("i",), ("a", "b")), XS="xs")) == "(i,), (a, b) = xs\n"


def test_a_parameter_placeholder_may_stand_for_several_parameters_and_star_spreads_arguments():
    t = Template("""
    def ADJOINT(ACCUMULATORS):
        return RETURNED
    RETURNED = lax.cond(TEST, ADJOINT, ADJOINT, *ACCUMULATORS)
    """)
    out = t.instantiate(
        ADJOINT="side",
        ACCUMULATORS=("b_y", "b_w"),
        RETURNED=("b_w",),
        TEST=ast.parse("p > 0", mode="eval").body,
    )
    assert printed(out) == (
        "def side(b_y, b_w):\n    return b_w,\nb_w, = lax.cond(p > 0, side, side, b_y, b_w)\n"
    )


def test_the_origin_goes_on_the_top_level_statements_only():
    origin = ir.Origin(3, "for i in range(n):")
    out = STEP.instantiate(origin, **scan_mapping())
    assert [s.origin for s in out] == [origin, origin]
    assert all(getattr(s, "origin", None) is None for s in out[0].function.body)


@pytest.mark.parametrize("drop", ["BODY", "INIT", "LENGTH"])
def test_a_placeholder_left_unreplaced_is_refused(drop):
    mapping = scan_mapping()
    del mapping[drop]
    with pytest.raises(InternalError, match=drop):
        STEP.instantiate(**mapping)


def test_a_value_for_a_placeholder_the_template_lacks_is_refused():
    with pytest.raises(InternalError, match="SPARE"):
        STEP.instantiate(**scan_mapping(SPARE="x"))


def test_none_is_refused_where_the_placeholder_is_not_a_keyword_value():
    with pytest.raises(InternalError, match="INIT"):
        STEP.instantiate(**scan_mapping(INIT=None))


def test_names_in_lower_case_are_kept_as_written():
    assert "CARRY" in templates.SCAN_ADJOINT.placeholders
    assert "lax" not in templates.SCAN_ADJOINT.placeholders
    assert "cast_like" not in templates.WHILE_ADJOINT.placeholders


def run_generated(stmts, **values):
    scope = dict(values, jnp=jnp, lax=lax, cast_like=runtime.cast_like)
    exec(compile(printed(stmts), "<template>", "exec"), scope)
    return scope


def test_the_scan_adjoint_of_a_product_recurrence_matches_its_derivative():
    # y_{k+1} = y_k * w_k: d y_n / d y_0 = prod(w), d y_n / d w_k = y_0 * prod(w) / w_k
    w = np.array([0.5, 2.0, 3.0, -1.5])
    y0 = 1.25
    body = [assign("b_w", "b_y * y"), assign("b_y", "b_y * w")]
    out = templates.SCAN_ADJOINT.instantiate(
        **scan_mapping(
            ROW=("w", "y"),
            BODY=body,
            SCANNED=("w_tape", "y_tape"),
            STACK_ROW=("b_w",),
            STACKS=("b_w_stack",),
            RECOMPUTE=[],
        )
    )
    y_tape = y0 * np.concatenate([[1.0], np.cumprod(w)[:-1]])
    scope = run_generated(out, b_out=jnp.asarray(1.0), w_tape=jnp.asarray(w), y_tape=jnp.asarray(y_tape))
    np.testing.assert_allclose(scope["b_y"], np.prod(w), rtol=1e-6)
    np.testing.assert_allclose(scope["b_w_stack"], y0 * np.prod(w) / w, rtol=1e-6)


def test_the_while_adjoint_reads_the_tape_of_the_iterations_that_ran_last_first():
    # 3 of 5 tape rows were filled: b <- b * tape[k] for k = 2, 1, 0
    tape = np.array([2.0, 3.0, 5.0, 7.0, 11.0])
    reads = templates.TAPE_READ.instantiate(VALUE="f", TAPE="f_tape", STEP="step")
    out = templates.WHILE_ADJOINT.instantiate(
        ADJOINT="while_adjoint",
        K="k",
        CARRY="carry",
        STEP="step",
        COUNT="count",
        CARRY_IN=("b_y",),
        TAPE_READS=reads,
        RECOMPUTE=[],
        BODY=[assign("b_y", "b_y * f")],
        CARRY_OUT=("b_y",),
        INIT=("b_out",),
    )
    scope = run_generated(out, b_out=jnp.asarray(1.0), f_tape=jnp.asarray(tape), count=3)
    np.testing.assert_allclose(scope["b_y"], 30.0)
