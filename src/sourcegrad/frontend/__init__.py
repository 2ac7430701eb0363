"""Stage 1, the front end: the user's source text in, a checked and desugared ``ast`` out.

``parse`` (source text -> ``ast`` with comments and pragmas), ``fence`` (reject what is outside the
supported subset, with a located error), ``desugar`` (early return, break, continue -> flags),
``resolve`` (what a name in the user's function refers to: a NumPy function, a module constant, a
user function).
"""
