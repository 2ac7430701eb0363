"""What a gradient function shows its user: the generated source, its stages and source map, and
the views made from them (highlighted text, graph, HTML report, standalone module)."""

from __future__ import annotations

__all__ = ["GradViews"]


class GradViews:
    """The reading side of :class:`~sourcegrad.GradFunction` (a mixin: it needs ``_current()``,
    the transform of the latest call, and ``_variants``)."""

    # ----- what the user reads -----
    @property
    def source(self) -> str:
        """The generated module: the normal-form primal and its gradient. Exactly the code that
        runs (for the static arguments of the latest call)."""
        return self._current().source

    @property
    def stages(self) -> dict:
        """The source after each pipeline stage: source, normalized, activity, reversed, simplified."""
        return self._current().stages

    @property
    def source_map(self):
        return self._current().source_map

    @property
    def filename(self) -> str:
        """The name under which the generated source is registered with linecache."""
        return self._current().filename

    # ----- inspecting -----
    def show(self, side_by_side: bool = False, color: bool | None = None, file=None) -> None:
        """Print the generated code, highlighted in a terminal (plain text otherwise); with
        ``side_by_side``, each generated line beside the line of your code it comes from."""
        from ..inspect.show import show

        show(self._current(), side_by_side, color, file)

    def _repr_html_(self) -> str:
        from ..inspect.show import CSS, highlight_html

        return f"<style>{CSS}</style>{highlight_html(self._current().source)}"

    def lines_for(self, user_line: int) -> dict:
        """The generated lines computing one line of your file: {"forward": [...], "backward": [...]}."""
        return self._current().source_map.generated_lines(user_line)

    def line_of(self, generated_line: int) -> int | None:
        """The line of your file a generated line comes from (None for generated scaffolding)."""
        return self._current().source_map.user_line(generated_line)

    def graph(self, format: str = "dot"):
        """The forward dataflow and backward accumulation: DOT text, or SVG/PNG bytes (``dot``)."""
        from ..inspect.graph import build_graph, render, to_dot

        dot = to_dot(build_graph(self._current()))
        return dot if format == "dot" else render(dot, format)

    def report(self, path=None) -> str:
        """A self-contained HTML page: your function and the gradient linked line to line, and
        the graph. Written to ``path`` if given; returned either way."""
        from ..inspect.report import html_report

        text = html_report(self._current())
        if path is not None:
            import pathlib

            pathlib.Path(path).write_text(text, encoding="utf-8")
        return text

    def emit(self, path=None) -> str:
        """The gradient as a standalone module that imports only JAX and NumPy."""
        from ..backend.standalone import standalone_module

        t = self._current()
        kinds = next((k for k, v in self._variants.items() if v is t), ())
        static = tuple(i for i, k in enumerate(kinds) if k == "static")
        text = standalone_module(t, static)
        if path is not None:
            import pathlib

            pathlib.Path(path).write_text(text, encoding="utf-8")
        return text
