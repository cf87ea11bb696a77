"""The board report: self-contained, accessible, and a safe output (no record-level values)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

import idrisk
from idrisk.assessment import AssessmentResult
from idrisk.report import render_html


def tokened_frame(seed=0):
    """Values are distinctive tokens (``zq<col><value>x``) so any leak is findable in the HTML.

    300 records: a large block of common values plus rare combinations, so there are
    sample uniques and classes of every size below 10.
    """
    rng = np.random.default_rng(seed)
    n = 300
    cols = {}
    for c, card in (("school", 6), ("month", 12), ("ethn", 9), ("lang", 4)):
        p = np.r_[0.6, np.full(card - 1, 0.4 / (card - 1))]
        cols[c] = [f"zq{c}{v:02d}x" for v in rng.choice(card, n, p=p)]
    cols["sen"] = [f"zqsen{v}x" for v in rng.integers(0, 4, n)]
    cols["pupil"] = [f"zqpupil{i:04d}x" for i in range(n)]
    return pd.DataFrame(cols)


QIS = ["school", "month", "ethn", "lang"]


@pytest.fixture(scope="module")
def report():
    df = tokened_frame()
    res = idrisk.assess(df, scenarios=[{"name": "full key", "quasi_identifiers": QIS},
                                       {"name": "school and month", "quasi_identifiers": QIS[:2]}],
                        sensitive={"sen": {"tier": 1, "special_category": True}}, direct_identifiers=["pupil"],
                        progress=False)
    return df, res, render_html(res.to_dict()), res.to_json()


def test_no_record_level_values_of_sample_uniques_or_small_classes(report):
    df, res, html, js = report
    fk = df.groupby(QIS)[QIS[0]].transform("size")
    uniques = df[fk == 1]
    assert len(uniques) >= 5, "the fixture must contain sample uniques"
    tokens = set(re.findall(r"zq\w+?x", " ".join(df.astype(str).to_numpy().ravel())))
    assert tokens  # every value in the data is a token; none may appear in the outputs
    for out in (html, js):
        leaked = sorted(t for t in tokens if t in out)
        assert leaked == [], f"record-level values in the output: {leaked[:5]}"
    # and explicitly the values of the sample-unique records
    for v in uniques[QIS + ["sen"]].to_numpy().ravel():
        assert v not in html and v not in js


class _Audit(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.imgs, self.ths, self.headings, self.links = [], [], [], [], []
        self.lang = None
        self._h = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "img":
            self.imgs.append(a)
        if tag == "th":
            self.ths.append(a)
        if tag in ("link", "script"):
            self.links.append((tag, a))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))


def test_self_contained_and_accessible(report):
    _, res, html, _ = report
    p = _Audit()
    p.feed(html)
    assert p.lang == "en-GB"
    assert p.links == []  # no external stylesheet or script
    assert "<style>" in html and "@page" in html and "A4" in html
    assert not re.search(r"""(src|href)\s*=\s*["']https?://""", html)
    assert p.imgs, "the report has plots"
    for img in p.imgs:
        assert img["src"].startswith("data:image/png;base64,")
        assert len(img.get("alt", "")) > 40  # a real text alternative, not a placeholder
    assert all(th.get("scope") in ("col", "row") for th in p.ths)
    assert p.headings[0] == 1 and p.headings.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(p.headings, p.headings[1:]))  # no skipped levels
    # verdict and reasons come before the tables and plots
    assert html.index('id="verdict"') < html.index("Recommended route") < html.index('id="indicators"') \
        < html.index("<img")
    assert res.meta.fingerprint_sha256 in html and res.meta.idrisk_version in html


def _contrast(hex1, hex2):
    def lum(h):
        rgb = [int(h[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    a, b = sorted((lum(hex1), lum(hex2)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def test_css_colours_meet_wcag_aa(report):
    _, _, html, _ = report
    css = html[html.index("<style>"):html.index("</style>")]
    var = dict(re.findall(r"--([a-z]+):\s*(#[0-9a-f]{6})", css))
    # text on white, white on tag colours, muted text on the panel grey: all >= 4.5:1
    for name in ("text", "muted", "link"):
        assert _contrast(var[name], "#ffffff") >= 4.5, name
    for name in ("red", "green", "amber", "blue"):
        assert _contrast("#ffffff", var[name]) >= 4.5, name
    assert _contrast(var["muted"], var["panel"]) >= 4.5
    assert _contrast("#ffffff", "#505a5f") >= 4.5  # the "reported" tag


def test_report_from_json_equals_report_from_result(report, tmp_path):
    _, res, html, js = report
    p = tmp_path / "r.json"
    p.write_text(js)
    again = AssessmentResult.from_json(p)
    assert render_html(again.to_dict()) == html
    out = res.to_html(tmp_path / "r.html")
    assert out.read_text() == html
    with pytest.raises(FileExistsError):
        res.to_html(tmp_path / "r.html")
    res.to_html(tmp_path / "r.html", overwrite=True)
