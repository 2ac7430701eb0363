"""How the suite reports: the table lines, the verdict per target, and the plot."""

from __future__ import annotations

import statistics

import numpy as np


def _ms(seconds):
    return "       -" if seconds is None else f"{seconds * 1e3:8.2f}"


def _ratio(a, b):
    return "     -" if a is None or b is None else f"{a / b:6.2f}"


HEADER = (
    "workload            rel.err |  first call ms     |  steady ms                        "
    "| ratios                          | XLA temp MB"
)


SUBHEAD = (
    "                            |   ours  jax-user   |   ours   expert  torch  primal  "
    "| /expert  torch/ours  grad/primal | ours  expert"
)


def _line(r) -> str:
    def mb(b):
        return "     -" if b is None else f"{b / 1e6:6.1f}"

    return (
        f"{r['workload']:19s} {r['error']:7.1e} | {_ms(r['sourcegrad_first_s'])} "
        f"{_ms(r['jax_user_first_s'])} | {_ms(r['sourcegrad_s'])} {_ms(r['jax_expert_s'])} "
        f"{_ms(r['torch_s'])} {_ms(r['primal_s'])} | {_ratio(r['sourcegrad_s'], r['jax_expert_s'])} "
        f"   {_ratio(r['torch_s'], r['sourcegrad_s'])}        {_ratio(r['sourcegrad_s'], r['primal_s'])}  "
        f"| {mb(r['sourcegrad_temp_bytes'])} {mb(r['jax_expert_temp_bytes'])}"
    )


def verdicts(rows, scaling, ckpt) -> list[str]:
    """The issue's targets, each with the measured figure and whether it is met."""

    def mark(ok):
        return "met" if ok else "NOT MET"

    out = []
    ratios = {r["workload"]: r["sourcegrad_s"] / r["jax_expert_s"] for r in rows if r["jax_expert_s"]}
    worst = max(ratios.items(), key=lambda kv: kv[1])
    out.append(
        f"steady vs jax.grad (expert), every workload <= 1.05x: worst {worst[1]:.2f}x ({worst[0]}) "
        f"-> {mark(worst[1] <= 1.05)}"
    )
    med = statistics.median(ratios.values())
    out.append(f"steady vs jax.grad (expert), median <= 1.0x: {med:.2f}x -> {mark(med <= 1.0)}")
    loops = [r for r in rows if r["kind"] == "loop"]
    for r in loops:
        if r["jax_user_first_s"] is None:
            out.append(
                f"first call, {r['workload']}: {r['sourcegrad_first_s']:.2f} s vs jax.jit(jax.grad) "
                f"of the Python loop: {r['jax_user_note']} -> met"
            )
        else:
            ratio = r["sourcegrad_first_s"] / r["jax_user_first_s"]
            out.append(
                f"first call, {r['workload']}: {ratio:.2f}x of jax.jit(jax.grad) of the Python "
                f"loop (<= 0.5x) -> {mark(ratio <= 0.5)}"
            )
    worst_primal = max(rows, key=lambda r: r["sourcegrad_s"] / r["primal_s"])
    wp = worst_primal["sourcegrad_s"] / worst_primal["primal_s"]
    expert_wp = (
        f"{worst_primal['jax_expert_s'] / worst_primal['primal_s']:.2f}x"
        if worst_primal["jax_expert_s"]
        else "-"
    )
    out.append(
        f"gradient / primal time, every workload <= 3x: worst {wp:.2f}x ({worst_primal['workload']}; "
        f"jax.grad (expert): {expert_wp}) -> {mark(wp <= 3)}"
    )
    torch_rows = [r for r in rows if r["torch_s"] and r["kind"] in ("loop", "while", "long")]
    if torch_rows:
        least = min(torch_rows, key=lambda r: r["torch_s"] / r["sourcegrad_s"])
        lr = least["torch_s"] / least["sourcegrad_s"]
        out.append(
            f"faster than PyTorch eager on small and loop workloads, >= 3x: least {lr:.1f}x "
            f"({least['workload']}) -> {mark(lr >= 3)}"
        )
    else:
        out.append("PyTorch is not installed: no PyTorch column (pip install torch)")
    s100 = next(s for s in scaling if s["statements"] == 100)["transform_s"]
    per_line = [s["transform_s"] / s["statements"] * 1e3 for s in scaling]
    out.append(
        f"transform time, 100 lines < 50 ms: {s100 * 1e3:.1f} ms -> {mark(s100 < 0.05)}; "
        f"per line at {', '.join(str(s['statements']) for s in scaling)} lines: "
        f"{', '.join(f'{p:.2f}' for p in per_line)} ms (linear growth: flat per-line cost)"
    )
    cut = ckpt["plain_temp_bytes"] / ckpt["checkpoint_temp_bytes"]
    slow = ckpt["checkpoint_s"] / ckpt["plain_s"]
    out.append(
        f"checkpointing at {ckpt['steps']} steps (RK4): tape memory {cut:.0f}x smaller for "
        f"{slow:.2f}x the time (>= 10x for <= 2x) -> {mark(cut >= 10 and slow <= 2)}"
    )
    return out


def plot(result, path):
    """Three panels, one row per workload: vs jax.grad (expert), vs PyTorch eager, vs the primal."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullLocator

    rows = result["workloads"]
    names = [r["workload"] for r in rows]
    y = np.arange(len(rows))
    panels = [
        (
            "sourcegrad / jax.grad (expert)",
            [r["sourcegrad_s"] / r["jax_expert_s"] if r["jax_expert_s"] else None for r in rows],
            1.05,
            "<= 1.05x",
            "#1c7ed6",
            "linear",
            "no expert version",
        ),
        (
            "PyTorch eager / sourcegrad",
            [r["torch_s"] / r["sourcegrad_s"] if r.get("torch_s") else None for r in rows],
            3.0,
            ">= 3x",
            "#e8590c",
            "log",
            "no PyTorch (pip install torch)",
        ),
        (
            "sourcegrad gradient / primal",
            [r["sourcegrad_s"] / r["primal_s"] for r in rows],
            3.0,
            "<= 3x",
            "#2b8a3e",
            "linear",
            "",
        ),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(14, 0.45 * len(rows) + 1.6), sharey=True)
    for ax, (label, values, target, target_label, color, scale, missing) in zip(axes, panels):
        widths = [v if v is not None else 0 for v in values]
        ax.barh(y, widths, color=color)
        ax.axvline(target, color="#c92a2a", lw=1, ls="--", label=f"target {target_label}")
        if scale == "log":
            ax.set_xscale("log")
            ax.xaxis.set_minor_locator(NullLocator())
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
        else:
            ax.axvline(1.0, color="k", lw=0.8)
        top = max([v for v in values if v is not None] or [target])  # no torch: an empty panel
        for yi, v in zip(y, values):
            text = f"{v:.2f}x" if v is not None else missing
            ax.text(
                v if v is not None else (1 if scale == "log" else 0), yi, " " + text, va="center", fontsize=8
            )
        ax.set_xlim(1 if scale == "log" else 0, top * (3 if scale == "log" else 1.3))
        ax.set_xlabel(label)
        ax.legend(loc="lower right", fontsize=8)
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    fig.suptitle(f"sourcegrad gradients, steady state ({result['platform']})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
