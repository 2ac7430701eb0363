"""The shared corpus: functions run through every mode and compared with jax and finite differences."""
