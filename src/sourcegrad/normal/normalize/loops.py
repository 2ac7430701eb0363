"""Loops: ``for`` and ``while`` become ``ir.For`` and ``ir.While`` nodes with explicit carries.

A variable the body re-assigns and that exists before the loop is *loop-carried*: each leaf of it
becomes an ``ir.Carry`` (its value before the loop, at the start of an iteration, at its end,
after the loop). A name first assigned inside the loop is not visible after it (where code after
the loop reads it, ``frontend/peel.py`` has written the first iteration out, so it exists). The
loop's own variable after it is the last value it took (``after_loop.py``).

* ``for`` over ``range(...)`` (static bounds), over an array's leading axis, and ``enumerate``
  / ``zip`` of those is a ``For`` (``iterables.py`` reads the iterables); over a Python list or
  tuple of arrays it is written out element by element (``_unrolled_for``).
* A counter loop ``i = 0; while i < n: ...; i += 1`` with static ``i`` and ``n`` is a ``For``.
* Any other ``while`` is a ``While`` whose tape holds at most ``max_iter`` iterations (the
  ``# sourcegrad: max_iter=N`` pragma on its line, or ``grad(max_iter=N)``); without a bound,
  its gradient keeps a fixed number of checkpoints (``# sourcegrad: checkpoints=N``).
* ``# sourcegrad: checkpoint=sqrt`` (or a segment length) on a ``for`` line, or
  ``grad(checkpoint=...)``, recomputes the loop's tape in segments instead of storing it;
  ``checkpoint=binomial`` (``binomial:N``) from a fixed number of slots, on revolve's schedule.
* A ``for`` loop over a range whose body slices with a length that depends on the index
  (``M[1:, :j]``, ``M[1:, j + 1:]``: the minors of a determinant) makes arrays of another shape in
  each iteration, which one compiled loop body cannot: it is *unrolled* while JAX traces
  (``For.unrolled``, run by ``runtime.unrolled_scan``), its index a Python int. A window of
  constant length (``x[i:i + k]``) is unrolled too: NumPy shortens it near the end of the
  array, which only a slice whose bounds are known while tracing reproduces.
"""

from __future__ import annotations

import ast

from ...runtime.revolve import binomial_slots
from .. import ir
from ..structs import Struct, leaves, paths, rebuild, same_layout
from .after_loop import bind_targets_after
from .aliasing import inherit_stale, note_assign, note_view
from .context import assigned_names, leaf_name
from .iterables import loop_iterables

__all__ = ["for_statement", "while_statement", "lower_for", "UNROLLED_LOOP_LIMIT"]

#: The most iterations a loop unrolled while tracing may run (``runtime.unrolled_scan``'s limit).
UNROLLED_LOOP_LIMIT = 100


# ----- handlers (see the table in __init__.py) -----
def for_statement(cx, node: ast.For):
    if node.orelse:
        raise cx.error(node, "`for ... else` is not supported", "use a flag variable")
    targets, iters = loop_iterables(cx, node.target, node.iter)
    _lower_for(cx, node, targets, iters, node.body)


def while_statement(cx, node: ast.While):
    if node.orelse:
        raise cx.error(node, "`while ... else` is not supported", "use a flag variable")
    if _counter_loop(cx, node):
        return
    origin = cx.origin
    max_iter = cx.parsed.pragma(origin.line, "max_iter") or cx.max_iter
    slots = cx.parsed.pragma(origin.line, "checkpoints")
    try:
        max_iter = None if max_iter is None else int(max_iter)
        slots = None if slots is None else int(slots)
    except ValueError:
        raise cx.error(node, f"max_iter={max_iter!r} and checkpoints={slots!r} must be ints") from None
    if slots is not None and slots < 4:
        raise cx.error(node, f"checkpoints={slots} is too few", "give at least 4 checkpoint slots")
    carried = [v for v in assigned_names(node.body) if v in cx.versions]
    saved = dict(cx.versions)
    cx.memory.loop_depth += 1
    entries = _begin_carries(cx, carried)
    outer, cx.block = cx.block, []
    test = cx.atom(node.test)
    test_body, cx.block = cx.block, outer
    body = cx.sub_block(node.body)
    cx.memory.loop_depth -= 1
    carries, results = _end_carries(cx, entries, body, origin)
    cx.origin = origin
    cx.scope_exit(saved, f"it is assigned only inside the loop at line {origin.line}")
    _bind_results(cx, results)
    name = cx.namer.fresh(f"while_{origin.line}")
    cx.emit(
        ir.While(
            tuple(carries), tuple(test_body), test, tuple(body), max_iter, origin, name, checkpoints=slots
        )
    )


