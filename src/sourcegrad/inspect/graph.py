"""The picture of a gradient: the forward dataflow and the backward accumulation, as a graph.

Built from the normal form and the activity analysis (not from a run, unlike torchviz):

* one node per value (a parameter, or a line of the normal form), labelled with its name and
  the operation that made it; ``wrt`` inputs are marked, the output is bold;
* solid black edges: the forward dataflow, argument -> result;
* dashed red edges: the backward accumulation, result -> argument, one per contribution
  (``b_x = b_x + ...``); an accumulator that receives several contributions says so on its node;
* grey nodes: inactive values, which get no accumulator (what ``requires_grad=False`` prunes);
* boxes around loops, branches, no_grad regions and calls.

``to_dot`` gives Graphviz text (always available); ``render`` runs the ``dot`` program for
SVG/PNG when it is installed (Debian package ``graphviz``); ``to_svg`` is a small built-in
layered layout, used by the HTML report when ``dot`` is not installed.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from dataclasses import dataclass, field

from ..ad.activity import differentiable_args
from ..backend.emit import expr_text
from ..errors import SourcegradError
from ..normal import ir

__all__ = ["Graph", "build_graph", "to_dot", "to_svg", "render", "GraphvizMissing"]


class GraphvizMissing(SourcegradError, RuntimeError):
    """The ``dot`` program (Graphviz) is needed for SVG/PNG output and is not installed.

    Fix: install it (Debian/Ubuntu: ``apt-get install graphviz``; macOS: ``brew install
    graphviz``), or ask for the DOT text (``.dot``), which needs nothing.
    """


@dataclass
class Node:
    id: str
    label: str
    kind: str = "value"  # "input", "wrt", "value", "output"
    active: bool = True
    contributions: int = 0
    cluster: str | None = None


@dataclass
class Graph:
    nodes: dict = field(default_factory=dict)  # id -> Node
    edges: list = field(default_factory=list)  # (src, dst, kind, label); kind forward/backward/carry
    clusters: dict = field(default_factory=dict)  # id -> (label, parent cluster or None)
    title: str = ""


def build_graph(transformed) -> Graph:
    fn = transformed.normal
    act = transformed.activity
    wrt_leaves = {name for name in act.varied if name in transformed.wrt_leaves}
    g = Graph(
        title=f"{fn.name}: forward dataflow and backward accumulation (wrt {', '.join(transformed.wrt)})"
    )
    counts: dict[str, int] = {}

    def node(name, label, kind="value", cluster=None):
        if name not in g.nodes:
            g.nodes[name] = Node(name, label, kind, act.is_active(name) or name in wrt_leaves, 0, cluster)
        return g.nodes[name]

    def edge(src, dst, active_flow, label=""):
        if not isinstance(src, ir.Name):
            return
        node(src.id, src.id, "global" if src.id in fn.globals_used else "value")
        g.edges.append((src.id, dst, "forward", label))
        if active_flow and act.is_active(dst) and act.is_active(src.id):
            g.edges.append((dst, src.id, "backward", "+"))
            counts[src.id] = counts.get(src.id, 0) + 1

    for p in fn.params:
        node(p, p, "wrt" if p in wrt_leaves else "input")

    def block(stmts, cluster, no_grad=False):
        for s in stmts:
            if isinstance(s, ir.Assign):
                text = f"{s.target} = {expr_text(s.value)}"
                n = node(s.target, text if len(text) <= 34 else text[:31] + "...", cluster=cluster)
                n.cluster = cluster
                diff = {a.id for _, a, _ in differentiable_args(s.value)} if not no_grad else set()
                for arg in ir.names_read(s.value):
                    edge(ir.Name(arg), s.target, arg in diff)
            elif isinstance(s, ir.Unpack):
                for t in ir._flat(s.targets):
                    node(t, f"{t}\nunpack", cluster=cluster)
                    edge(s.value, t, False)
            elif isinstance(s, ir.NoGrad):
                cid = f"cluster_nograd_{s.origin.line}"
                g.clusters[cid] = (f"no_grad (line {s.origin.line})", cluster)
                block(s.body, cid, True)
            elif isinstance(s, (ir.For, ir.While)):
                cid = f"cluster_{s.name}"
                g.clusters[cid] = (f"{s.origin.text} (line {s.origin.line})", cluster)
                if isinstance(s, ir.For):
                    for t in s.targets:
                        node(t, f"{t}\nloop index", cluster=cid)
                for c in s.carry:
                    node(c.param, f"{c.param}\ncarried in", cluster=cid)
                    edge(c.init, c.param, True, "init")
                if isinstance(s, ir.While):
                    block(s.test_body, cid)
                block(s.body, cid)
                for c in s.carry:
                    node(c.out, f"{c.out}\nafter the loop", cluster=cluster)
                    edge(ir.Name(c.update), c.out, True, "last")
                    g.edges.append((c.update, c.param, "carry", "next iteration"))
            elif isinstance(s, ir.If):
                cid = f"cluster_{s.name}"
                g.clusters[cid] = (f"{s.origin.text} (line {s.origin.line})", cluster)
                block(s.body, cid)
                block(s.orelse, cid)
                for out, a, b in s.outputs:
                    node(out, f"{out}\nmerge", cluster=cluster)
                    edge(a, out, True, "then")
                    edge(b, out, True, "else")
                if isinstance(s.test, ir.Name):
                    node(s.test.id, s.test.id)
            elif isinstance(s, ir.CallFn):
                cid = f"cluster_call_{s.targets[0]}"
                g.clusters[cid] = (f"call {s.callee}() (line {s.origin.line})", cluster)
                for t in s.targets:
                    node(t, f"{t}\n{s.callee}()", cluster=cid)
                    for a in s.args:
                        edge(a, t, True)
            elif isinstance(s, ir.Return):
                for name in ir.names_read(s.value):
                    g.nodes.setdefault(name, Node(name, name)).kind = "output"

    block(fn.body, None)
    for name, n in counts.items():
        if name in g.nodes:
            g.nodes[name].contributions = n
    return g


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(g: Graph) -> str:
    out = [
        "digraph sourcegrad {",
        "  rankdir=TB;",
        f"  label={_quote(g.title)}; labelloc=t;",
        '  node [fontname="Helvetica", fontsize=10, shape=box, style="rounded"];',
        '  edge [fontname="Helvetica", fontsize=8];',
    ]

    def node_line(n: Node) -> str:
        label = n.label
        attrs = []
        if n.contributions >= 2:
            label += f"\nb_{n.id}: {n.contributions} contributions"
            attrs.append('color="#c2255c"')
        if n.kind == "wrt":
            attrs += ["shape=doubleoctagon", 'style="filled"', 'fillcolor="#ffe3ec"']
        elif n.kind in ("input", "global"):
            attrs += ["shape=ellipse"]
        elif n.kind == "output":
            attrs += ['style="rounded,bold"', "penwidth=2"]
        if not n.active:
            attrs += ['fontcolor="#999999"', 'color="#bbbbbb"', 'style="rounded,dashed"']
        return f"    {_quote(n.id)} [label={_quote(label)}{', ' if attrs else ''}{', '.join(attrs)}];"

    children: dict = {}
    for cid, (_, parent) in g.clusters.items():
        children.setdefault(parent, []).append(cid)

    def emit_cluster(cid, indent):
        label, _ = g.clusters[cid]
        pad = "  " * indent
        out.append(f"{pad}subgraph {_quote(cid)} {{")
        out.append(f'{pad}  label={_quote(label)}; style=dashed; color="#888888";')
        for n in g.nodes.values():
            if n.cluster == cid:
                out.append(f"{pad}  {node_line(n).strip()}")
        for child in children.get(cid, []):
            emit_cluster(child, indent + 1)
        out.append(f"{pad}}}")

    for n in g.nodes.values():
        if n.cluster is None:
            out.append(node_line(n))
    for cid in children.get(None, []):
        emit_cluster(cid, 1)
    for src, dst, kind, label in g.edges:
        if src not in g.nodes or dst not in g.nodes:
            continue
        style = {
            "forward": "",
            "backward": ', color="#c2255c", style=dashed, constraint=false',
            "carry": ', color="#1c7ed6", style=dotted, constraint=false',
        }[kind]
        lab = f", label={_quote(label)}" if label else ""
        out.append(f"  {_quote(src)} -> {_quote(dst)} [{lab.lstrip(', ')}{style}];".replace("[, ", "["))
    out.append("}")
    return "\n".join(out) + "\n"


def render(dot_text: str, fmt: str) -> bytes:
    """SVG or PNG bytes from DOT text, with the ``dot`` program."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizMissing(
            f"`{fmt}` output needs the `dot` program of Graphviz, which is not installed. "
            f"Install it (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz), "
            f"or write .dot to get the graph as text"
        )
    done = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode(), capture_output=True, check=False)
    if done.returncode != 0:
        raise SourcegradError(f"dot failed: {done.stderr.decode(errors='replace')[:500]}")
    return done.stdout


