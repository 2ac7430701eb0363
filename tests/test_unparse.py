"""``astutil.unparse`` (the emitter's fast unparser) against its oracle, ``ast.unparse``: the same
text for every expression, on written cases and on random trees (shared nodes included)."""

import ast
import random

import pytest

from sourcegrad.normal.astutil import unparse

CASES = [
    "a",
    "a.b.c",
    "f(x, *ys, k=1, **kw)",
    "jnp.zeros_like(x)",
    "a + b * c",
    "(a + b) * c",
    "a - (b - c)",
    "a - b - c",
    "a ** b ** c",
    "(a ** b) ** c",
    "-a ** 2",
    "(-a) ** 2",
    "a ** -2",
    "-(-a)",
    "~a + not_ - +b",
    "not a",
    "not (a and b)",
    "a and b or c and not d",
    "a or (b or c)",
    "(a and b) and c",
    "a < b <= c",
    "(a < b) < c",
    "a is not None",
    "a not in b",
    "x if c else y",
    "(x if c else y) + 1",
    "x if (a if b else c) else (d if e else f)",
    "lambda: 0",
    "a[1]",
    "a[1, 2]",
    "a[(1, 2)]",
    "a[()]",
    "a[1:2]",
    "a[::2]",
    "a[:, None, ...]",
    "a[b][c:d:e]",
    "(1, 2)",
    "(1,)",
    "()",
    "[a, (b, c), [d]]",
    "f((a, b))",
    "f(*(a, b))",
    "(a + b).c",
    "(1).real",
    "1 .real",
    "True.real",
    "1.5e300 * 1e400",
    "-1e400",
    "1j * 2",
    "'it''s' + \"x\\ny\"",
    "b'\\x00'",
    "None",
    "...",
    "a @ b @ c",
    "a // b % c << d >> e & f ^ g | h",
    "(a | b) & c",
    "x[i] * g / (1 - y ** 2)",
    "{a: b}",
    "[x for x in y]",
    "f'{a}'",
]


@pytest.mark.parametrize("text", CASES)
def test_unparse_matches_ast_on_written_expressions(text):
    node = ast.parse(text, mode="eval").body
    assert unparse(node) == ast.unparse(node)


def test_unparse_matches_ast_on_constants_built_by_hand():
    """Constants that parsing does not give: negative numbers, tuples, inf and nan, kind 'u'."""
    values = [
        -1,
        -2.5,
        (1, -2.0),
        (3,),
        (),
        float("inf"),
        -float("inf"),
        float("nan"),
        complex(0, float("inf")),
    ]
    for v in values:
        for node in (ast.Constant(v), ast.BinOp(ast.Name("x"), ast.Pow(), ast.Constant(v))):
            assert unparse(node) == ast.unparse(node)
    assert unparse(ast.Constant("s", kind="u")) == ast.unparse(ast.Constant("s", kind="u"))
    attr = ast.Attribute(ast.Constant(True), "real")
    assert unparse(attr) == ast.unparse(attr)


_BINOPS = [ast.Add, ast.Sub, ast.Mult, ast.MatMult, ast.Div, ast.Mod, ast.Pow, ast.FloorDiv, ast.BitOr]
_CMPOPS = [ast.Eq, ast.Lt, ast.GtE, ast.Is, ast.NotIn]


def _random_expr(rng: random.Random, depth: int, pool: list) -> ast.expr:
    """A random expression of the node types the fast path writes (and a few it does not); with
    some chance a node already in the tree is used again (a shared node)."""
    if pool and rng.random() < 0.15:
        return rng.choice(pool)
    if depth == 0:
        leaf = rng.choice(
            [ast.Name("x"), ast.Name("y"), ast.Constant(1), ast.Constant(-2.0), ast.Constant(0.5)]
        )
        pool.append(leaf)
        return leaf
    d = depth - 1
    kind = rng.randrange(13)
    node: ast.expr
    if kind == 0:
        node = ast.BinOp(_random_expr(rng, d, pool), rng.choice(_BINOPS)(), _random_expr(rng, d, pool))
    elif kind == 1:
        node = ast.UnaryOp(rng.choice([ast.USub, ast.Not, ast.Invert])(), _random_expr(rng, d, pool))
    elif kind == 2:
        args = [_random_expr(rng, d, pool) for _ in range(rng.randrange(3))]
        if rng.random() < 0.3:
            args.append(ast.Starred(_random_expr(rng, d, pool)))
        kws = [
            ast.keyword(rng.choice(["k", None]), _random_expr(rng, d, pool)) for _ in range(rng.randrange(2))
        ]
        node = ast.Call(rng.choice([ast.Name("f"), ast.Attribute(ast.Name("jnp"), "sum")]), args, kws)
    elif kind == 3:
        node = ast.Attribute(_random_expr(rng, d, pool), "T")
    elif kind == 4:
        node = ast.Subscript(_random_expr(rng, d, pool), _random_expr(rng, d, pool))
    elif kind == 5:
        node = ast.Subscript(
            _random_expr(rng, d, pool),
            ast.Tuple([ast.Slice(_random_expr(rng, d, pool), None, ast.Constant(2)), ast.Constant(None)]),
        )
    elif kind == 6:
        node = ast.Tuple([_random_expr(rng, d, pool) for _ in range(rng.randrange(4))])
    elif kind == 7:
        node = ast.List([_random_expr(rng, d, pool) for _ in range(rng.randrange(3))])
    elif kind == 8:
        n = rng.randrange(1, 3)
        node = ast.Compare(
            _random_expr(rng, d, pool),
            [rng.choice(_CMPOPS)() for _ in range(n)],
            [_random_expr(rng, d, pool) for _ in range(n)],
        )
    elif kind == 9:
        node = ast.BoolOp(rng.choice([ast.And, ast.Or])(), [_random_expr(rng, d, pool) for _ in range(3)])
    elif kind == 10:
        node = ast.IfExp(_random_expr(rng, d, pool), _random_expr(rng, d, pool), _random_expr(rng, d, pool))
    elif kind == 11:
        node = ast.Lambda(
            ast.arguments([], [], None, [], [], None, []), _random_expr(rng, d, pool)
        )  # not on the fast path: the whole expression goes to ast.unparse
    else:
        node = ast.Constant(rng.choice([(1, 2.5), "s", None, 3]))
    pool.append(node)
    return node


def test_unparse_matches_ast_on_random_trees():
    rng = random.Random(0)
    for _ in range(3000):
        node = _random_expr(rng, rng.randrange(1, 6), [])
        assert unparse(node) == ast.unparse(node), ast.dump(node)


@pytest.mark.parametrize("text", ["a < b", "a < b <= c", "f(x) == g(y) != z[i]", "(p if q < r else s)"])
def test_walk_visits_every_node_ast_walk_visits(text):
    """astutil.walk is ast.walk's faster twin: the same nodes (a comparison's right-hand operands
    were missed once, so a name read only there was not seen as read)."""
    from sourcegrad.normal.astutil import walk

    tree = ast.parse(text, mode="eval").body
    exprs = [ast.dump(n) for n in ast.walk(tree) if isinstance(n, ast.expr)]  # not contexts, ops
    assert sorted(ast.dump(n) for n in walk(tree) if isinstance(n, ast.expr)) == sorted(exprs)
