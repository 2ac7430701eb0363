"""``@case(...)`` registers a corpus function with its inputs.

Input specs: a shape tuple (standard normal values), ``pos(shape)`` (values in
[0.5, 2]), ``unit(shape)`` (values in (-0.9, 0.9)), ``ints(shape, n)`` (integer
indices below n), or any other value, passed as is (a static argument).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

CASES: list = []


@dataclass(frozen=True)
class Spec:
    kind: str
    shape: tuple
    high: int = 0


def pos(*shape):
    return Spec("pos", shape)


def unit(*shape):
    return Spec("unit", shape)


def ints(shape, high):
    return Spec("ints", tuple(shape), high)


@dataclass
class Case:
    fn: object
    inputs: dict
    wrt: tuple
    seed: bool = False  # the output is not a scalar: test with a random seed
    rtol: float = 1e-6
    tags: tuple = field(default_factory=tuple)
    jax: bool = True  # False where jax.numpy cannot run it (in-place writes)
    options: dict = field(default_factory=dict)  # keywords for grad() (max_iter)

    @property
    def name(self):
        return self.fn.__name__

    def make_args(self):
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))

        def make(spec):
            if isinstance(spec, tuple) and all(isinstance(d, int) for d in spec):
                return rng.standard_normal(spec) if spec else float(rng.standard_normal())
            if isinstance(spec, Spec) and spec.kind == "pos":
                return rng.uniform(0.5, 2.0, spec.shape)
            if isinstance(spec, Spec) and spec.kind == "unit":
                return rng.uniform(-0.9, 0.9, spec.shape)
            if isinstance(spec, Spec) and spec.kind == "ints":
                return rng.integers(0, spec.high, spec.shape)
            if isinstance(spec, dict):
                return {k: make(v) for k, v in spec.items()}
            if isinstance(spec, list):
                return [make(v) for v in spec]
            if isinstance(spec, tuple) and spec and all(isinstance(v, (tuple, Spec)) for v in spec):
                return tuple(make(v) for v in spec)  # a tuple of shapes: a tuple of arrays
            return spec

        return {k: make(spec) for k, spec in self.inputs.items()}

    def make_seed(self, out_shape):
        rng = np.random.default_rng(zlib.crc32(self.name.encode()) + 1)
        return rng.standard_normal(out_shape)


def case(wrt, seed=False, rtol=1e-6, tags=(), jax=True, options=None, **inputs):
    def register(fn):
        CASES.append(
            Case(
                fn,
                inputs,
                tuple(wrt) if isinstance(wrt, (tuple, list)) else (wrt,),
                seed,
                rtol,
                tuple(tags),
                jax,
                dict(options or {}),
            )
        )
        return fn

    return register
