"""``sourcegrad bench``: benchmarks that print ratios measured side by side in one run.

* ``scaling``  (loops.py): first-call and steady-state time of the gradient of a sin
  recurrence and an RK4 integrator at 10 ... 10000 steps, for sourcegrad and for
  ``jax.jit(jax.grad(f))`` of the same Python function (which unrolls the loop).
Timing helpers live in ``timing.py``; the workloads are plain modules, so
sourcegrad can read their source.
"""
