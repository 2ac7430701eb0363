"""Functions whose tangent code (forward mode, ``sourcegrad.jvp``) is pinned by golden files
(``<name>.tangent.golden.py``): the reverse-mode golden functions, read in the other direction."""

from .functions import (
    branch_on_data,
    brief_loss,
    fill_buffer,
    newton_sqrt,
    regions,
    seed_page_001,
    sin_recurrence,
    two_layers,
)

# name -> (function, wrt)
TANGENT_GOLDEN = {
    "seed_page_001": (seed_page_001, ("a", "b", "c")),
    "brief_loss": (brief_loss, ("W", "b")),
    "regions": (regions, ("w",)),
    "sin_recurrence": (sin_recurrence, ("x", "k")),
    "newton_sqrt": (newton_sqrt, ("a",)),
    "branch_on_data": (branch_on_data, ("x", "w")),
    "two_layers": (two_layers, ("W1", "W2")),
    "fill_buffer": (fill_buffer, ("x",)),
}

# name -> (function, wrt): the Hessian's generated code (the gradient normalized again, then its
# tangent), pinned as <name>.second_order.golden.py
SECOND_ORDER_GOLDEN = {
    "brief_loss": (brief_loss, ("W", "b")),
}
