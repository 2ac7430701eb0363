"""A sourcegrad gradient as the backward pass of one layer in an optax training step.

`hidden` is written with NumPy; `sourcegrad.custom_vjp` makes it a JAX function whose reverse rule
is sourcegrad's generated code. The rest of the model is plain JAX, the optimizer is optax.Adam,
and the whole step is one `jax.jit`. The same step with `hidden` written in jax.numpy and
differentiated by jax.grad gives the same losses.

Run: python examples/optax_custom_vjp.py
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax

import sourcegrad


def hidden(W, b, x):
    """One tanh layer, NumPy-style: its backward pass is sourcegrad's generated code."""
    return np.tanh(x @ W + b)


hidden_layer = sourcegrad.custom_vjp(hidden, wrt=("W", "b", "x"))


def make_loss(layer):
    def loss(params, x, y):
        h = layer(params["W1"], params["b1"], x)
        out = h @ params["W2"] + params["b2"]          # plain JAX after the sourcegrad layer
        return jnp.mean((out - y) ** 2)
    return loss


def train(layer, params, x, y, steps=60):
    opt = optax.adam(0.05)
    loss = make_loss(layer)

    @jax.jit
    def step(params, state):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, value

    state, losses = opt.init(params), []
    for _ in range(steps):
        params, state, value = step(params, state)
        losses.append(float(value))
    return params, losses


def main():
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(64, 4)), jnp.float32)
    y = jnp.sin(x @ jnp.asarray(rng.normal(size=(4, 2)), jnp.float32))
    params = {"W1": jnp.asarray(rng.normal(size=(4, 16)) * 0.5, jnp.float32),
              "b1": jnp.zeros(16, jnp.float32),
              "W2": jnp.asarray(rng.normal(size=(16, 2)) * 0.5, jnp.float32),
              "b2": jnp.zeros(2, jnp.float32)}
    ours, losses = train(hidden_layer, params, x, y)
    theirs, ref = train(lambda W, b, x: jnp.tanh(x @ W + b), params, x, y)
    print(f"loss: {losses[0]:.4f} -> {losses[-1]:.4f} (sourcegrad layer)")
    print(f"loss: {ref[0]:.4f} -> {ref[-1]:.4f} (jax.grad throughout)")
    gap = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree_util.tree_leaves(ours),
                                                              jax.tree_util.tree_leaves(theirs)))
    print(f"max parameter difference after training: {gap:.2e}")
    print("the layer's backward pass is this generated code:")
    backward = hidden_layer.source.split("# == backward")[1].split("# == the primal value")[0]
    print("\n".join(line for line in backward.splitlines()[1:] if line.strip()))


if __name__ == "__main__":
    main()
