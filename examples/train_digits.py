"""A small model trained end to end with sourcegrad: a 64-32-10 MLP on scikit-learn's digits.

The dataset ships inside scikit-learn (no download). The gradient of the cross-entropy with
respect to a dict of parameters comes back as a dict; Adam updates it. A progress bar shows the
training (tqdm if installed) and the loss curve is saved as a PNG (matplotlib).

Run: python examples/train_digits.py [--epochs 30] [--out examples/out]
"""

import argparse
import pathlib
import time

import numpy as np

from sourcegrad import grad, stop_gradient


def cross_entropy(params, x, onehot):
    h = np.tanh(x @ params["W1"] + params["b1"])
    z = h @ params["W2"] + params["b2"]
    m = stop_gradient(np.max(z, axis=1, keepdims=True))  # for stability only
    logp = z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
    return -np.mean(np.sum(onehot * logp, axis=1))


def predict(params, x):
    h = np.tanh(x @ params["W1"] + params["b1"])
    return np.argmax(h @ params["W2"] + params["b2"], axis=1)


def load(seed=0):
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target
    order = np.random.default_rng(seed).permutation(len(y))
    x, y = x[order], y[order]
    split = int(0.8 * len(y))
    return x[:split], y[:split], x[split:], y[split:]


def progress(iterable, total, desc):
    try:
        from tqdm import tqdm
    except ImportError:  # a plain one-line bar
        def bar():
            for i, item in enumerate(iterable):
                if i % max(1, total // 20) == 0:
                    print(f"\r{desc} [{'#' * (20 * i // total):<20}]", end="", flush=True)
                yield item
            print()
        return bar()
    return tqdm(iterable, total=total, desc=desc, ncols=80)


def train(epochs=30, batch=64, lr=0.01, seed=0, out="examples/out"):
    x_train, y_train, x_test, y_test = load(seed)
    rng = np.random.default_rng(seed)
    params = {"W1": rng.standard_normal((64, 32)).astype(np.float32) * 0.2,
              "b1": np.zeros(32, np.float32),
              "W2": rng.standard_normal((32, 10)).astype(np.float32) * 0.2,
              "b2": np.zeros(10, np.float32)}
    onehot = np.eye(10, dtype=np.float32)
    g = grad(cross_entropy, wrt="params").value_and_grad
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(p) for k, p in params.items()}
    losses, t, start = [], 0, time.perf_counter()
    steps = epochs * (len(y_train) // batch)
    batches = ((e, i) for e in range(epochs) for i in range(len(y_train) // batch))
    for epoch, i in progress(batches, steps, "training"):
        if i == 0:
            order = rng.permutation(len(y_train))
        idx = order[i * batch:(i + 1) * batch]
        value, grads = g(params, x_train[idx], onehot[y_train[idx]])
        losses.append(float(value))
        t += 1
        for k in params:  # Adam
            gk = np.asarray(grads[k])
            m[k] = 0.9 * m[k] + 0.1 * gk
            v[k] = 0.999 * v[k] + 0.001 * gk * gk
            params[k] = params[k] - lr * (m[k] / (1 - 0.9 ** t)) / (np.sqrt(v[k] / (1 - 0.999 ** t)) + 1e-8)
    seconds = time.perf_counter() - start
    train_acc = float(np.mean(predict(params, x_train) == y_train))
    test_acc = float(np.mean(predict(params, x_test) == y_test))
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    curve = out / "digits_loss.png"
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(losses, lw=0.8, label="mini-batch loss")
    window = 20
    if len(losses) > window:
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax.plot(np.arange(window - 1, len(losses)), smooth, lw=2, label=f"mean of {window}")
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy")
    ax.set_yscale("log")
    ax.set_title("64-32-10 MLP on digits, gradients by sourcegrad")
    ax.legend()
    fig.tight_layout()
    fig.savefig(curve, dpi=120)
    print(f"{steps} steps in {seconds:.1f} s; final loss {np.mean(losses[-20:]):.4f}; "
          f"train accuracy {train_acc:.3f}; test accuracy {test_acc:.3f}; loss curve: {curve}")
    return test_acc


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--out", default="examples/out")
    args = parser.parse_args()
    return 0 if train(args.epochs, out=args.out) > 0.9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
