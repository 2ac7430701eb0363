"""The version of sourcegrad (one place; pyproject.toml repeats it for the packaging tools)."""

__version__ = "0.1.0"