# ----- for loops -----
def _lower_for(cx, node, user_targets, iters, body_nodes, loop_name="for", after=None):
    """The ``For`` of ``node``; ``after``: for each target, the loop (an ``ast.For``) and the
    iterator that say its value after the loop (by default ``node`` and ``iters``)."""
    if any(isinstance(it, Struct) for it in iters):
        return _unrolled_for(cx, node, user_targets, iters, body_nodes)
    origin = cx.origin
    unrolled = _unrolled(cx, node, user_targets, iters, body_nodes)
    carried = [v for v in assigned_names(body_nodes) if v in cx.versions and v not in user_targets]
    saved = dict(cx.versions)
    cx.memory.loop_depth += 1
    entries = _begin_carries(cx, carried)
    targets = []
    for t, it in zip(user_targets, iters):
        name = cx.namer.fresh(t) if (t in cx.versions or cx.namer.taken_by_ir(t)) else cx.namer.claim(t)
        targets.append(name)
        cx.bind_name(t, name)
        if isinstance(it, ir.ArrayIter):  # `for row in X`: each row is a view of X under NumPy
            note_view(cx, name, it.array)
        elif unrolled:  # a Python int in each iteration
            cx.static.add(name)
    cx.loop_indices.extend(user_targets)
    body = cx.sub_block(body_nodes)
    del cx.loop_indices[len(cx.loop_indices) - len(user_targets) :]
    cx.memory.loop_depth -= 1
    carries, results = _end_carries(cx, entries, body, origin)
    cx.origin = origin
    cx.scope_exit(saved, f"it is assigned only inside the loop at line {origin.line}")
    _bind_results(cx, results)
    name = cx.namer.fresh(f"{loop_name}_{origin.line}")
    cx.emit(
        ir.For(
            tuple(targets),
            tuple(iters),
            tuple(carries),
            tuple(body),
            origin,
            name,
            checkpoint=None if unrolled else _checkpoint_of(cx, node, origin),
            unrolled=unrolled,
            checkpoint_asked=_checkpoint_asked(cx, node, origin, unrolled),
        )
    )
    for t, (loop, it) in zip(user_targets, after or [(node, it) for it in iters]):
        bind_targets_after(cx, loop, [t], [it], saved, origin)


#: A ``for`` loop from its parts (``rolled.py`` builds the loop of a rolled comprehension with it).
lower_for = _lower_for


def _unrolled(cx, node, user_targets, iters, body_nodes) -> bool:
    """Does the body slice with a length that depends on a range index? Then the loop is
    unrolled while tracing (a located error when its trip count is known now and too long)."""
    indices = {t for t, it in zip(user_targets, iters) if isinstance(it, ir.RangeIter)}
    where = _index_sized_slice(body_nodes, indices) if indices and hasattr(node, "lineno") else None
    if where is None:
        return False
    it = next(it for it in iters if isinstance(it, ir.RangeIter))
    bounds: list = [b.value for b in (it.start, it.stop, it.step) if isinstance(b, ir.Const)]
    if len(bounds) == 3:
        n = len(range(*bounds))
        if n > UNROLLED_LOOP_LIMIT:
            raise cx.error(
                where,
                f"the bounds of this slice depend on the loop's index (its length, or where NumPy "
                f"shortens a window `x[i:i + k]` near the end), so the loop is unrolled while JAX "
                f"traces; it runs {n} times, and at most {UNROLLED_LOOP_LIMIT} iterations are "
                f"unrolled",
                "slice with bounds that do not depend on the index, index with integers "
                "(`x[i]`) and stack the rows, or use np.convolve / np.correlate for a window "
                "sum",
            )
    return True


