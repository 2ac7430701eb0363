"""Array methods and attributes, mapped to the rules above.

``x.sum(axis=0)`` is ``sum(x, axis=0)``; ``pack`` means the method takes its
shape or axes as separate arguments (``x.reshape(2, 3)``) that are packed into
one tuple argument.
"""

# method name -> (rule key, how extra positional arguments are passed)
METHODS = {
    "sum": ("sum", None),
    "mean": ("mean", None),
    "prod": ("prod", None),
    "max": ("max", None),
    "min": ("min", None),
    "var": ("var", None),
    "std": ("std", None),
    "cumsum": ("cumsum", None),
    "dot": ("dot", None),
    "clip": ("clip", None),
    "squeeze": ("squeeze", None),
    "ravel": ("ravel", None),
    "flatten": ("ravel", None),
    "reshape": ("reshape", "pack"),
    "transpose": ("transpose", "pack"),
    "astype": ("astype", None),
    "copy": ("copy", None),
    "argmax": ("argmax", None),
    "argmin": ("argmin", None),
    "round": ("round", None),
    "conj": ("conj", None),
    "conjugate": ("conj", None),
}

# attribute name -> rule key
ATTRIBUTES = {
    "T": "transpose",
    "shape": "shape",
    "ndim": "ndim",
    "size": "size",
    "dtype": "dtype",
    "real": "real",
    "imag": "imag",
}
