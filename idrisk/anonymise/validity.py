"""Analysis validity: what a transformation does to the analyses researchers run.

* **Models.** For each outcome, the same model is fitted on the original and on the transformed
  extract and scored by k-fold cross-validation on the same folds (scikit-learn; Pedregosa et
  al. 2011): a logistic regression (accuracy) for an outcome with two values, a linear
  regression (root mean squared error) otherwise. Every predictor enters one-hot encoded as text
  (a generalised value is one more category, a suppressed cell the category ``(missing)``), so
  the two fits differ only by the transformation. Reported: the score on each, their
  difference, and for each coefficient present in both designs (a predictor value that the
  transformation kept) the coefficients of the full-data fits and their difference.
* **Tables.** For each named variable (marginal) and pair (two-way table), the total variation
  distance ``1/2 sum |p - q|`` between the original table and the transformed one read back onto
  the original categories: a record's generalised value is spread uniformly over the original
  values of the records given that value (a suppressed cell over every value), as a researcher
  reading a banded table would spread it. 0 when nothing changed; at most 1.

Only aggregates are returned (no record-level value). ``docs/methods.md#anonymisation``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .._validation import as_frame, check_columns
from ..exceptions import DataValidationError, InvalidParameterError

__all__ = ["analysis_validity", "table_distance"]

MISSING = "(missing)"


def _design(frame: pd.DataFrame, predictors) -> pd.DataFrame:
    text = frame[list(predictors)].astype(object).where(frame[list(predictors)].notna(), MISSING).astype(str)
    return pd.get_dummies(text, prefix_sep="=", dtype=np.float64)


def _model(y: pd.Series):
    from sklearn.linear_model import LinearRegression, LogisticRegression

    if y.nunique(dropna=True) == 2:
        return LogisticRegression(max_iter=1000), "accuracy", "accuracy"
    return LinearRegression(), "neg_root_mean_squared_error", "rmse"


def _fit(x: pd.DataFrame, y: pd.Series, folds, scoring):
    from sklearn.base import clone
    from sklearn.model_selection import cross_val_score

    model, score, _ = _model(y)
    values = cross_val_score(clone(model), x.to_numpy(), y.to_numpy(), cv=folds, scoring=score)
    full = clone(model).fit(x.to_numpy(), y.to_numpy())
    coef = np.ravel(full.coef_) if np.ndim(full.coef_) == 1 or full.coef_.shape[0] == 1 else full.coef_[0]
    mean = float(np.mean(values))
    return (-mean if score.startswith("neg_") else mean), dict(zip(x.columns, map(float, coef)))


def _outcome(original, transformed, outcome, predictors, folds):
    from sklearn.model_selection import KFold, StratifiedKFold

    y = original[outcome]
    if y.isna().any():
        keep = y.notna().to_numpy()
        original, transformed, y = original.loc[keep], transformed.loc[keep], y.loc[keep]
    _, _, metric = _model(y)
    split = (StratifiedKFold if metric == "accuracy" else KFold)(n_splits=folds[0], shuffle=True,
                                                                  random_state=folds[1])
    cv = list(split.split(np.zeros(len(y)), y.to_numpy() if metric == "accuracy" else None))
    s0, c0 = _fit(_design(original, predictors), y, cv, metric)
    s1, c1 = _fit(_design(transformed, predictors), y, cv, metric)
    coefs = {f: {"original": c0[f], "transformed": c1[f], "difference": c1[f] - c0[f]}
             for f in c0 if f in c1}
    return {"model": "logistic regression" if metric == "accuracy" else "linear regression",
            "metric": metric, "original": s0, "transformed": s1, "difference": s1 - s0,
            "folds": folds[0], "records": int(len(y)), "coefficients": coefs}


def _spread(orig: pd.Series, gen: pd.Series):
    """The original categories, each record's category, per generalised value (last row: a
    suppressed cell) the uniform distribution over the original categories it covers, and
    each record's generalised value."""
    cats, o = np.unique(orig.astype(str).to_numpy(), return_inverse=True)
    g = gen.astype(object).where(gen.notna(), None)
    gcodes, guniq = pd.factorize(g, use_na_sentinel=True)
    dist = np.zeros((len(guniq) + 1, len(cats)))
    member = np.zeros((len(guniq), len(cats)), dtype=bool)
    ok = gcodes >= 0
    member[gcodes[ok], o[ok]] = True
    dist[:-1] = member / np.maximum(member.sum(axis=1, keepdims=True), 1)
    dist[-1] = 1.0 / len(cats)  # a suppressed cell: every value
    return cats, o, dist, np.where(ok, gcodes, len(guniq))


