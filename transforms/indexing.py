"""Reading with indices and slices: ``x[0]``, ``x[1:]``, ``x[:, 0]``, ``x[idx]``, ``x[None]``.

The adjoint scatters ``g`` back into the accumulator at the same index with
``.at[...].add`` (repeated integer indices add up, as they must).
"""

from sourcegrad.rules import defop

defop("getitem", "x[idx]", index=("idx",), x="acc.at[idx].add(g)", temp="sub")
