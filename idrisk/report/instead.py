"""The board report's "what the requester could have instead" section, from its plain dict
(:func:`idrisk.anonymise.instead.alternative`): the route before and after, each indicator
before and after, the information lost per variable, the nodes tried by verification, and a
risk-utility chart of the nodes evaluated with the chosen one marked. Aggregates only: no
record-level value (``docs/methods.md#anonymisation``)."""

from __future__ import annotations

import html
import json

from .._validation import output_path
from .figures import new_figure, png_uri

__all__ = ["render_instead", "write_instead"]


def _esc(v) -> str:
    return html.escape(str(v), quote=True)


def _fmt(v) -> str:
    if v is None:
        return "not assessed"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    return _esc(v)


def _chart(section) -> str:
    fig, ax = new_figure(7.0, 3.4)
    pts = section["nodes"]
    for meets, colour, label in ((False, "#b1b4b6", "fails the conditions"), (True, "#1d70b8", "meets them")):
        xs = [p[0] for p in pts if p[2] == meets]
        ys = [p[1] for p in pts if p[2] == meets]
        if xs:
            ax.scatter(xs, ys, s=14, c=colour, label=label)
    c = section["chosen"]
    ax.scatter([c[0]], [c[1]], s=90, marker="*", c="#d4351c", label="chosen", zorder=3)
    ax.set_xlabel("information loss (ARX Loss, 0 = as given, 1 = all withheld)")
    ax.set_ylabel("records in classes below k")
    ax.set_yscale("symlog")
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))  # plain numbers (no mathtext)
    ax.legend(frameon=False, fontsize=8)
    return png_uri(fig, dpi=100)


def render_instead(section: dict) -> str:
    """The section as an HTML fragment."""
    s = section
    cond = s["conditions"]
    rows = "".join(
        f"<tr><td>{_esc(q)}</td><td>{_fmt(s['level_labels'][q])}</td><td>{s['loss_per_variable'][q]:.3f}</td></tr>"
        for q in s["quasi_identifiers"])
    inds = "".join(
        f"<tr><td>{_esc(i['label'])}</td><td>{_fmt(i['before'])}</td><td>{_fmt(i['after'])}</td>"
        f"<td>{_fmt(i['threshold'])}</td><td>{_fmt(i['holds_after'])}</td></tr>" for i in s["indicators"])
    order = list(s["quasi_identifiers"])  # the section's order (a JSON file may sort its keys)

    def levels(t) -> str:
        lv = t["levels"]
        return ", ".join(f"{q}={lv[q]}" for q in order if q in lv)

    tried = "".join(f"<li>{_esc(levels(t))}: route {_esc(t['route'])}"
                    f"{'' if t['passed'] else ' (an intruder still made confident correct claims: next node)'}</li>"
                    for t in s["verification"])
    return (
        '<section id="instead"><h2>What the requester could have instead</h2>'
        f"<p>Route as requested: <strong>{_esc(s['route_before'])}</strong>; with the transformation below: "
        f"<strong>{_esc(s['route_after'])}</strong>. Conditions sought: classes of at least {cond['k']}, "
        f"highest individual risk at most {_fmt(cond['max_risk'])}, no special uniques of size up to "
        f"{cond['msu_size']}, at most {cond['suppression_limit']:.1%} of records suppressed; "
        f"{s['suppressed_records']} of {s['records']} records suppressed (their key cells missing, read as "
        f"matching any value). {s['nodes_evaluated']} transformations evaluated; overall information loss "
        f"{s['loss']['loss']:.3f}.</p>"
        "<table><caption>Information lost per variable</caption><tr><th>variable</th><th>level</th>"
        f"<th>loss (0-1)</th></tr>{rows}</table>"
        f'<img alt="Risk-utility chart: information loss against records in classes below k for each '
        f'transformation evaluated; the chosen one is marked with a star" src="{_chart(s)}">'
        f"<p>Nodes verified with the full assessment, in turn:</p><ul>{tried}</ul>"
        "<table><caption>Each indicator before and after</caption><tr><th>indicator</th><th>as requested</th>"
        f"<th>transformed</th><th>threshold</th><th>holds after</th></tr>{inds}</table></section>")


def write_instead(section: dict, path, *, overwrite: bool = False):
    """A standalone HTML page of the section (and nothing else)."""
    page = ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>What the requester could have '
            'instead</title></head><body>' + render_instead(section) + "</body></html>\n")
    output_path(path, overwrite=overwrite).write_text(page, encoding="utf-8")
    return json.dumps(section, sort_keys=True)
