"""Text holding an unpaired surrogate (not valid Unicode: pandas' string dtype, pyarrow and
jellyfish refuse it) in the *values* of a frame given to the API: every measure, the
assessment's fingerprint and both intruder engines work, and a surrogate is one character
distinct from every other (names holding one are refused by the configuration:
tests/test_hardening_api.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import idrisk
from idrisk.assessment.io import fingerprint_frame
from idrisk.intruder import IntruderScenario, make_auxiliary, simulate_intruder
from idrisk.intruder.compare import valid_text

N = 120


def _frame(odd: str) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    sex = list(rng.choice(["F", "M", "X"], N))
    sex[:3] = [odd, odd + "M", "F" + odd]
    return pd.DataFrame({"sex": pd.Series(sex, dtype=object), "yob": rng.integers(2008, 2012, N),
                         "s": pd.Series([odd] * 5 + list(rng.choice(["a", "b"], N - 5)), dtype=object)})


def test_valid_text_moves_each_surrogate_to_its_own_character():
    assert valid_text("abc") == "abc" and valid_text(5) == "5"
    a, b = valid_text("x\udc80"), valid_text("x\udc81")
    assert a != b and len(a) == 2 and a.encode("utf-8")  # encodable now
    assert valid_text("\ud800\udfff") == "\U000f0000\U000f07ff"


def test_the_assessment_fingerprints_and_reports_such_values(tmp_path):
    bad = _frame("\udc80")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = idrisk.assess(bad, quasi_identifiers=["sex", "yob"], sensitive=["s"], progress=False)
    res.to_json(tmp_path / "r.json")
    assert "\udc80" not in res.to_html(tmp_path / "r.html").read_text(errors="surrogateescape")
    # two surrogates are two values; the fingerprint tells the frames apart
    assert fingerprint_frame(bad) != fingerprint_frame(_frame("\udc81"))
    # the same frame with an ordinary character in its place has the same measures
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ok = idrisk.assess(_frame("\u00e9"), quasi_identifiers=["sex", "yob"], sensitive=["s"], progress=False)
    a, b = res.to_dict(), ok.to_dict()
    assert a["scenarios"][0]["measures"] == b["scenarios"][0]["measures"]


@pytest.mark.parametrize("engine", ["idrisk", "splink"])
@pytest.mark.parametrize("comparisons", [None, {"sex": "string"}])
def test_both_engines_link_such_values_as_one_character(engine, comparisons):
    if engine == "splink":
        pytest.importorskip("splink")
    kw = {} if comparisons is None else {"comparisons": comparisons, "blocking": [["yob"]], "error_rate": 0.3}
    sc = IntruderScenario(name="s", quasi_identifiers=["sex", "yob"], **kw)
    got = []
    for odd in ("\udc80", "\u00e9"):
        df = _frame(odd)
        r = simulate_intruder(df, make_auxiliary(df, sc, seed=2), sc, seed=2, engine=engine)
        got.append((r.claims, r.correct_claims, r.n_candidate_pairs))
    assert got[0] == got[1]


def test_pandas_2s_factorize_path_keeps_strings_with_a_surrogate_apart(monkeypatch):
    # pandas 2 hashes strings as UTF-8 C strings, and gave every string holding an unpaired
    # surrogate the one code: "x\udc80", "x\udc80M" and "F\udc80" were one class
    from idrisk import _encode

    v = np.array(["x\udc80", "x\udc80M", "F\udc80", "F", "M", "x\udc80", None], dtype=object)
    monkeypatch.setattr(_encode, "_FACTORIZE_KEEPS_NUL", False)
    codes, uniques = _encode._factorize(v)
    assert codes.tolist() == [0, 1, 2, 3, 4, 0, -1]
    assert list(uniques) == ["x\udc80", "x\udc80M", "F\udc80", "F", "M"]
    df = pd.DataFrame({"sex": pd.Series(list(v[:5]) * 300, dtype=object)})  # the object-identity path too
    assert idrisk.k_anonymity(df, ["sex"]).n_classes == 5
    assert idrisk.combination_sweep(df, ["sex"])["n_classes"].tolist() == [5]
