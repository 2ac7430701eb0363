"""Shared test setup: float64 everywhere (the oracles are float64 finite differences)."""

import jax

jax.config.update("jax_enable_x64", True)