def table_distance(original: pd.DataFrame, transformed: pd.DataFrame, variables: Sequence, counts=None) -> float:
    """Total variation distance between the original table of ``variables`` (one or two) and
    the transformed one read back onto the original categories (module docstring). With
    ``counts``, each row stands for that many records (the distinct rows of a Spark table)."""
    parts = [_spread(original[v], transformed[v]) for v in variables]
    w = np.ones(len(original)) if counts is None else np.asarray(counts, dtype=np.float64)
    n = float(w.sum()) if counts is not None else len(original)
    if len(parts) == 1:
        cats, o, dist, g = parts[0]
        p = np.bincount(o, weights=w, minlength=len(cats)) / n
        q = np.bincount(g, weights=w, minlength=len(dist)) @ dist / n
        return float(0.5 * np.abs(p - q).sum())
    (ca, oa, da, ga), (cb, ob, db, gb) = parts
    if len(ca) * len(cb) > 10_000_000:
        raise InvalidParameterError(f"the table of {variables[0]!r} by {variables[1]!r} has more than 10 million cells")
    p = np.zeros((len(ca), len(cb)))
    np.add.at(p, (oa, ob), w)
    pairs = np.zeros((len(da), len(db)))
    np.add.at(pairs, (ga, gb), w)
    q = da.T @ pairs @ db
    return float(0.5 * np.abs(p - q).sum() / n)


def analysis_validity(original, transformed, *, outcomes: Sequence = (), predictors: Sequence = (),
                      tables: Sequence = (), folds: int = 5, seed: int = 0) -> dict:
    """Models and tables on the original and the transformed extract (module docstring).

    ``outcomes`` are modelled on ``predictors``; ``tables`` names variables (a marginal) and
    pairs (a two-way table). Returns ``{"models": {outcome: ...}, "tables": {name: distance}}``.
    Needs scikit-learn for the models (``pip install idrisk[anonymise]``).
    """
    a, b = as_frame(original), as_frame(transformed, name="transformed")
    if len(a) != len(b) or not a.index.equals(b.index):
        raise DataValidationError("the transformed extract must hold the original's records, in the same order")
    outcomes = check_columns(a, list(outcomes), role="outcome", allow_empty=True)
    predictors = check_columns(a, list(predictors), role="predictor", allow_empty=True)
    check_columns(b, predictors, role="predictor", allow_empty=True)
    if outcomes and not predictors:
        raise InvalidParameterError("outcomes need predictors")
    if not isinstance(folds, int) or isinstance(folds, bool) or folds < 2:
        raise InvalidParameterError(f"folds must be an integer >= 2, got {folds!r}")
    models = {str(o): _outcome(a, b, o, [p for p in predictors if p != o], (folds, seed)) for o in outcomes}
    out_tables = {}
    for t in tables:
        vs = [t] if isinstance(t, str) else list(t)
        if not 1 <= len(vs) <= 2:
            raise InvalidParameterError("a table names one variable or a pair")
        check_columns(a, vs, role="table")
        out_tables[" x ".join(map(str, vs))] = table_distance(a, b, vs)
    return {"models": models, "tables": out_tables}
