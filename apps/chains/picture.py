"""The chain picture: functions as boxes, relationships as arrows labelled with their conditions and transformations.

Drawn on the server as SVG, so the admin shows it with no JavaScript and nothing fetched from anywhere.
Functions are laid out left to right in layers (longest path from the entry functions; an edge that
closes a cycle is drawn as a return arc below the boxes), ordered within a layer by where their
predecessors sit. Colours come from the admin's CSS variables, so the picture follows its dark mode.
"""

from __future__ import annotations

import textwrap
from collections import defaultdict
from dataclasses import dataclass

from django.utils.html import escape

from apps.chains.models import Chain, Relationship, TransformationKind
from apps.chains.selectors import relationship_list

NODE_HEIGHT = 40
ROW_GAP = 72
MIN_COLUMN_GAP = 100
MARGIN = 24
CHAR_WIDTH = 7.0  # an estimate for 12px sans-serif; SVG cannot measure text on the server
LABEL_CHARS = 36
LABEL_CHAR_WIDTH = 6.6  # 11px monospace

STYLE = """
.chain-node rect { fill: var(--body-bg, #fff); stroke: var(--primary, #79aec8); stroke-width: 1.5; }
.chain-node.entry rect { stroke-width: 3; }
.chain-node text { fill: var(--body-fg, #333); font: 12px sans-serif; }
.chain-edge path { fill: none; stroke: var(--body-quiet-color, #666); stroke-width: 1.5; }
.chain-edge.llm path { stroke: #8e5bd6; }
.chain-edge.inactive path { stroke-dasharray: 5 4; opacity: 0.6; }
.chain-edge-label rect { fill: var(--body-bg, #fff); opacity: 0.9; }
.chain-edge-label text { fill: var(--body-fg, #333); font: 11px monospace; }
.chain-arrow { fill: var(--body-quiet-color, #666); }
"""


@dataclass(frozen=True)
class Box:
    name: str
    x: float
    y: float
    width: float
    entry: bool


def chain_picture_svg(*, chain: Chain) -> str:
    """The chain as an SVG document (a `<p>` saying so when it has no relationships yet)."""
    relationships = list(relationship_list().filter(chain=chain).order_by("pk")) if chain.pk else []
    if not relationships:
        return '<p class="chain-picture-empty">No relationships yet: add one below to see the chain.</p>'
    return relationships_svg(relationships, title=f"Chain {chain.name}")


def relationships_svg(relationships: list[Relationship], *, title: str) -> str:
    edges = [(r.trigger.qualified_name, r.action.qualified_name, r) for r in relationships]
    boxes, back = _layout(edges)
    arcs = sum(1 for s, t, _ in edges if (s, t) in back or s == t)
    width = max(b.x + b.width for b in boxes.values()) + MARGIN
    bottom = max(b.y for b in boxes.values()) + NODE_HEIGHT
    height = bottom + MARGIN + (20 + 28 * arcs if arcs else 0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chain-picture" role="img" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" style="max-width: 100%; height: auto" '
        f'aria-label="{escape(title)}: {len(boxes)} functions, {len(edges)} relationships">',
        f"<title>{escape(title)}</title><style>{STYLE}</style>",
        '<defs><marker id="chain-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path class="chain-arrow" d="M0,0 L10,5 L0,10 z"/></marker></defs>',
    ]
    ends = _ports(edges, boxes, back)
    siblings: dict[tuple[str, str], int] = defaultdict(int)
    arrows, labels, back_rank = [], [], 0
    for index, (source, target, relationship) in enumerate(edges):
        pair = (source, target)
        offset = siblings[pair]
        siblings[pair] += 1
        if pair in back or source == target:
            back_rank += 1
            path, anchor = _arc_below(boxes[source], boxes[target], bottom + 20 + 28 * back_rank)
        else:
            path, anchor = _curve(*ends[index], offset)
        arrow, label = _edge(relationship, source, target, path, anchor)
        arrows.append(arrow)
        labels.append(label)
    # Arrows first, their labels over every arrow, the boxes over everything.
    parts.extend(arrows)
    parts.extend(labels)
    parts.extend(_node(box) for box in boxes.values())
    parts.append("</svg>")
    return "".join(parts)


Point = tuple[float, float]