def _index_sized_slice(body_nodes, indices: set):
    """The first slice in the body whose bounds depend on a loop index (or a name computed from
    one), or None. A window of constant length (``x[i:i + k]``) counts: NumPy shortens it near
    the end of the array, which only a slice whose bounds are known while tracing reproduces."""
    derived = set(indices)
    assigns = [n for b in body_nodes for n in ast.walk(b) if isinstance(n, (ast.Assign, ast.AugAssign))]
    while True:
        before = len(derived)
        for a in assigns:
            if _mentions(a.value, derived):
                targets = a.targets if isinstance(a, ast.Assign) else [a.target]
                derived.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        if len(derived) == before:
            break
    for n in (n for b in body_nodes for n in ast.walk(b)):
        if isinstance(n, ast.Slice) and any(_mentions(p, derived) for p in (n.lower, n.upper, n.step)):
            return n
    return None


def _mentions(node, names: set) -> bool:
    return node is not None and any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node))


def _checkpoint_asked(cx, node, origin, unrolled) -> bool:
    """Whether the loop's own comment asks for checkpointing (grad()'s option is for the loops
    where it applies; a comment that cannot be honoured is an error, not ignored)."""
    asked = hasattr(node, "lineno") and cx.parsed.pragma(origin.line, "checkpoint") not in (
        None,
        "none",
        "off",
    )
    if asked and unrolled:
        raise cx.error(
            node,
            "checkpointing a loop whose slices move with its index (it is unrolled while JAX "
            "traces, so each iteration's tape is its own) is not supported",
            "remove the checkpoint comment: this loop keeps its tape",
        )
    return asked


def _checkpoint_of(cx, node, origin):
    """``# sourcegrad: checkpoint=sqrt`` (or ``binomial``, ``binomial:N``, a segment length) on
    the loop, or grad()'s option."""
    spec = cx.parsed.pragma(origin.line, "checkpoint") if hasattr(node, "lineno") else None
    spec = spec if spec is not None else cx.checkpoint
    if spec in (None, "none", "off", False):
        return None
    if spec in ("sqrt", True):
        return "sqrt"
    try:
        if binomial_slots(spec):
            return spec
        return int(spec)
    except ValueError:
        raise cx.error(
            node,
            f"checkpoint={spec!r} is not a valid value",
            'write "sqrt" (segments of about sqrt(n) iterations), "binomial" (revolve, 32 slots) or '
            '"binomial:N" (N >= 2 slots), a positive int (the segment length), or none',
        ) from None


def _unrolled_for(cx, node, user_targets, iters, body_nodes):
    """A loop over a Python list or tuple of arrays runs once per element, written out."""
    lengths = {len(it.items) for it in iters if isinstance(it, Struct)}
    if len(lengths) != 1:
        raise cx.error(node, "the zipped containers have different lengths")
    origin = cx.origin
    for k in range(lengths.pop()):
        cx.origin = origin
        for t, it in zip(user_targets, iters):
            if isinstance(it, Struct):
                element = it.items[k][1]
            elif isinstance(it, ir.RangeIter) and all(isinstance(p, ir.Const) for p in (it.start, it.step)):
                element = ir.Const(it.start.value + k * it.step.value)
            elif isinstance(it, ir.ArrayIter):
                element = cx.emit_temp(
                    ir.Prim("getitem_static", (("x", it.array), ("idx", ir.Index((ir.Const(k),)))))
                )
            else:
                raise cx.error(node, "cannot write this loop out element by element")
            name = cx.new_version(t)
            if isinstance(element, Struct):
                cx.structs[name] = element
            else:
                cx.emit(ir.Assign(name, element, origin))
                if cx.is_static(element):
                    cx.static.add(name)
            cx.bind_name(t, name)
        cx.statements(body_nodes)
    cx.origin = origin


