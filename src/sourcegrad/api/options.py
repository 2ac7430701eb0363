"""The options of ``grad`` and ``value_and_grad``, checked when they are applied (not at the
first call): ``checkpoint=``, ``max_iter=``, ``axis_name=`` and ``axis_reduce=``."""

from __future__ import annotations

import numpy as np

from ..errors import OptionError, SourcegradError
from ..runtime.revolve import binomial_slots

__all__ = ["check", "check_options", "check_axis"]


def check(checkpoint, max_iter, axis_name=None, axis_reduce="psum") -> None:
    """All of grad's options, raised from the API boundary without the library's frames."""
    try:
        check_options(checkpoint, max_iter)
        check_axis(axis_name, axis_reduce)
    except SourcegradError as exc:
        raise exc.with_traceback(None) from None


def check_axis(axis_name, axis_reduce) -> None:
    """``axis_name``: None, a mesh axis name or a non-empty tuple of them; ``axis_reduce``: how."""
    names = axis_name if isinstance(axis_name, tuple) else (axis_name,)
    if axis_name is not None and (not names or not all(isinstance(a, str) and a for a in names)):
        raise OptionError(
            f"axis_name={axis_name!r} is not a valid value: pass the name of a mesh axis (a str, as "
            f'in jax.make_mesh((8,), ("batch",))), a tuple of names, or None (no shard_map)'
        )
    if axis_reduce not in ("psum", "pmean"):
        raise OptionError(
            f'axis_reduce={axis_reduce!r} is not a valid value: pass "psum" (the devices\' gradients '
            f'summed: each shard\'s loss is its part of the total) or "pmean" (averaged)'
        )
    if axis_reduce != "psum" and axis_name is None:
        raise OptionError(f"axis_reduce={axis_reduce!r} needs axis_name= (the mesh axis to reduce over)")


def check_options(checkpoint, max_iter) -> None:
    """``checkpoint``: None, "sqrt", "binomial", "binomial:N" (N >= 2 slots) or a positive segment
    length; ``max_iter``: None or positive."""
    if checkpoint is not None and checkpoint != "sqrt" and not _positive_int(checkpoint):
        try:
            valid = binomial_slots(checkpoint) is not None
        except ValueError:
            valid = False
        if not valid:
            raise OptionError(
                f'checkpoint={checkpoint!r} is not a valid value: pass "sqrt" (segments of about '
                f'sqrt(n) iterations), "binomial" (revolve: 32 slots of the loop carry, the fewest '
                f'steps recomputed) or "binomial:N" (N >= 2 slots), a positive int (the segment '
                f"length), or None (no checkpointing)"
            )
    if max_iter is not None and not _positive_int(max_iter):
        raise OptionError(
            f"max_iter={max_iter!r} is not a valid value: pass a positive int (the "
            f"tape length of while loops) or None"
        )


def _positive_int(value) -> bool | np.bool_:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and value > 0
