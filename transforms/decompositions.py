"""Functions that return several arrays: ``slogdet``, ``eigh``, ``svd``, ``qr``, ``lstsq``, ``split``.

Each part is a rule of its own (``defmulti``), keyed ``<function>.<part>``: its forward is the call
indexed by the part (``jnp.linalg.slogdet(a)[1]``), ``g`` in its adjoint is that part's cotangent,
and a part the function never reads is never computed nor differentiated. The matrix adjoints are
the helpers of ``sourcegrad.runtime.decompositions`` (formulas in their docstrings), called with
the part's own cotangent and ``None`` for the others.
"""

import jax.numpy as jnp
import numpy as np

from sourcegrad import runtime
from sourcegrad.rules import defmulti

defmulti(
    "jnp.linalg.slogdet(a)",
    names=("sign", "logabsdet"),
    parts=(
        dict(differentiable=False),
        dict(
            a="jnp.expand_dims(g, (-2, -1)) * mT(jnp.linalg.inv(a))",
            tangent="jnp.trace(jnp.linalg.solve(a, d_a), axis1=-2, axis2=-1)",
        ),
    ),
)
# JAX's eigh factors (a + a^T) / 2 (symmetrize_input=True), or reads one triangle; registered
# first, for jnp.linalg.eigh alone: NumPy's, below, takes np.linalg.eigh
defmulti(
    "jnp.linalg.eigh(a, UPLO=None, symmetrize_input=True)",
    names=("eigenvalues", "eigenvectors"),
    static=("UPLO", "symmetrize_input"),
    parts=(
        dict(
            a="eigh_adjoint(a, g, None, UPLO, symmetrize_input)",
            tangent="eigh_tangent(a, d_a, part, UPLO, symmetrize_input)",
        ),
        dict(
            a="eigh_adjoint(a, None, g, UPLO, symmetrize_input)",
            tangent="eigh_tangent(a, d_a, part, UPLO, symmetrize_input)",
        ),
    ),
)
# NumPy's eigh reads one triangle of its argument (UPLO)
defmulti(
    "eigh_of_triangle(a, UPLO='L')",
    names=("eigenvalues", "eigenvectors"),
    static=("UPLO",),
    objects=(np.linalg.eigh, runtime.eigh_of_triangle),  # the second: as gradients call it
    parts=(
        dict(a="eigh_adjoint(a, g, None, UPLO)", tangent="eigh_tangent(a, d_a, part, UPLO)"),
        dict(a="eigh_adjoint(a, None, g, UPLO)", tangent="eigh_tangent(a, d_a, part, UPLO)"),
    ),
)


def _svd_layout(values):
    if values["hermitian"]:
        raise ValueError(
            "`svd(..., hermitian=True)` has no derivative rule",
            "call np.linalg.svd without hermitian=, or np.linalg.eigh for a symmetric matrix",
        )
    return None if values["compute_uv"] else 1


defmulti(
    "jnp.linalg.svd(a, full_matrices=True, compute_uv=True, hermitian=False)",
    names=("U", "S", "Vh"),
    static=("full_matrices", "compute_uv", "hermitian"),
    alone=_svd_layout,
    parts=(
        dict(
            a="svd_adjoint(a, g, None, None, full_matrices)",
            tangent="svd_tangent(a, d_a, part, full_matrices)",
        ),
        dict(a="svd_adjoint(a, None, g, None)", tangent="svd_tangent(a, d_a, part)"),
        dict(
            a="svd_adjoint(a, None, None, g, full_matrices)",
            tangent="svd_tangent(a, d_a, part, full_matrices)",
        ),
    ),
)


def _qr_layout(values):
    mode = values["mode"]
    if mode not in ("reduced", "r"):
        raise ValueError(
            f"`qr(..., mode={mode!r})` has no derivative rule (its extra columns are not unique)",
            "use mode='reduced' (the default) or mode='r'",
        )
    return 1 if mode == "r" else None


defmulti(
    "jnp.linalg.qr(a, mode='reduced')",
    names=("Q", "R"),
    static=("mode",),
    alone=_qr_layout,
    parts=(
        dict(a="qr_adjoint(a, g, None)", tangent="qr_tangent(a, d_a, part)"),
        dict(a="qr_adjoint(a, None, g)", tangent="qr_tangent(a, d_a, part)"),
    ),
)
# lstsq: the solution, the residuals and the singular values are differentiable, the rank is a
# constant. NumPy's (lstsq_numpy) cuts the singular values as LAPACK does and gives empty residuals
# when a has no more rows than columns; JAX's has its own cut and always gives the residuals.
for _signature, _numpy, _objects in (
    ("jnp.linalg.lstsq(a, b, rcond=None)", "False", (jnp.linalg.lstsq,)),
    ("lstsq_numpy(a, b, rcond=None)", "True", (np.linalg.lstsq, runtime.lstsq_numpy)),
):
    defmulti(
        _signature,
        names=("solution", "residuals", "rank", "singular_values"),
        static=("rcond",),
        positional=2,
        objects=_objects,
        parts=(
            dict(
                a=f"lstsq_adjoint(a, b, g, None, rcond, 'a', {_numpy})",
                b=f"lstsq_adjoint(a, b, g, None, rcond, 'b', {_numpy})",
                tangent=f"lstsq_tangent(a, b, d_a, d_b, rcond, part, {_numpy})",
            ),
            dict(
                a=f"lstsq_adjoint(a, b, None, g, rcond, 'a', {_numpy})",
                b=f"lstsq_adjoint(a, b, None, g, rcond, 'b', {_numpy})",
                tangent=f"lstsq_tangent(a, b, d_a, d_b, rcond, part, {_numpy})",
            ),
            dict(differentiable=False),
            dict(nondiff=("b",), a="svd_adjoint(a, None, g, None)", tangent="svd_tangent(a, d_a, None)"),
        ),
    )


def _sections(values):
    sections = values["indices_or_sections"]
    if isinstance(sections, bool) or not isinstance(sections, (int, tuple)):
        return None
    return sections if isinstance(sections, int) else len(sections) + 1


for _name, _axis in (("split", "axis"), ("array_split", "axis")):
    defmulti(
        f"jnp.{_name}(ary, indices_or_sections, axis=0)",
        names=("section",),
        static=("indices_or_sections", "axis"),
        positional=2,
        count=_sections,
        kind="list",
        parts=(
            dict(
                ary="split_adjoint(g, ary, indices_or_sections, axis, part)",
                tangent=f"jnp.{_name}(d_ary, indices_or_sections, axis)[part]",
            ),
        ),
    )
# hsplit's axis (None) is the second, or the first of a 1-D array
for _name, _axis in (("hsplit", "None"), ("vsplit", "0"), ("dsplit", "2")):
    defmulti(
        f"jnp.{_name}(ary, indices_or_sections)",
        names=("section",),
        static=("indices_or_sections",),
        positional=2,
        count=_sections,
        kind="list",
        parts=(
            dict(
                ary=f"split_adjoint(g, ary, indices_or_sections, {_axis}, part)",
                tangent=f"jnp.{_name}(d_ary, indices_or_sections)[part]",
            ),
        ),
    )
