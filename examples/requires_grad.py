"""What requires_grad=False prunes, and what no_grad() does (seed pages 002 and 003).

In PyTorch an output needs a gradient if any input does; the rest of the graph is skipped at run
time. Here `wrt` names what requires a gradient, and activity analysis prunes the rest before
anything runs: the generated backward has no code at all for the frozen layer, and a comment
saying why. Values computed under `with no_grad():` are constants for the backward pass.

Run: python examples/requires_grad.py
"""

import numpy as np

from sourcegrad import grad, no_grad, stop_gradient


def two_layer_loss(W1, W2, x, y):
    h = np.tanh(x @ W1)
    out = h @ W2
    return np.mean((out - y) ** 2)


def normalized_loss(w, x):
    with no_grad():
        scale = np.sqrt(np.sum(w ** 2))  # a constant for the backward pass
    target = stop_gradient(x @ w)       # x.detach()
    return np.sum((x @ w / scale - 0.5 * target) ** 2)


def backward_of(g):
    """The backward section of the gradient function (the last one in the module)."""
    section = g.source.split("# == backward")[-1].split("# == the primal")[0]
    return "\n" + "\n".join(section.splitlines()[1:]).rstrip()


def main():
    frozen = grad(two_layer_loss, wrt="W2")          # W1.requires_grad = False
    both = grad(two_layer_loss, wrt=("W1", "W2"))
    print("---- backward with W1 frozen (wrt W2 only):" + backward_of(frozen))
    print("---- backward with both layers trainable:" + backward_of(both))
    rng = np.random.default_rng(0)
    W1, W2 = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    g2 = frozen(W1, W2, x, y)
    _, g2_both = both(W1, W2, x, y)
    print("the W2 gradient is the same either way:", np.allclose(g2, g2_both))
    print("---- no_grad and stop_gradient:" + backward_of(grad(normalized_loss)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
