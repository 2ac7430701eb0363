"""An equinox module whose core is NumPy-style code with sourcegrad's generated backward pass.

`rbf` (a radial-basis feature map) is written with NumPy; `sourcegrad.custom_vjp` makes it a JAX
function with sourcegrad's gradient. `RBFNet` is an ordinary `equinox.Module`, trained with
`equinox.filter_value_and_grad` and optax; the same model with the feature map written in
jax.numpy and differentiated by JAX trains to the same parameters.

Run: python examples/equinox_custom_vjp.py
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

import sourcegrad


def rbf(centers, log_width, x):
    d = x[:, None, :] - centers[None, :, :]
    return np.exp(-np.sum(d * d, axis=-1) * np.exp(-log_width))


rbf_features = sourcegrad.custom_vjp(rbf, wrt=("centers", "log_width"))


def rbf_jax(centers, log_width, x):
    d = x[:, None, :] - centers[None, :, :]
    return jnp.exp(-jnp.sum(d * d, axis=-1) * jnp.exp(-log_width))


class RBFNet(eqx.Module):
    centers: jax.Array
    log_width: jax.Array
    head: eqx.nn.Linear
    features: object = eqx.field(static=True)

    def __call__(self, x):
        return jax.vmap(self.head)(self.features(self.centers, self.log_width, x))


def train(features, steps=40):
    key = jax.random.PRNGKey(0)
    k1, k2, k3 = jax.random.split(key, 3)
    model = RBFNet(jax.random.normal(k1, (12, 2)), jnp.zeros(()), eqx.nn.Linear(12, 1, key=k2),
                   features)
    x = jax.random.uniform(k3, (128, 2), minval=-2.0, maxval=2.0)
    y = jnp.sin(x[:, :1]) * jnp.cos(x[:, 1:])
    opt = optax.adam(0.03)
    state = opt.init(eqx.filter(model, eqx.is_array))

    @eqx.filter_jit
    def step(model, state):
        loss, grads = eqx.filter_value_and_grad(lambda m: jnp.mean((m(x) - y) ** 2))(model)
        updates, state = opt.update(grads, state, model)
        return eqx.apply_updates(model, updates), state, loss

    losses = []
    for _ in range(steps):
        model, state, loss = step(model, state)
        losses.append(float(loss))
    return model, losses


def main():
    ours, losses = train(rbf_features)
    theirs, ref = train(rbf_jax)
    print(f"loss: {losses[0]:.4f} -> {losses[-1]:.4f} (sourcegrad feature map)")
    print(f"loss: {ref[0]:.4f} -> {ref[-1]:.4f} (jax.grad throughout)")
    a = jax.tree_util.tree_leaves(eqx.filter(ours, eqx.is_array))
    b = jax.tree_util.tree_leaves(eqx.filter(theirs, eqx.is_array))
    gap = max(float(jnp.max(jnp.abs(u - v))) for u, v in zip(a, b))
    print(f"max parameter difference after training: {gap:.2e}")


if __name__ == "__main__":
    main()
