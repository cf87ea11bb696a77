"""Render an assessment result as one self-contained HTML board report.

The report is built from the result's JSON form only (so ``idrisk report RESULT.json``
gives the same page as ``result.to_html``). CSS is inlined, plots are matplotlib PNGs
embedded as base64 ``data:`` URIs, each with alt text and a data table beside it. Nothing
is fetched from the network. The report is itself a safe output: it is made from
aggregates (counts, rates, column names) and never shows a record-level value.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np

from .._validation import output_path
from .figures import new_figure, png_uri
from .instead import render_instead
from .words import panel_words

__all__ = ["render_html", "write_report"]

_BANDS = [(1, 1, "1"), (2, 2, "2"), (3, 4, "3-4"), (5, 9, "5-9"), (10, 19, "10-19"), (20, 49, "20-49"),
          (50, None, "50+")]
_COLORS = ["#1d70b8", "#d4351c", "#00703c", "#6f4200", "#4c2c92", "#505a5f", "#b58840", "#912b88"]


#: the longest name drawn in a plot or a table; longer names are cut with an ellipsis
_NAME_LIMIT = 60


def _short(name, limit: int = _NAME_LIMIT) -> str:
    """A scenario or column name as shown in plots and tables: at most ``limit`` characters."""
    name = str(name)
    return name if len(name) <= limit else name[:limit - 1] + "\u2026"




def class_size_bands(k: dict) -> list[int] | None:
    """Records by class-size band from a k_anonymity summary."""
    hist = k.get("class_size_histogram")
    if not hist:
        return None
    per_records = k.get("histogram_counts") == "records"
    out = [0] * len(_BANDS)
    for size, count in hist.items():
        s = int(size)
        recs = count if per_records else s * count
        for i, (lo, hi, _) in enumerate(_BANDS):
            if s >= lo and (hi is None or s <= hi):
                out[i] += recs
    return out


def _plot_class_sizes(scens):
    rows = [(_short(s["name"]), class_size_bands(s["measures"]["k_anonymity"])) for s in scens
            if "k_anonymity" in s["measures"]]
    rows = [(n, b) for n, b in rows if b is not None]
    if not rows:
        return None
    fig, ax = new_figure()
    x = np.arange(len(_BANDS))
    w = 0.8 / len(rows)
    for i, (name, b) in enumerate(rows):
        tot = sum(b)
        ax.bar(x + i * w - 0.4 + w / 2, [100 * v / tot for v in b], w, label=name, color=_COLORS[i % 8])
    ax.set_xticks(x, [b[2] for b in _BANDS])
    ax.set_xlabel("equivalence class size (records sharing the key)")
    ax.set_ylabel("% of records")
    ax.legend(frameon=False)
    alt = ("Bar chart of the share of records by equivalence-class size band, per scenario. " + " ".join(
        f"{n}: {100 * b[0] / sum(b):.1f}% of records are in classes of size 1 and "
        f"{100 * sum(b[:4]) / sum(b):.1f}% in classes smaller than 10." for n, b in rows))
    table = {"caption": "Records by class size (share of records)", "columns": [b[2] for b in _BANDS],
             "rows": [(n, [f"{100 * v / sum(b):.1f}%" for v in b]) for n, b in rows]}
    return {"src": png_uri(fig), "alt": alt, "title": "Class-size distribution", "table": table}


def _plot_below_k(scens, n):
    rows = [(_short(s["name"]), s["measures"]["k_anonymity"]["records_below_k"]) for s in scens
            if "k_anonymity" in s["measures"]]
    if not rows:
        return None
    ks = sorted({int(k) for _, d in rows for k in d})
    fig, ax = new_figure()
    x = np.arange(len(ks))
    w = 0.8 / len(rows)
    for i, (name, d) in enumerate(rows):
        ax.bar(x + i * w - 0.4 + w / 2, [100 * d.get(str(k), 0) / n for k in ks], w, label=name,
               color=_COLORS[i % 8])
    ax.set_xticks(x, [f"k = {k}" for k in ks])
    ax.set_ylabel("% of records in classes smaller than k")
    ax.legend(frameon=False)
    alt = "Bar chart of records at risk by k. " + " ".join(
        f"{name}: " + ", ".join(f"{100 * d.get(str(k), 0) / n:.1f}% below k={k}" for k in ks) + "."
        for name, d in rows)
    table = {"caption": "Records in classes smaller than k", "columns": [f"k = {k}" for k in ks],
             "rows": [(name, [f"{d.get(str(k), 0):,}" for k in ks]) for name, d in rows]}
    return {"src": png_uri(fig), "alt": alt, "title": "Records at risk by k", "table": table}


def _plot_heatmap(scen, n, min_k):
    rows = scen["measures"].get("combination_sweep")
    if not rows:
        return None
    qis = list(scen["quasi_identifiers"])
    col = f"records_below_{min_k}"
    if not any(col in r for r in rows):
        cands = [c for c in rows[0] if c.startswith("records_below_")]
        if not cands:
            return None
        col = sorted(cands, key=lambda c: int(c.rsplit("_", 1)[1]))[-1]
    m = np.full((len(qis), len(qis)), np.nan)
    for r in rows:
        sub = r["subset"]
        if len(sub) == 1 and sub[0] in qis:
            i = qis.index(sub[0])
            m[i, i] = 100 * r.get(col, 0) / n
        elif len(sub) == 2 and all(s in qis for s in sub):
            i, j = qis.index(sub[0]), qis.index(sub[1])
            m[i, j] = m[j, i] = 100 * r.get(col, 0) / n
    if np.isnan(m).all():
        return None
    fig, ax = new_figure(6.8, 5.2)
    im = ax.imshow(m, cmap="Blues", vmin=0, vmax=max(1.0, float(np.nanmax(m))))
    ax.set_xticks(range(len(qis)), [_short(q) for q in qis], rotation=40, ha="right")
    ax.set_yticks(range(len(qis)), [_short(q) for q in qis])
    for i in range(len(qis)):
        for j in range(len(qis)):
            if not np.isnan(m[i, j]):
                ax.text(j, i, f"{m[i, j]:.0f}", ha="center", va="center",
                        color="white" if m[i, j] > 0.55 * np.nanmax(m) else "#0b0c0c", fontsize=8)
    fig.colorbar(im, ax=ax, label=f"% of records in classes < {col.rsplit('_', 1)[1]}")
    ax.spines[:].set_visible(False)
    worst = sorted(((float(m[i, j]), qis[i], qis[j]) for i in range(len(qis)) for j in range(i, len(qis))
                    if not np.isnan(m[i, j])), reverse=True)[:3]
    alt = (f"Heatmap of the share of records in classes smaller than {col.rsplit('_', 1)[1]} for each single "
           f"quasi-identifier (diagonal) and each pair, scenario {_short(scen['name'])}. Highest: " +
           "; ".join(f"{_short(a)}{'' if a == b else ' with ' + _short(b)} {v:.1f}%" for v, a, b in worst) + ".")
    return {"src": png_uri(fig), "alt": alt, "title": f"Risk by QI combination [{_short(scen['name'])}]",
            "table": None}


def _plot_suda(scen):
    su = scen["measures"].get("suda")
    if not su:
        return None
    contrib = su.get("attribute_contributions") or {}
    hist = su.get("score_histogram") or []
    fig, axes = new_figure(8.5, 3.4)
    import matplotlib.pyplot as plt

    plt.close(fig)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.4))
    for a in (a1, a2):
        a.spines[["top", "right"]].set_visible(False)
    if hist:
        a1.bar([(h["low"] + h["high"]) / 2 for h in hist], [h["count"] for h in hist],
               width=[(h["high"] - h["low"]) * 0.9 for h in hist], color=_COLORS[0])
        a1.set_xlabel("SUDA score (records with a score > 0)")
        a1.set_ylabel("records")
    else:
        a1.text(0.5, 0.5, "no record has a minimal sample unique", ha="center", va="center")
        a1.set_axis_off()
    if contrib:
        names = list(contrib)[::-1]
        a2.barh(range(len(names)), [contrib[k] or 0 for k in names], color=_COLORS[1])
        a2.set_yticks(range(len(names)), [_short(k) for k in names])
        a2.set_xlabel("contribution to SUDA scores (%)")
    else:
        a2.set_axis_off()
    fig.tight_layout()
    top = list(contrib.items())[:3]
    alt = (f"SUDA score distribution and variable contributions, scenario {_short(scen['name'])}: "
           f"{su.get('records_with_msu', 0):,} records have a minimal sample unique, "
           f"{su['special_uniques_small_msu']:,} of size 2 or less. Largest contributions: " +
           ", ".join(f"{_short(k)} {v:.1f}%" for k, v in top if v is not None) + ".")
    return {"src": png_uri(fig), "alt": alt, "title": f"Special uniques (SUDA) [{_short(scen['name'])}]",
            "table": None}


def _plot_intruder(scens):
    rows = [(_short(s["name"]), s["measures"]["intruder"]) for s in scens if "intruder" in s["measures"]]
    rows = [(n, d) for n, d in rows if d.get("by_confidence")]
    if not rows:
        return None
    import matplotlib.pyplot as plt

    new_figure()  # style and backend
    plt.close("all")
    fig, axes = plt.subplots(1, len(rows), figsize=(3.0 * len(rows) + 1, 3.2), sharey=True, squeeze=False)
    labels, claims, correct, stated = [], [], [], []
    for ax, (name, d) in zip(axes[0], rows):
        stated += [b.get("mean_confidence") for b in d["by_confidence"]]
        bands = [str(b.get("band", "")) for b in d["by_confidence"]]
        c = [int(b.get("claims", 0)) for b in d["by_confidence"]]
        k = [int(b.get("correct", 0)) for b in d["by_confidence"]]
        x = np.arange(len(bands))
        ax.bar(x - 0.2, c, 0.4, label="claims", color=_COLORS[0])
        ax.bar(x + 0.2, k, 0.4, label="correct claims", color=_COLORS[1])
        ax.set_xticks(x, bands, fontsize=8)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("confidence band", fontsize=9)
        ax.spines[["top", "right"]].set_visible(False)
        labels += [f"{name} {b}" for b in bands]
        claims += c
        correct += k
    axes[0][0].set_ylabel("claims")
    axes[0][-1].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    alt = "Bar charts of intruder claims and correct claims by confidence band, one per scenario. " + " ".join(
        f"{lab}: {c} claims, {k} correct." for lab, c, k in zip(labels, claims, correct))
    # the reliability table: in each band the stated confidence beside the share that was right
    table = {"caption": "Intruder claims by confidence band: stated confidence against the share correct",
             "columns": ["claims", "correct", "stated confidence (mean)", "share correct"],
             "rows": [(lab, [f"{c:,}", f"{k:,}", "-" if not c or p is None else f"{p:.3f}",
                             "-" if not c else f"{k / c:.3f}"])
                      for lab, c, k, p in zip(labels, claims, correct, stated)]}
    return {"src": png_uri(fig), "alt": alt, "title": "Intruder claims and correctness by confidence", "table": table}


def _fmt(v, digits=3):
    if v is None:
        return "not computed"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v == int(v) and abs(v) < 1e15:
            return f"{int(v):,}"
        if abs(v) >= 10 ** digits:
            return f"{v:,.0f}"
        return f"{v:.{digits}g}"
    return str(v)


def _normalise(d: dict) -> dict:
    """Same order whether ``d`` comes from a result or from its (key-sorted) JSON."""
    import copy

    d = copy.deepcopy(d)
    for s in d["scenarios"]:
        m = s["measures"]
        if "k_anonymity" in m:
            k = m["k_anonymity"]
            k["records_below_k"] = dict(sorted(k["records_below_k"].items(), key=lambda kv: int(kv[0])))
            if k.get("class_size_histogram"):
                k["class_size_histogram"] = dict(sorted(k["class_size_histogram"].items(),
                                                        key=lambda kv: int(kv[0])))
        for name in ("l_diversity", "t_closeness"):  # per sensitive column: by name
            if m.get(name):
                m[name] = dict(sorted(m[name].items()))
        if m.get("intruder") and m["intruder"].get("variable_mapping"):
            m["intruder"]["variable_mapping"] = dict(sorted(m["intruder"]["variable_mapping"].items()))
        if m.get("suda") and m["suda"].get("attribute_contributions"):
            m["suda"]["attribute_contributions"] = dict(sorted(
                m["suda"]["attribute_contributions"].items(), key=lambda kv: (-(kv[1] or 0), kv[0])))
    return d


def render_html(d, instead: dict | None = None) -> str:
    """HTML text of the board report for a result (an ``AssessmentResult`` or its ``to_dict()``).

    The report reads the result's JSON form, validated by the schema made from the result
    types (docs/methods.md#assessment), so a saved JSON renders the same page. ``instead``,
    the plain dict of :func:`idrisk.anonymise.instead.alternative`, adds the section "what the
    requester could have instead" and the verdict names its transformation.
    """
    import jinja2

    d = _normalise(d.to_dict() if hasattr(d, "to_dict") else d)

    tpl_dir = resources.files("idrisk.report") / "templates"
    css = (tpl_dir / "style.css").read_text(encoding="utf-8")
    env = jinja2.Environment(loader=jinja2.FunctionLoader(
        lambda name: (tpl_dir / name).read_text(encoding="utf-8")), autoescape=True,
        trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    env.filters["short"] = _short
    env.filters["pct"] = lambda v: "not computed" if v is None else f"{100 * v:.1f}%"
    n = d["meta"]["n_records"]
    min_k = d["config"]["thresholds"]["min_k"]
    scens = d["scenarios"]
    figures = [f for f in (_plot_class_sizes(scens), _plot_below_k(scens, n)) if f]
    per_scen = {}
    for s in scens:
        per_scen[s["name"]] = [f for f in (_plot_heatmap(s, n, min_k), _plot_suda(s)) if f]
    intr = _plot_intruder(scens)
    from .. import __version__

    return env.get_template("board_report.html.j2").render(
        r=d, css=css, figures=figures, per_scen=per_scen, intruder_fig=intr, n=n, min_k=min_k,
        words=panel_words(d, instead), version=__version__,
        instead_html=render_instead(instead) if instead is not None else None)


def write_report(result, path, *, overwrite: bool = False, instead: dict | None = None) -> Path:
    """Write the report of ``result`` (an AssessmentResult or its dict) to ``path``
    (``instead``: see :func:`render_html`)."""
    p = Path(path)
    output_path(p, overwrite=overwrite)  # refuse before rendering
    html = render_html(result, instead)
    if p.parent and not p.parent.exists():
        p.parent.mkdir(parents=True)
    output_path(p, overwrite=overwrite).write_text(html, encoding="utf-8")
    return p