def _ports(edges: list[tuple[str, str, Relationship]], boxes: dict[str, Box],
           back: set[tuple[str, str]]) -> dict[int, tuple[Point, Point]]:
    """Start and end points of forward edges, spread along the boxes' sides in the order of the far ends,
    so the arrows of a fan-out (or a fan-in) leave (or arrive) apart instead of from one point."""
    outgoing: dict[str, list[int]] = defaultdict(list)
    incoming: dict[str, list[int]] = defaultdict(list)
    for index, (source, target, _) in enumerate(edges):
        if (source, target) not in back and source != target:
            outgoing[source].append(index)
            incoming[target].append(index)

    def spread(box: Box, members: list[int], far: dict[int, float], x: float) -> dict[int, Point]:
        ordered = sorted(members, key=lambda i: (far[i], i))
        return {i: (x, box.y + NODE_HEIGHT * (rank + 1) / (len(ordered) + 1)) for rank, i in enumerate(ordered)}

    starts: dict[int, Point] = {}
    finishes: dict[int, Point] = {}
    for name, members in outgoing.items():
        box = boxes[name]
        starts.update(spread(box, members, {i: boxes[edges[i][1]].y for i in members}, box.x + box.width))
    for name, members in incoming.items():
        box = boxes[name]
        finishes.update(spread(box, members, {i: boxes[edges[i][0]].y for i in members}, box.x))
    return {i: (starts[i], finishes[i]) for i in starts}


def _layout(edges: list[tuple[str, str, Relationship]]) -> tuple[dict[str, Box], set[tuple[str, str]]]:
    """Boxes by function name, and the (source, target) pairs that close a cycle."""
    names = sorted({name for s, t, _ in edges for name in (s, t)})
    successors: dict[str, list[str]] = defaultdict(list)
    incoming: dict[str, int] = defaultdict(int)
    for source, target, _ in edges:
        if target not in successors[source]:
            successors[source].append(target)
            if source != target:
                incoming[target] += 1
    back = _back_edges(names, successors, incoming)
    forward = [(s, t) for s in names for t in successors[s] if s != t and (s, t) not in back]
    layer = {name: 0 for name in names}
    for name in _topological(names, forward):
        for source, target in forward:
            if source == name:
                layer[target] = max(layer[target], layer[name] + 1)
    columns: dict[int, list[str]] = defaultdict(list)
    for name in names:
        columns[layer[name]].append(name)
    row: dict[str, float] = {}
    for index in sorted(columns):
        preds = {t: [row[s] for s, tt in forward if tt == t and s in row] for t in columns[index]}
        columns[index].sort(key=lambda n: (sum(preds[n]) / len(preds[n]) if preds[n] else 0.0, n))
        for position, name in enumerate(columns[index]):
            row[name] = position
    tallest = max(len(members) for members in columns.values())
    # The gap after a column is as wide as the widest label of the arrows leaving it.
    gaps: dict[int, float] = defaultdict(lambda: MIN_COLUMN_GAP)
    for source, target, relationship in edges:
        if source != target and (source, target) not in back:
            gaps[layer[source]] = max(gaps[layer[source]], _label_width(_label_lines(relationship)) + 60)
    boxes: dict[str, Box] = {}
    x = float(MARGIN)
    for index in sorted(columns):
        members = columns[index]
        column_width = max(_node_width(name) for name in members)
        top = MARGIN + (tallest - len(members)) * (NODE_HEIGHT + ROW_GAP) / 2
        for position, name in enumerate(members):
            width = _node_width(name)
            boxes[name] = Box(name, x + (column_width - width) / 2, top + position * (NODE_HEIGHT + ROW_GAP), width,
                              entry=incoming[name] == 0)
        x += column_width + gaps[index]
    return boxes, back


