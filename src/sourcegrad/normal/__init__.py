"""Stage 2, the normal form: ``ast`` in, IR out, one operation per line, each name assigned once.

``ir`` (the node types; its docstring is the grammar of the normal form, and
``checker.check_normal_form`` checks it), ``walk`` (the one generic traversal), ``normalize`` (a
package: the lowering of the AST into the normal form, one module per construct), ``calls`` (the
user's own functions that the differentiated function calls), ``structs`` (containers flattened
to leaves), ``naming`` (deterministic names), ``astutil``/``pyexpr`` (IR values as Python ``ast``).
"""
