"""The documentation the code cites exists, and the code cites nothing outside the repository.

* every ``docs/methods.md#<anchor>`` in ``idrisk/`` (Python, TOML, templates) is the GitHub
  anchor of a heading (or an explicit ``<a id>``) of ``docs/methods.md``;
* no docstring or comment in ``idrisk/`` cites documents that are not in the repository
  (the project's private design notes) or issue numbers;
* every relative link of ``README.md`` resolves to a file of the repository, and its
  ``#anchor`` to an anchor of that file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "idrisk"
METHODS = ROOT / "docs" / "methods.md"
SOURCE_SUFFIXES = (".py", ".toml", ".j2", ".html", ".css", ".txt", ".md")

CITATION = re.compile(r"docs/methods\.md#([A-Za-z0-9_-]+)")
FORBIDDEN = [
    re.compile(r"domain brief", re.I),
    re.compile(r"domain\.md", re.I),
    re.compile(r"sdcmicro-definitions", re.I),
    re.compile(r"\bissue\s*#?\d+", re.I),
    re.compile(r"\(issue\b", re.I),
    re.compile(r"\bdomain (?:section )?\d"),  # "domain 5.3": a section of the same notes
    re.compile(r"\bWE\d\b"),  # their worked examples
]


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"<[^>]+>", "", heading)  # inline HTML
    text = re.sub(r"`([^`]*)`", r"\1", text)  # code spans keep their text
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor of a Markdown file: heading slugs (GitHub's -1, -2 for repeats) and ids."""
    out: set[str] = set()
    seen: dict[str, int] = {}
    in_fence = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        out.update(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", line))
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            slug = github_slug(m.group(1))
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def _package_files():
    return sorted(p for p in PACKAGE.rglob("*")
                  if p.is_file() and p.suffix in SOURCE_SUFFIXES and "__pycache__" not in p.parts)


def test_slugs_follow_github():
    assert github_slug("K-anonymity") == "k-anonymity"
    assert github_slug("DIS-SUDA") == "dis-suda"
    assert github_slug("QI importance") == "qi-importance"
    assert github_slug("Fellegi–Sunter (1969)") == "fellegisunter-1969"
    assert github_slug("`what_if` mitigations") == "what_if-mitigations"


def test_methods_has_the_anchors_the_code_cites():
    known = anchors(METHODS)
    cited = {}
    for path in _package_files():
        for anchor in CITATION.findall(path.read_text(encoding="utf-8", errors="replace")):
            cited.setdefault(anchor, []).append(str(path.relative_to(ROOT)))
    assert len(cited) >= 20, "the citation pattern no longer finds the code's citations"
    missing = {a: files for a, files in cited.items() if a not in known}
    assert not missing, f"anchors cited but not in docs/methods.md: {missing}"


def test_methods_has_a_section_for_each_documented_topic():
    topics = {"fellegi-sunter", "em-estimation", "term-frequency", "divergence",
              "intruder-scoring", "sample-risks", "encoding", "population-generator"}
    assert topics <= anchors(METHODS)


def test_methods_internal_links_resolve():
    known = anchors(METHODS)
    text = METHODS.read_text(encoding="utf-8")
    broken = sorted({a for a in re.findall(r"\]\(#([^)]+)\)", text) if a not in known})
    assert not broken, f"links to missing sections of docs/methods.md: {broken}"


@pytest.mark.parametrize("pattern", FORBIDDEN, ids=lambda p: p.pattern)
def test_code_cites_nothing_outside_the_repository(pattern):
    hits = []
    for path in _package_files():
        for lineno, line in enumerate(path.read_text(encoding="utf-8", errors="replace")
                                      .splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{lineno}: {line.strip()}")
    assert not hits, "\n".join(hits)


def test_readme_links_resolve():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\[[^\]]*\]\(([^)\s]+)\)", text)
    broken = []
    for link in links:
        if re.match(r"^[a-z]+:", link):  # http:, https:, mailto:
            continue
        target, _, anchor = link.partition("#")
        path = ROOT / target if target else ROOT / "README.md"
        if not path.exists():
            broken.append(link)
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            broken.append(link)
    assert not broken, f"README links that do not resolve: {broken}"
    assert any("docs/methods.md" in link for link in links)


def test_readme_paths_exist():
    # repository paths the README names in code spans, e.g. `datasets/README.md`, `tests/peer/`
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    paths = set(re.findall(r"`((?:docs|datasets|tests|idrisk|benchmarks|scripts|reports)/[\w.*/-]*)`",
                           text))
    assert paths, "the pattern no longer finds the README's paths"
    missing = sorted(p for p in paths if not list(ROOT.glob(p.rstrip("/"))))
    assert not missing, f"README names paths that are not in the repository: {missing}"
