"""The functions of the data-parallel tests (tests/test_devices.py): a two-layer MLP's loss on one
device's shard of the batch, as a sum (its part of the total: lax.psum) and as a mean over the
shard (lax.pmean). The golden file ``mlp_shard.axis_name.golden.py`` holds the first's gradient."""

import numpy as np


def mlp_shard_loss(W1, b1, W2, x, y):
    h = np.tanh(x @ W1 + b1)
    return np.sum((h @ W2 - y) ** 2)


def mlp_shard_mean(W1, b1, W2, x, y):
    h = np.tanh(x @ W1 + b1)
    return np.mean((h @ W2 - y) ** 2)
