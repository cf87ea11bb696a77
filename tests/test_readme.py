"""The README's worked examples run and give the values worked out by hand.

Expected values: k, l, t, the attacker models and the Benedetti-Franconi expected
re-identifications of the toy table (closed forms in docs/methods.md#individual-risk), and
the SUDA scores of the "book" example, which are sdcMicro's own test values
(docs/methods.md#suda).
"""

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_opens_with_the_two_commands():
    text = README.read_text()
    first_block = re.search(r"```\n(.*?)```", text, flags=re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]


def test_worked_example_runs_and_matches_we5():
    ns = {}
    exec(_python_blocks()[0], ns)
    assert ns["k"].min_class_size == 2
    assert ns["k"].records_below_k == {2: 0, 3: 4}
    assert ns["l"].minima["sen"]["distinct"] == 1
    assert ns["r"].highest_risk == pytest.approx(0.5)
    assert ns["r"].average_risk == pytest.approx(3 / 8)
    assert ns["r"].records_at_risk == {0.2: 1.0, 0.3: 0.5}
    # ER = 4 * 1/31 + 2 * r(f=2, F=10) + 2 * r(f=2, F=5), closed forms of docs/methods.md#individual-risk
    def r2(p):
        o = p / (1 - p)
        return o - o**2 * np.log(1 / p)
    expected_er = 4 * (4 / 40) / (4 - (1 - 4 / 40)) + 2 * r2(2 / 10) + 2 * r2(2 / 5)
    assert ns["g"].expected_reidentifications == pytest.approx(expected_er, rel=1e-12)
    assert ns["g"].expected_reidentifications == pytest.approx(0.9467052, rel=1e-6)


def test_suda_example_matches_we4():
    ns = {}
    exec(_python_blocks()[0], ns)
    exec(_python_blocks()[1], ns)
    assert ns["s"].scores["score"].tolist() == [0, 0, 0, 0, 4, 2, 6, 8]
