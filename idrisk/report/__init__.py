"""Board report: one self-contained HTML file made from an assessment result."""

from .render import render_html, write_report

__all__ = ["render_html", "write_report"]
