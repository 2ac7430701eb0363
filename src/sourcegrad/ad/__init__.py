"""Stage 3, differentiation: the normal-form primal in, its derivative function out.

``activity`` (which values need accumulators), ``reverse`` (the adjoint pass), ``simplify``
(small rewrites for the reader), ``templates`` (the shapes of generated control-flow code).
The derivative rules themselves are data: ``sourcegrad.rules`` (the registry) and
``sourcegrad.transforms`` (the rule tables, by domain).
"""