# ----- while loops that count -----
def _counter_loop(cx, node: ast.While) -> bool:
    """``i = 0; while i < n: ...; i += step`` with static i, n and step is a ``for`` over a range."""
    test = node.test
    if not (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], (ast.Lt, ast.LtE))
        and isinstance(test.left, ast.Name)
        and node.body
    ):
        return False
    i = test.left.id
    last = node.body[-1]
    step = None
    if (
        isinstance(last, ast.AugAssign)
        and isinstance(last.op, ast.Add)
        and isinstance(last.target, ast.Name)
        and last.target.id == i
    ):
        step = last.value
    elif (
        isinstance(last, ast.Assign)
        and len(last.targets) == 1
        and isinstance(last.targets[0], ast.Name)
        and last.targets[0].id == i
        and isinstance(last.value, ast.BinOp)
        and isinstance(last.value.op, ast.Add)
        and isinstance(last.value.left, ast.Name)
        and last.value.left.id == i
    ):
        step = last.value.right
    if not (isinstance(step, ast.Constant) and type(step.value) is int and step.value > 0):
        return False
    rest = node.body[:-1]
    bound_names = {n.id for n in ast.walk(test.comparators[0]) if isinstance(n, ast.Name)}
    if (
        i in assigned_names(rest)
        or bound_names & set(assigned_names(node.body))
        or i not in cx.versions
        or cx.versions[i] not in cx.static
    ):
        return False
    stop = cx.atom(test.comparators[0])
    if not cx.is_static(stop):
        return False
    if isinstance(test.ops[0], ast.LtE):
        stop = cx.emit_temp(ir.Prim("add", (("x", stop), ("y", ir.Const(1)))))
    start = ir.Name(cx.versions[i])
    _lower_for(cx, node, [i], [ir.RangeIter(start, stop, ir.Const(step.value))], rest, "while")
    end = cx.new_version(i)
    cx.emit(
        ir.Assign(
            end,
            ir.Prim("range_end", (("start", start), ("stop", stop), ("step", ir.Const(step.value)))),
            cx.origin,
        )
    )
    cx.bind_name(i, end)
    return True


# ----- loop-carried variables, leaf by leaf -----
def _begin_carries(cx, users):
    """Give each loop-carried variable (each leaf of a container) a fresh in-loop name."""
    entries = []
    for user in users:
        value = cx.current_value(user)
        inits = leaves(value)
        leaf_paths = paths(value)
        params = [cx.namer.fresh(leaf_name(user, path)) for path in leaf_paths]
        for param, init in zip(params, inits):  # an iteration's value is the memory it was before
            note_assign(cx, param, init, ())
            inherit_stale(cx, param, init)  # the first iteration reads the value before the loop
            if param in cx.memory.stale:
                cx.memory.stale_carries.add(param)
        entries.append((user, value, list(zip(params, inits, leaf_paths))))
        cx.bind_value(user, rebuild(value, [ir.Name(p) for p in params]))
    return entries


def _end_carries(cx, entries, body, origin):
    """The Carry of each leaf (its update copied into the body if the body did not compute it)."""
    defined = set(ir.defined_names(body))
    carries, results = [], []
    for user, layout, pairs in entries:
        value = cx.current_value(user)
        if not same_layout(layout, value):
            raise cx.error(
                cx.parsed.node,
                f"the loop at line {origin.line} changes what kind of value "
                f"`{user}` holds (an array or a container, and its keys)",
                "keep it the same in every iteration",
            )
        outs = []
        for (param, init, path), update in zip(pairs, leaves(value)):
            if not (isinstance(update, ir.Name) and (update.id == param or update.id in defined)):
                copy = cx.namer.fresh(user)
                body.append(ir.Assign(copy, update, origin))
                update = ir.Name(copy)
            out = cx.namer.fresh(leaf_name(user, path))
            # a loop may run no iteration: the value before it, if that was already stale
            inherit_stale(cx, out, update, *([init] if param in cx.memory.stale_carries else []))
            carries.append(ir.Carry(param, init, update.id, out))
            outs.append(ir.Name(out))
        results.append((user, rebuild(layout, outs)))
    return carries, results


def _bind_results(cx, results):
    for user, value in results:
        cx.bind_value(user, value)
