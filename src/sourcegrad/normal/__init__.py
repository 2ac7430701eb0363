"""Stage 2, the normal form: ``ast`` in, IR out, one operation per line, each name assigned once.

``ir`` (the node types and the normal-form checker), ``walk`` (the one generic traversal),
``normalize`` and ``expressions`` (the lowering of statements and expressions), ``calls`` (the
user's own functions that the differentiated function calls), ``structs`` (containers flattened
to leaves), ``naming`` (deterministic names), ``astutil``/``pyexpr`` (IR values as Python ``ast``).
"""
