"""The report's figures: matplotlib in one style, embedded as PNG data URIs (no network,
no software tag, so the same figure gives the same bytes)."""

from __future__ import annotations

import base64
import io

__all__ = ["new_figure", "png_uri"]


def png_uri(fig, dpi: int = 110) -> str:
    """The figure as a PNG data URI (no software tag, so the same figure gives the same bytes);
    closes the figure."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def new_figure(w=7.5, h=3.4):
    """A matplotlib figure and axes in the report's style (Agg, no mathtext)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 10, "font.family": "DejaVu Sans", "axes.spines.top": False,
                         "axes.spines.right": False, "svg.hashsalt": "idrisk",
                         "text.parse_math": False})  # a "$" in a column name is text, never mathtext
    return plt.subplots(figsize=(w, h))