def to_svg(g: Graph) -> str:
    """A small built-in layered layout (no Graphviz): forward edges go down the page."""
    order = list(g.nodes)
    preds: dict = {n: [] for n in order}
    for src, dst, kind, _ in g.edges:
        if kind == "forward" and src in preds and dst in preds and src != dst:
            preds[dst].append(src)
    depth: dict = {}

    def level(n, seen=()):
        if n in depth:
            return depth[n]
        if n in seen:
            return 0
        depth[n] = 1 + max((level(p, seen + (n,)) for p in preds[n]), default=-1)
        return depth[n]

    for n in order:
        level(n)
    rows: dict = {}
    for n in order:
        rows.setdefault(depth[n], []).append(n)
    box_w, box_h, gap_x, gap_y = 150, 40, 30, 50
    widest = max((len(r) for r in rows.values()), default=1)
    width = widest * (box_w + gap_x) + gap_x
    height = (max(rows, default=0) + 1) * (box_h + gap_y) + gap_y + 20
    pos = {}
    for d, names in rows.items():
        offset = (width - len(names) * (box_w + gap_x) + gap_x) / 2
        for i, n in enumerate(names):
            pos[n] = (offset + i * (box_w + gap_x), 30 + d * (box_h + gap_y))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="graph" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica" '
        f'font-size="10">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z"/></marker>'
        '<marker id="arrow-red" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" '
        'fill="#c2255c"/></marker></defs>',
        f'<text x="10" y="16" font-size="12">{html.escape(g.title)}</text>',
    ]
    for src, dst, kind, _ in g.edges:
        if src not in pos or dst not in pos or kind == "carry":
            continue
        (x1, y1), (x2, y2) = pos[src], pos[dst]
        if kind == "forward":
            parts.append(
                f'<path d="M {x1 + box_w / 2:.0f} {y1 + box_h:.0f} L {x2 + box_w / 2:.0f} '
                f'{y2:.0f}" stroke="#444" fill="none" marker-end="url(#arrow)"/>'
            )
        else:
            parts.append(
                f'<path d="M {x1 + box_w / 2 + 8:.0f} {y1:.0f} L {x2 + box_w / 2 + 8:.0f} '
                f'{y2 + box_h:.0f}" stroke="#c2255c" stroke-dasharray="4 3" fill="none" '
                f'marker-end="url(#arrow-red)"/>'
            )
    for n, (x, y) in pos.items():
        node = g.nodes[n]
        fill = {"wrt": "#ffe3ec", "output": "#e7f5ff"}.get(node.kind, "#ffffff")
        stroke = "#bbbbbb" if not node.active else ("#c2255c" if node.contributions >= 2 else "#333")
        dash = ' stroke-dasharray="3 2"' if not node.active else ""
        parts.append(
            f'<g class="node" data-name="{html.escape(n)}"><rect x="{x:.0f}" y="{y:.0f}" '
            f'width="{box_w}" height="{box_h}" rx="6" fill="{fill}" stroke="{stroke}"{dash}/>'
        )
        lines = node.label.split("\n")
        if node.contributions >= 2:
            lines.append(f"{node.contributions} contributions")
        for i, text in enumerate(lines[:3]):
            color = "#999" if not node.active else "#111"
            parts.append(
                f'<text x="{x + box_w / 2:.0f}" y="{y + 14 + i * 12:.0f}" text-anchor="middle" '
                f'fill="{color}">{html.escape(text if len(text) <= 26 else text[:24] + "..")}'
                f"</text>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)
