"""Views of a transformed function for people: ``show`` (highlighted source, side by side),
``graph`` (the computation graph as DOT/SVG/PNG), ``report`` (a self-contained HTML page)."""
