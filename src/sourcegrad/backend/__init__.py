"""Stage 4, the back end: IR in, running code out.

``lower`` (For/While/If -> ``lax.scan``/``while_loop``/``cond``), ``emit`` (IR -> source text with
a source map, loaded as a module), ``standalone`` (a module that runs without sourcegrad).
Generated code calls the helpers in ``sourcegrad.runtime``.
"""