def _back_edges(names: list[str], successors: dict[str, list[str]], incoming: dict[str, int]) -> set[tuple[str, str]]:
    """Edges into a node still on the depth-first stack: the ones that close cycles. Entries are visited first."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[tuple[str, str]] = set()

    def visit(name: str) -> None:
        state[name] = 1
        for target in successors[name]:
            if state.get(target) == 1 and target != name:
                back.add((name, target))
            elif target not in state:
                visit(target)
        state[name] = 2

    for name in sorted(names, key=lambda n: (incoming[n] > 0, n)):
        if name not in state:
            visit(name)
    return back


def _topological(names: list[str], forward: list[tuple[str, str]]) -> list[str]:
    pending = {name: sum(1 for _, t in forward if t == name) for name in names}
    ready = sorted(name for name, count in pending.items() if count == 0)
    order: list[str] = []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for source, target in forward:
            if source == name:
                pending[target] -= 1
                if pending[target] == 0:
                    ready.append(target)
    return order


def _node_width(name: str) -> float:
    return max(120.0, CHAR_WIDTH * len(name) + 24)


def _curve(start: Point, end: Point, offset: int) -> tuple[str, Point]:
    """A left-to-right cubic curve; parallel relationships between the same functions bow apart."""
    (x1, y1), (x2, y2) = start, end
    bow = (offset + 1) // 2 * 36 * (1 if offset % 2 else -1)
    c1, c2 = (x1 + (x2 - x1) / 2, y1 + bow), (x1 + (x2 - x1) / 2, y2 + bow)
    middle = (0.125 * x1 + 0.375 * c1[0] + 0.375 * c2[0] + 0.125 * x2,
              0.125 * y1 + 0.375 * c1[1] + 0.375 * c2[1] + 0.125 * y2)
    return f"M{x1:.1f},{y1:.1f} C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {x2:.1f},{y2:.1f}", middle


def _arc_below(source: Box, target: Box, depth: float) -> tuple[str, tuple[float, float]]:
    """A return edge (or a self-loop) drawn under the boxes, from the source's bottom to the target's."""
    x1, y1 = source.x + source.width * 0.6, source.y + NODE_HEIGHT
    x2, y2 = target.x + target.width * 0.4, target.y + NODE_HEIGHT
    if source.name == target.name:
        x1, x2 = source.x + source.width * 0.7, source.x + source.width * 0.3
    path = f"M{x1:.1f},{y1:.1f} C{x1:.1f},{depth:.1f} {x2:.1f},{depth:.1f} {x2:.1f},{y2:.1f}"
    return path, ((x1 + x2) / 2, y1 + (depth - y1) * 0.75)


def _edge(relationship: Relationship, source: str, target: str, path: str, anchor: Point) -> tuple[str, str]:
    """The arrow (with its full description as a tooltip) and its label, drawn separately."""
    llm = relationship.transformation_kind == TransformationKind.LLM
    classes = " ".join(["chain-edge", *(["llm"] if llm else []), *([] if relationship.active else ["inactive"])])
    tooltip = "\n".join([f"{source} -> {target}", *_label_lines(relationship, limit=None)])
    arrow = (f'<g class="{classes}" data-relationship="{relationship.pk}" data-from="{escape(source)}" '
             f'data-to="{escape(target)}"><title>{escape(tooltip)}</title>'
             f'<path d="{path}" marker-end="url(#chain-arrow)"/></g>')
    lines = _label_lines(relationship)
    if not lines:
        return arrow, ""
    width = _label_width(lines)
    height = 14 * len(lines) + 6
    x, y = anchor[0] - width / 2, anchor[1] - height / 2
    spans = "".join(f'<tspan x="{anchor[0]:.1f}" dy="{0 if i == 0 else 14}">{escape(line)}</tspan>'
                    for i, line in enumerate(lines))
    label = (f'<g class="chain-edge-label" data-relationship="{relationship.pk}"><title>{escape(tooltip)}</title>'
             f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height}" rx="3"/>'
             f'<text x="{anchor[0]:.1f}" y="{y + 14:.1f}" text-anchor="middle">{spans}</text></g>')
    return arrow, label


def _label_width(lines: list[str]) -> float:
    return max((len(line) for line in lines), default=0) * LABEL_CHAR_WIDTH + 10


def _label_lines(relationship: Relationship, *, limit: int | None = LABEL_CHARS) -> list[str]:
    """Condition and transformation in at most two lines each (all of them for a tooltip, `limit` None)."""

    def wrap(text: str) -> list[str]:
        text = " ".join(text.split())
        if limit is None:
            return [text]
        return textwrap.wrap(text, width=limit, max_lines=2, placeholder=" …", break_long_words=True) or [text]

    lines = []
    if relationship.condition.strip():
        lines.extend(wrap(f"if {relationship.condition}"))
    if relationship.transformation.strip():
        prefix = "LLM: " if relationship.transformation_kind == TransformationKind.LLM else "→ "
        lines.extend(wrap(prefix + relationship.transformation))
    if relationship.delay_seconds:
        lines.append(f"after {relationship.delay_seconds} s")
    if not relationship.active:
        lines.append("(inactive)")
    return lines


def _node(box: Box) -> str:
    classes = "chain-node entry" if box.entry else "chain-node"
    return (f'<g class="{classes}" data-function="{escape(box.name)}"><title>{escape(box.name)}'
            f'{" (entry)" if box.entry else ""}</title>'
            f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" height="{NODE_HEIGHT}" rx="6"/>'
            f'<text x="{box.x + box.width / 2:.1f}" y="{box.y + NODE_HEIGHT / 2 + 4:.1f}" '
            f'text-anchor="middle">{escape(box.name)}</text></g>')
