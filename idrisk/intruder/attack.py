"""``simulate_intruder`` and ``run_scenarios``: link, claim, score against the truth."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import numba
import numpy as np
import pandas as pd

from .._encode import encode
from .._kernels import linkage as K
from .._kernels.groups import group_ids
from .._validation import as_frame, check_columns, check_positive_int
from ..exceptions import DataValidationError, InvalidParameterError
from .blocking import DEFAULT_MAX_PAIRS, candidate_pairs
from .compare import compare_field, compare_pairs, prepare_fields
from .divergence import TRUTH_COLUMN, _build, _target_positions, make_auxiliary  # noqa: F401
from .fellegi_sunter import fit_em_patterns, patterns_of
from .scenario import IntruderScenario, load_scenarios
from .score import IntruderResult, score_claims

__all__ = ["simulate_intruder", "run_scenarios", "ScenarioRunsResult"]

_M_CLIP = 1e-6
#: m of a field that no EM fit can estimate (it is a blocking variable of every pass), until
#: :func:`_blocking_recall` replaces it by its maximum-likelihood share of ``rho``
DEFAULT_M = 0.95
_U_SAMPLE = 200_000
_TIE_TOL = 1e-9
#: targets sampled for the one-match-per-target refinement of m, and its iteration cap
_REFINE_TARGETS = 1500
_REFINE_MAX_ITER = 100
_REFINE_TOL = 1e-4
#: below this many records (extract + auxiliary) the kernels run on one thread
_PARALLEL_MIN = 50_000


def _truth_array(extract: pd.DataFrame, aux: pd.DataFrame) -> np.ndarray:
    n_e = len(extract)
    if TRUTH_COLUMN in aux.columns:
        t = aux[TRUTH_COLUMN]
        if not pd.api.types.is_integer_dtype(t.dtype) or t.isna().any():
            raise DataValidationError(f"the ground-truth column `{TRUTH_COLUMN}` must hold integer row positions")
        t = t.to_numpy(dtype=np.int64)
        if ((t < -1) | (t >= n_e)).any():
            raise DataValidationError(
                f"the ground-truth column `{TRUTH_COLUMN}` holds positions outside the extract "
                f"(valid: -1 for a non-member, 0..{n_e - 1}); was the auxiliary data made from this extract?"
            )
        return t
    if "_truth_pupil_id" in aux.columns and "pupil_id" in extract.columns:
        pos = pd.Index(extract["pupil_id"]).get_indexer(aux["_truth_pupil_id"])
        return pos.astype(np.int64)
    raise DataValidationError(
        f"the auxiliary data have no ground-truth column `{TRUTH_COLUMN}` (extract row positions, -1 for "
        "non-members) or `_truth_pupil_id` (with `pupil_id` in the extract); build it with make_auxiliary"
    )


def _frequency_u(fields, rng, n_e, n_a):
    """u_v for scoring: exact fields from value shares, other comparisons by random pairs."""
    u = np.empty(len(fields))
    tf_tabs = []
    for j, f in enumerate(fields):
        nl = max(f.n_levels, 1)
        ce = f.codes_e[f.codes_e >= 0]
        ca = f.codes_a[f.codes_a >= 0]
        pe = np.bincount(ce, minlength=nl) / max(ce.shape[0], 1)
        tf_tabs.append(pe)
        if f.kind == "exact":
            pa = np.bincount(ca, minlength=nl) / max(ca.shape[0], 1)
            u[j] = float(pe @ pa)
        else:
            ns = int(min(_U_SAMPLE, n_e * n_a))
            se = rng.integers(0, n_e, size=ns).astype(np.int64)
            sa = rng.integers(0, n_a, size=ns).astype(np.int64)
            g = compare_field(f, se, sa)
            ok = g >= 0
            u[j] = float((g[ok] == 1).mean()) if ok.any() else 0.5
    # a field on which random pairs never (or always) agree still needs a finite weight
    lo = 1.0 / (4.0 * max(n_e, 1) * max(n_a, 1))
    return np.clip(u, lo, 1 - 1e-9), tf_tabs


def _em_starts(u0):
    """Data-driven EM starts for one pass: ``m0`` per start, from the pass's agreement shares.

    u starts at the agreement share of all the pass's pairs (nearly all non-matches); m at
    ``max(0.9, u + 0.1)`` (the original start), near 1 (matches agree on nearly everything)
    and half-way between u and 1 (the least committal start that still has ``m > u``).
    """
    return {
        "u+0.1": np.maximum(0.9, np.minimum(u0 + 0.1, 0.99)),
        "0.99": np.full(u0.shape, 0.99),
        "(1+u)/2": (1.0 + u0) / 2.0,
    }


def _fit_pass(pats, counts, lam0):
    """Constrained (m >= u) EM from several data-driven starts; the highest likelihood wins.

    Without the constraint the fixed-lambda mixture can prefer a class of *similar
    non-matches* to the matches: in LA x sex x year blocks, pairs that disagree on postcode
    district but agree on ethnicity form a compact group of about the matches' size, and
    "m(postcode) ~ 0 < u(postcode)" then fits the counts better than the true matches do
    (issue 6; measured: log-likelihood -35955 for that swapped solution vs -35990 for the
    constrained one). Such a solution says that agreeing on a field is evidence *against*
    a match, which is never what an intruder's key variable means, so it is excluded by
    the model rather than by a start. Returns the chosen fit and per-start diagnostics.
    """
    ok = (pats >= 0) * counts[:, None]
    agree = ((pats == 1) * counts[:, None]).sum(0) / np.maximum(ok.sum(0), 1)
    u0 = np.clip(agree, 1e-4, 0.8)
    best, best_name, starts = None, None, []
    for name, m0 in _em_starts(u0).items():
        em = fit_em_patterns(pats, counts, m0=m0, u0=u0, lam0=lam0, fix_u=False, fix_lam=True,
                             max_iter=500, atol=1e-6, monotone=True)
        starts.append({"start": name, "loglik": em.loglik, "n_iter": em.n_iter, "converged": em.converged})
        # a later start must beat the incumbent clearly: the likelihood can be flat along a ridge
        if best is None or em.loglik > best.loglik + 1e-7 * abs(best.loglik):
            best, best_name = em, name
    free = fit_em_patterns(pats, counts, m0=_em_starts(u0)["u+0.1"], u0=u0, lam0=lam0, fix_u=False,
                           fix_lam=True, max_iter=500, atol=1e-6, monotone=False)
    return best, best_name, starts, free


def _estimate_m(fields, passes, gamma, pe, pa, ptr, codes_e, codes_a):
    """m_v by EM, one fit per blocking pass with that pass's variables left out.

    The pairs of a pass (every candidate agreeing on its blocking keys, whichever pass
    found it first) agree on its blocking variables by construction, so those fields
    carry no information there (Splink trains the same way). On the other fields, m and
    the within-block u are fitted by EM with the match share fixed at one match per
    target (``lambda = targets / pairs``): with rare matches and fields correlated among
    non-matches (postcode and ethnicity within an LA), a free lambda lets EM settle on a
    "similar non-matches" class instead of the matches. The fit is constrained to
    ``m_v >= u_v`` and restarted from several data-driven starts, keeping the highest
    likelihood (:func:`_fit_pass`; issue 6). A field's m is the pair-weighted mean over the
    passes that could estimate it, leaving out passes where the constraint binds
    (``m_v = u_v``: that pass says nothing about m_v) unless every pass binds; a field
    that blocks every pass keeps ``DEFAULT_M``. The within-block u only serves to fit m:
    scoring uses the extract-wide u.
    """
    k = len(fields)
    n_a = ptr.shape[0] - 1
    m_sum = np.zeros(k)
    m_w = np.zeros(k)
    b_sum = np.zeros(k)
    b_w = np.zeros(k)
    runs = []
    names = [f.name for f in fields]
    for p, pvars in enumerate(passes):
        if len(passes) == 1:
            use = None
            n_sel = int(pe.shape[0])
            n_t = int((np.diff(ptr) > 0).sum())
        else:
            rows = np.array([names.index(v) for v in pvars], dtype=np.int64)
            use = K.in_pass(codes_e, codes_a, pe, pa, rows)
            n_sel = int(use.sum())
            n_t = int(np.count_nonzero(np.bincount(pa[use], minlength=n_a))) if n_sel else 0
        free = [j for j, f in enumerate(fields) if f.name not in pvars]
        if n_sel == 0 or not free:
            continue
        pats, counts = patterns_of(gamma, free, use)
        em, start, starts, unconstrained = _fit_pass(pats, counts, min(0.5, n_t / n_sel))
        binding = []
        for i, j in enumerate(free):
            if em.m[i] <= em.u[i] + 1e-6:
                binding.append(names[j])
                b_sum[j] += em.m[i] * n_sel
                b_w[j] += n_sel
            else:
                m_sum[j] += em.m[i] * n_sel
                m_w[j] += n_sel
        free_names = [names[j] for j in free]
        runs.append({
            "pass": list(pvars), "n_pairs": n_sel, **em.to_dict(free_names),
            "start": start, "starts": starts, "constraint_binding": binding,
            "unconstrained_m_below_u": [n for n, a, b in zip(free_names, unconstrained.m, unconstrained.u) if a < b],
            "unconstrained_loglik": unconstrained.loglik,
        })
    only_bound = (m_w == 0) & (b_w > 0)
    m_sum = np.where(only_bound, b_sum, m_sum)
    m_w = np.where(only_bound, b_w, m_w)
    m = np.where(m_w > 0, m_sum / np.maximum(m_w, 1), DEFAULT_M)
    m = np.clip(m, _M_CLIP, 1 - _M_CLIP)
    info = {
        "m": {f.name: float(x) for f, x in zip(fields, m)},
        "m_fixed_default": [f.name for f, w in zip(fields, m_w) if w == 0],
        "constraint": "m >= u",
        "passes": runs,
    }
    return m, info


def _weight_tables(fields, scenario, m, u, tf_tabs, n_e):
    """Agreement tables (term-frequency per code, or one constant) and disagreement weights."""
    k = len(fields)
    use_tf = np.zeros(k, dtype=np.bool_)
    tabs, offs = [], np.zeros(k + 1, dtype=np.int64)
    for j, f in enumerate(fields):
        if scenario.term_frequency and f.kind == "exact":
            p = tf_tabs[j]
            t = np.log2(m[j]) - np.log2(np.where(p > 0, p, 1.0 / max(n_e, 1)))
            use_tf[j] = True
        else:
            t = np.array([np.log2(m[j] / u[j])])
        tabs.append(t.astype(np.float64))
        offs[j + 1] = offs[j] + t.shape[0]
    return np.concatenate(tabs), offs, use_tf, np.log2((1 - m) / (1 - u))


def _refine_m(fields, scenario, m, u, tf_tabs, ptr, pe, gamma, codes_e_t, log2_rest, rng, shift=None):
    """Refine m by EM whose E-step is the one-match-per-target posterior (what is scored).

    The mixture EM of :func:`_estimate_m` treats pairs as independent; when non-matches
    agree on correlated fields (same school, postcode and ethnicity) it pushes m of such
    fields towards 1, which makes one wrong value rule a true match out. Here the E-step
    is ``P(b | a)`` over each target's candidates (with the "not in the extract" term
    without response knowledge) and the M-step ``m_v = sum P [agree] / sum P [observed]``,
    on up to ``_REFINE_TARGETS`` targets drawn with the seed, kept at ``m_v >= u_v`` (the
    extract-wide u used for scoring). Fields that block any pass keep their estimate
    (agreement on them is selected by the blocking). ``shift`` (per target, or None)
    is subtracted from the target's pair weights: it carries the target's own "true record
    outside the candidates" term (:func:`_blocking_recall`) into the scalar ``log2_rest``.
    """
    blocked = {v for p in scenario.blocking for v in p}
    free = np.array([f.name not in blocked for f in fields])
    info = {"n_targets": 0, "n_iter": 0, "converged": False, "constraint": "m >= u", "constraint_binding": []}
    if not free.any():
        return m, info
    n_a = ptr.shape[0] - 1
    has = np.flatnonzero(np.diff(ptr) > 0)
    if has.size == 0:
        return m, info
    take = np.sort(rng.choice(has, size=min(has.size, _REFINE_TARGETS), replace=False))
    lens = ptr[take + 1] - ptr[take]
    sub_ptr = np.zeros(take.size + 1, dtype=np.int64)
    np.cumsum(lens, out=sub_ptr[1:])
    idx = np.concatenate([np.arange(ptr[a], ptr[a + 1]) for a in take]) if take.size < n_a else np.arange(pe.shape[0])
    sub_pe = np.ascontiguousarray(pe[idx])
    sub_gamma = np.ascontiguousarray(gamma[:, idx])
    sub_shift = None if shift is None else np.repeat(shift[take], lens)
    m = m.copy()
    for it in range(1, _REFINE_MAX_ITER + 1):
        agree_tab, offs, use_tf, dis_w = _weight_tables(fields, scenario, m, u, tf_tabs, codes_e_t.shape[0])
        W = K.pair_weights(sub_gamma, sub_pe, codes_e_t, agree_tab, offs, use_tf, dis_w)
        if sub_shift is not None:
            W = W - sub_shift
        agree, seen = K.posterior_agreement(sub_ptr, W, sub_gamma, float(log2_rest))
        new = np.where(free & (seen > 0), agree / np.maximum(seen, 1e-300), m)
        # the same constraint as the mixture EM: agreement is never evidence against a match
        new = np.clip(np.maximum(new, u), _M_CLIP, 1 - _M_CLIP)
        delta = float(np.abs(new - m).max())
        m = new
        info.update(n_targets=int(take.size), n_iter=it)
        if delta < _REFINE_TOL:
            info["converged"] = True
            break
    info["constraint_binding"] = [f.name for f, fr, a, b in zip(fields, free, m, u) if fr and a <= b + 1e-12]
    return m, info


#: at most this many blocking passes are combined exactly (inclusion-exclusion); beyond, the
#: passes are taken as independent
_MAX_EXACT_PASSES = 10


def _pass_masks(fields, passes, n_a):
    """Per target, a bit mask of the passes it can enter (its keys of the pass are all known)."""
    byname = {f.name: f for f in fields}
    mask = np.zeros(n_a, dtype=np.int64)
    for i, p in enumerate(passes):
        ok = np.ones(n_a, dtype=np.bool_)
        for v in p:
            ok &= byname[v].codes_a >= 0
        mask |= ok.astype(np.int64) << i
    return mask


def _capture(mask: int, pass_sets, g) -> float:
    """P(a target's own record agrees, with known values, on every field of at least one pass of ``mask``).

    ``g[v]`` is the probability for one field (``m_v`` times the extract's share of known
    values); fields are independent given a match (the Fellegi-Sunter model), passes are
    not (they share fields), so the union is taken by inclusion-exclusion.
    """
    idx = [i for i in range(len(pass_sets)) if mask >> i & 1]
    if not idx:
        return 0.0
    if len(idx) > _MAX_EXACT_PASSES:
        miss = 1.0
        for i in idx:
            miss *= 1.0 - float(np.prod([g[v] for v in pass_sets[i]]))
        return 1.0 - miss
    tot = 0.0
    for r in range(1, len(idx) + 1):
        for sub in itertools.combinations(idx, r):
            vs = set().union(*(pass_sets[i] for i in sub))
            tot += (-1) ** (r + 1) * float(np.prod([g[v] for v in vs]))
    return min(max(tot, 0.0), 1.0)


def _log2_block_sums(ptr, W):
    """``log2 sum_b 2^W_ab`` over each target's candidates (``-inf`` without candidates)."""
    n_a = ptr.shape[0] - 1
    out = np.full(n_a, -np.inf)
    has = np.flatnonzero(np.diff(ptr) > 0)
    if has.size:
        st = ptr[has]
        wmax = np.maximum.reduceat(W, st)
        rep = np.repeat(wmax, ptr[has + 1] - st)
        out[has] = wmax + np.log2(np.add.reduceat(np.exp2(W - rep), st))
    return out


def _recall_summary(fields, scenario, n_a, always, rho, c) -> dict:
    """Aggregate report of the blocking-recall estimate (both engines put it in ``em``)."""
    elig = _pass_masks(fields, scenario.blocking, n_a) > 0
    return {
        "fields_in_every_pass": [fields[j].name for j in always],
        "rho": float(rho),
        "mean_recall": float((rho * c[elig]).mean()) if elig.any() else None,
        "targets_with_no_usable_pass": int((~elig).sum()),
    }


def _blocking_recall(fields, passes, m, ptr, W, n_e, nonmember, *, n_cand=None, log2_sums=None):
    """The weight of "the target's record is in the extract but not among its candidates".

    Block-normalising over the candidates alone assumes that blocking never misses the
    target's own record. It does whenever a blocking field is wrong or jittered, and then
    the best wrong candidate is given the probability of the missed true record (the
    demo's nosy neighbour: stated 0.9+, 45% correct). Under the Fellegi-Sunter model the
    likelihood ratios of the extract's records that are *not* candidates sum to about
    ``n* (1 - r_a)`` (``E_U[2^W] = P_M(region)`` over non-matches), where ``r_a`` is the
    probability that a match is a candidate, so with a uniform prior over the extract

        ``P(b | a) = 2^W_ab / (sum_{b' candidate} 2^W_ab' + n* (1 - r_a) + (1 - pi) n / pi)``

    (the last term only without response knowledge, as before). ``n*`` counts the extract
    records with known values on the fields of every pass (the target's own record is one
    of them: the intruder's values derive from it), and the term is 0 for a target whose
    candidates are all of them. ``r_a`` is the union, over the passes target ``a`` can
    enter (its keys of the pass known), of ``prod_v m_v``, by inclusion-exclusion. The m
    of fields on which *every* pass blocks cannot be estimated from the candidate pairs
    (they all agree there); the probability ``rho`` that a match agrees on all of them is
    estimated by maximum likelihood over the targets, ``max_rho sum_a log(rho S_a +
    n* (1 - rho c_a) + NM)`` with ``S_a`` the target's candidate sum without those fields'
    ``m``: a concave problem, solved by bisection on its derivative, and each such field
    reports ``m = rho^(1/count)``. Under zero divergence every target finds its record and
    the derivative at ``rho = 1`` is ``>= 0`` (Cauchy-Schwarz over the classes), so
    ``rho = 1``, the added term is 0 and ``P = 1/f`` as before (domain 5.3 step 6).
    For a field compared with a tolerance but blocked on equality ``m`` overstates the
    blocking agreement (the default blocking leaves such fields out).

    The candidates enter only through their count and ``log2 sum_b 2^W_ab`` per target:
    an engine that keeps its pairs elsewhere (the Splink engine) passes ``ptr=None, W=None``
    with ``n_cand`` and ``log2_sums`` (``-inf`` for no candidates) instead.

    Returns ``(rho, always, rest, c)``: ``always`` the indices of the fields in every pass,
    ``rest`` per target (``n* (1 - rho c_a)``, without the non-member term) and ``c`` per
    target (``r_a`` without the ``rho`` factor).
    """
    names = [f.name for f in fields]
    k = len(fields)
    if ptr is not None:
        n_cand = np.diff(ptr)
        log2_sums = None if W is None else _log2_block_sums(ptr, W)
    n_cand = np.asarray(n_cand)
    n_a = n_cand.shape[0]
    always = [j for j in range(k) if all(names[j] in p for p in passes)]
    pass_sets = [{names.index(v) for v in p} for p in passes]
    g = np.where(np.isin(np.arange(k), always), 1.0, m)
    mask = _pass_masks(fields, passes, n_a)
    uniq, inv = np.unique(mask, return_inverse=True)
    c = np.array([_capture(int(x), pass_sets, g) for x in uniq])[inv.ravel()]
    # the target's own record has known values wherever the target does (the intruder's
    # values derive from it), so it is one of the records known on every always-field
    known = np.ones(n_e, dtype=np.bool_)
    for j in always:
        known &= fields[j].codes_e >= 0
    n_known = int(known.sum()) or n_e
    # a target whose candidates are all those records leaves no record for a miss
    room = (n_cand < n_known).astype(np.float64)
    rho = 1.0
    elig = (mask > 0) & (room > 0)
    if always and elig.any():
        log2_m_always = float(np.sum(np.log2(m[always])))
        s0 = np.exp2(np.minimum(np.asarray(log2_sums)[elig] - log2_m_always, 1000.0))
        ce = c[elig]

        def slope(r):
            with np.errstate(divide="ignore", invalid="ignore"):
                num = s0 - n_known * ce
                den = r * s0 + n_known * (1.0 - r * ce) + nonmember
                t = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.where(num < 0, -np.inf, 0.0))
            return float(t.sum())

        if slope(1.0) < -1e-9 * elig.sum():
            lo, hi = 0.0, 1.0
            for _ in range(80):
                mid = 0.5 * (lo + hi)
                if slope(mid) > 0:
                    lo = mid
                else:
                    hi = mid
            rho = max(0.5 * (lo + hi), 1e-12)
    rest = n_known * room * np.clip(1.0 - rho * c, 0.0, 1.0)
    return rho, always, rest, c


@contextlib.contextmanager
def _threads_for(size: int):
    """One numba thread for small inputs: waking the thread pool costs more than the work."""
    if size >= _PARALLEL_MIN:
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(before)


ENGINES = ("idrisk", "splink")


def simulate_intruder(extract, auxiliary, scenario: IntruderScenario, *, seed: int = 0,
                      sampling_fraction: float | None = None,
                      max_pairs: int = DEFAULT_MAX_PAIRS, engine: str = "idrisk",
                      splink_backend: str = "duckdb", spark_session=None,
                      splink_options=None) -> IntruderResult:
    """Simulate an intruder linking ``auxiliary`` to ``extract`` and score the claims.

    Steps (domain brief 5.3): blocking passes (union) -> field comparisons -> m by EM
    (per pass, the pass's blocking fields left out; m and within-block u fitted jointly,
    the ECM model, with the match share fixed at one match per target, constrained to
    ``m_v >= u_v`` and restarted from three data-driven starts, the highest likelihood
    kept: ``result.em["passes"]`` records the starts, log-likelihoods, fields where the
    constraint binds and what the unconstrained fit would have given), then refined by
    an EM whose E-step is the scored posterior ``P(b | a)`` itself (one match per target;
    without this step m of fields on which non-matches often agree drifts to 1 and the
    top confidence band is overconfident) -> Fellegi-Sunter weights with extract-wide, term-frequency-adjusted u
    (exact fields: ``u_v = sum_a p_E(a) p_A(a)``; other comparisons: agreement share of
    random extract x auxiliary pairs, as Splink estimates u) -> block-normalised
    probability of each candidate -> a claim per target (top candidate, ``P >=
    claim_threshold``; ties broken uniformly at random from ``seed``) -> scoring against
    the hidden truth.

    Parameters
    ----------
    extract : pandas.DataFrame
        The data to be released (not modified).
    auxiliary : pandas.DataFrame
        The intruder's data: the scenario's known variables and the hidden truth column
        ``_truth_row`` (extract row position, -1 for a non-member), as built by
        :func:`make_auxiliary` (not modified).
    scenario : IntruderScenario
    seed : int, default 0
        Tie-breaking and the random pairs used to estimate u for tolerance comparisons.
    sampling_fraction : float or None
        The extract's share of the population (pi) for the Skinner-Elliot comparison;
        ``None`` means 1 (a census extract).
    max_pairs : int
        Refuse blocking that would produce more candidate pairs.
    engine : {"idrisk", "splink"}, default "idrisk"
        ``"idrisk"``: the numba pipeline described above. ``"splink"``: the same scenario
        run by Splink (optional: ``pip install 'idrisk[splink]'``), for extracts past one
        machine: blocking rules from the scenario's passes, exact / Jaro-Winkler /
        tolerance comparison levels, term-frequency adjustment on exact fields, u by
        seeded random sampling, m by EM per pass; claims use the block-normalised
        probability computed from Splink's match weights, and the same scoring (see
        :mod:`idrisk.intruder.splink_engine`). ``result.em["engine"]`` records which
        engine ran (it is in ``to_dict()``). Splink's standard EM lacks idrisk's
        one-match-per-target refinement of m, so on data with clusters of similar
        non-matches it under-estimates the m of discriminating fields and claims fewer
        targets (documented and measured in that module).
    splink_backend : {"duckdb", "spark"}, default "duckdb"
        DuckDB embedded, or Spark on a cluster (needs ``spark_session``).
    spark_session : pyspark.sql.SparkSession or None
        An existing session for ``splink_backend="spark"`` (idrisk does not depend on pyspark).
    splink_options : mapping or None
        ``u_max_pairs`` (random pairs for u, default 2e6); ``probability``
        (``"normalised"``, the default, or ``"match_probability"``: Splink's per-pair
        posterior of the top candidate, which ignores competing candidates);
        ``duckdb_connection`` (an existing ``duckdb`` connection, e.g. with a memory limit).

    Returns
    -------
    IntruderResult

    Examples
    --------
    Zero divergence and exact keys (domain 5.3 step 6): classes of sizes (2, 1, 1, 1)
    give ``P = 1/f``, so all five records are claimed at 0.5, the three sample uniques
    are unique matches, and the expected number of correct claims is ``3 + 2/2``.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"sex": list("FFMMF"), "yob": [2012, 2012, 2012, 2013, 2013]})
    >>> sc = IntruderScenario(name="exact", known_variables=["sex", "yob"])
    >>> r = simulate_intruder(df, make_auxiliary(df, sc, seed=0), sc, seed=0)
    >>> r.claims, r.unique_matches_correct, r.expected_correct
    (5, 3, 4.0)

    Notes
    -----
    Per-pair weight ``W_ab = sum_v w_v``: agreement ``log2(m_v / p_v(a))`` (term-frequency,
    exact fields) or ``log2(m_v / u_v)``; disagreement ``log2((1 - m_v)/(1 - u_v))``; missing 0.
    With response knowledge ``P(b | a) = 2^W_ab / sum_b' 2^W_ab'`` over the target's
    candidates (domain 5.3). Without it, "the target is not in the extract" is one more
    hypothesis: with ``pi`` = ``membership_prior`` and a uniform prior ``pi / n`` on each
    extract record, ``P(b | a) = 2^W_ab / (sum_b' 2^W_ab' + (1 - pi) n / pi)``. For a target
    with one candidate this is Splink's posterior ``lambda 2^W / (lambda 2^W + 1 - lambda)``
    with ``lambda / (1 - lambda) = pi / ((1 - pi) n)`` (WE7 is tested this way).
    Blocking can miss the target's own record (a wrong or jittered blocking value), so
    both normalisations also hold ``n (1 - r_a)``, the likelihood-ratio mass of the
    records that are not candidates, with ``r_a`` the probability that a match is a
    candidate (:func:`_blocking_recall`; ``result.em["blocking_recall"]``): without it the
    one wrong candidate left after a miss was claimed at ``P = 1``. Under zero divergence
    ``r_a = 1`` and nothing changes. recordlinkage's ``ECMClassifier`` classifies each pair on
    its own (no normalisation over a target's candidates), so its claims can differ; the
    EM estimates themselves match it (tests).
    """
    if not isinstance(scenario, IntruderScenario):
        raise InvalidParameterError(f"scenario must be an IntruderScenario, got {type(scenario).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidParameterError(f"seed must be a non-negative integer, got {seed!r}")
    max_pairs = check_positive_int(max_pairs, name="max_pairs")
    if engine not in ENGINES:
        raise InvalidParameterError(f"engine must be one of {', '.join(map(repr, ENGINES))}, got {engine!r}")
    if engine == "splink":
        from .splink_engine import check_splink_options

        check_splink_options(splink_backend, spark_session, splink_options)
    elif splink_backend != "duckdb" or spark_session is not None or splink_options is not None:
        raise InvalidParameterError("splink_backend, spark_session and splink_options need engine='splink'")
    if sampling_fraction is None:
        pi = 1.0
    else:
        if isinstance(sampling_fraction, bool) or not isinstance(sampling_fraction, (int, float)) or \
                not (0 < float(sampling_fraction) <= 1):
            raise InvalidParameterError(f"sampling_fraction must be in (0, 1], got {sampling_fraction!r}")
        pi = float(sampling_fraction)
    ext = as_frame(extract, name="extract")
    aux = as_frame(auxiliary, name="auxiliary")
    kv = list(scenario.known_variables)
    check_columns(ext, kv, role="known-variable (extract)")
    missing = [str(c) for c in kv if c not in aux.columns]
    if missing:
        raise DataValidationError(
            f"the auxiliary data lack the scenario {scenario.name!r}'s known variable"
            f"{'s' if len(missing) > 1 else ''}: {', '.join(missing)} "
            f"(auxiliary columns: {', '.join(map(str, aux.columns[:30]))})"
        )
    truth = _truth_array(ext, aux)
    if engine == "splink":
        from .splink_engine import simulate_splink

        return simulate_splink(ext, aux, scenario, truth, seed, pi, max_pairs, backend=splink_backend,
                               spark_session=spark_session, options=splink_options)
    with _threads_for(len(ext) + len(aux)):
        return _simulate(ext, aux, scenario, truth, seed, pi, max_pairs)


def _simulate(ext, aux, scenario, truth, seed, pi, max_pairs):
    kv = list(scenario.known_variables)
    n_e, n_a = len(ext), len(aux)
    fields = prepare_fields(ext, aux, scenario)
    ptr, pe, pp, per_pass = candidate_pairs(fields, scenario.blocking, n_e, n_a, max_pairs=max_pairs)
    pa = K.expand_targets(ptr)
    gamma = compare_pairs(fields, pe, pa)
    n_pairs = int(pe.shape[0])
    rng = np.random.default_rng(seed)
    u, tf_tabs = _frequency_u(fields, rng, n_e, n_a)
    codes_e_t = np.ascontiguousarray(np.vstack([f.codes_e for f in fields]).T, dtype=np.int32)
    codes_e = np.ascontiguousarray(codes_e_t.T)
    codes_a = np.ascontiguousarray(np.vstack([f.codes_a for f in fields]), dtype=np.int32)
    m, em_info = _estimate_m(fields, scenario.blocking, gamma, pe, pa, ptr, codes_e, codes_a)
    k = len(fields)
    if scenario.response_knowledge:
        prior = 1.0
        log2_rest = -np.inf
    else:
        prior = scenario.membership_prior
        if prior is None:
            prior = 0.5  # uninformative; run_scenarios uses the published share n / N
        log2_rest = -np.inf if prior >= 1.0 else math.log2((1 - prior) * n_e / prior)
    nonmember = 0.0 if log2_rest == -np.inf else float(2.0 ** log2_rest)

    def weights(m):
        agree_tab, offs, use_tf, dis_w = _weight_tables(fields, scenario, m, u, tf_tabs, n_e)
        return K.pair_weights(gamma, pe, codes_e_t, agree_tab, offs, use_tf, dis_w)

    def with_recall(m):
        # the blocking's missed matches as one more term of each target's normalisation
        rho, always, rest, c = _blocking_recall(fields, scenario.blocking, m, ptr, weights(m), n_e, nonmember)
        m = m.copy()
        if always:
            m[always] = np.clip(rho ** (1.0 / len(always)), _M_CLIP, 1 - _M_CLIP)
        total = rest + nonmember
        if not (total > 0).any():
            return m, rho, always, c, -np.inf, None
        top = float(total.max())
        ref = math.log2(top)
        # the kernels take one scalar term: carry each target's own term as a shift of its weights
        shift = np.log2(np.maximum(total, top * 2.0 ** -900)) - ref
        return m, rho, always, c, ref, shift

    m, rho, always, c, log2_ref, shift = with_recall(m)
    m, refine_info = _refine_m(fields, scenario, m, u, tf_tabs, ptr, pe, gamma, codes_e_t, log2_ref, rng, shift)
    m, rho, always, c, log2_ref, shift = with_recall(m)
    em_info["m"] = {f.name: float(x) for f, x in zip(fields, m)}
    em_info["u"] = {f.name: float(x) for f, x in zip(fields, u)}  # extract-wide u used for scoring
    em_info["refinement"] = refine_info
    em_info["blocking_recall"] = _recall_summary(fields, scenario, n_a, always, rho, c)
    em_info["engine"] = "idrisk"
    W = weights(m)
    if shift is not None:
        W = W - shift[pa]
    tie_draw = rng.random(n_a)
    best, prob, n_tied, n_cand, n_full, full_e = K.score_targets(ptr, pe, W, gamma, float(log2_ref),
                                                                 tie_draw, _TIE_TOL)
    # blocking recall: is the true record among the target's candidates?
    true_in = K.true_candidate(ptr, pe, truth)
    # extract classes on the known variables (for the Skinner-Elliot comparison)
    enc = encode(ext, kv, warn_identifiers=False)
    mat, cards = enc.codes_for(kv, "category")
    _, sizes = group_ids(mat, cards)
    n1 = int((sizes == 1).sum())
    n2 = int((sizes == 2).sum())
    return score_claims(best=best, prob=prob, truth=truth, n_full=n_full, full_e=full_e, n_cand=n_cand,
                        true_in_candidates=true_in, scenario=scenario, seed=seed, n_extract=n_e,
                        n_pairs=n_pairs, pairs_per_pass=per_pass, n1=n1, n2=n2, pi=pi,
                        membership_prior=prior, em=em_info)


# --------------------------------------------------------------------------- run_scenarios

_SUMMARY_METRICS = ("claims", "correct_claims", "precision", "reidentification_rate",
                    "extract_reidentified_share", "high_confidence_claims", "high_confidence_correct",
                    "brier_score", "unique_matches", "unique_match_correct_share")


@dataclass
class ScenarioRunsResult:
    """Repeated seeded runs of several scenarios (aggregates only).

    ``runs``: one row per scenario and repeat. ``summary``: per scenario and metric the
    mean, standard deviation and a ``level`` prediction interval for one further run,
    ``mean +- t_{r-1} * sd * sqrt(1 + 1/r)`` over ``r`` repeats (normal approximation),
    clipped to the metric's range.
    """

    runs: pd.DataFrame = field(repr=False)
    summary: pd.DataFrame
    level: float
    n_repeats: int
    seed: int
    scenarios: list = field(repr=False)

    def to_dict(self) -> dict:
        def rec(df):
            return [{c: (None if isinstance(v, float) and not math.isfinite(v) else
                         (v.item() if hasattr(v, "item") else v)) for c, v in r.items()}
                    for r in df.to_dict(orient="records")]
        return {"level": self.level, "n_repeats": self.n_repeats, "seed": self.seed,
                "scenarios": self.scenarios, "runs": rec(self.runs), "summary": rec(self.summary)}


def _t_quantile(p: float, df: int) -> float:
    try:
        from scipy.stats import t

        return float(t.ppf(p, df))
    except ImportError:  # pragma: no cover - scipy comes with scikit-learn
        return 1.959963984540054


def _summarise(runs: pd.DataFrame, level: float) -> pd.DataFrame:
    rows = []
    for name, grp in runs.groupby("scenario", sort=False):
        r = len(grp)
        for metric in _SUMMARY_METRICS:
            x = grp[metric].to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            if x.size == 0:
                rows.append({"scenario": name, "metric": metric, "mean": np.nan, "sd": np.nan,
                             "lower": np.nan, "upper": np.nan, "n_runs": 0})
                continue
            mean = float(x.mean())
            sd = float(x.std(ddof=1)) if x.size > 1 else 0.0
            half = _t_quantile(0.5 + level / 2, max(x.size - 1, 1)) * sd * math.sqrt(1 + 1 / x.size)
            lo, hi = mean - half, mean + half
            lo = max(lo, 0.0)
            if metric in ("precision", "reidentification_rate", "extract_reidentified_share",
                          "brier_score", "unique_match_correct_share"):
                hi = min(hi, 1.0)
            rows.append({"scenario": name, "metric": metric, "mean": mean, "sd": sd,
                         "lower": lo, "upper": hi, "n_runs": int(x.size)})
    return pd.DataFrame(rows, columns=["scenario", "metric", "mean", "sd", "lower", "upper", "n_runs"])


def run_scenarios(extract, population, scenarios, *, seed: int = 0, n_repeats: int = 5,
                  id_column: str = "pupil_id", level: float = 0.95,
                  max_pairs: int = DEFAULT_MAX_PAIRS) -> ScenarioRunsResult:
    """Run every scenario ``n_repeats`` times with auxiliary data drawn from ``population``.

    For each scenario and repeat, the intruder's data are built from the *population's*
    values (so an extract that was protected, for example coarsened or swapped, is
    attacked with true outside knowledge): with response knowledge the targets are drawn
    from the population records that are in the extract; without it from the whole
    population (non-members included, with truth -1). Records are matched between the
    two tables on ``id_column``. A scenario without response knowledge and without a
    ``membership_prior`` uses the extract's share of the population, ``n / N`` (extract and
    population sizes are published), since that is the chance a target is in the extract. The scenario's divergence, the target sample and the
    tie-breaking derive from ``seed`` and the repeat number.

    Parameters
    ----------
    extract, population : pandas.DataFrame
        Both hold ``id_column`` and the scenarios' known variables (not modified).
    scenarios : IntruderScenario, sequence of them, or a preset name / TOML path
    seed : int, default 0
    n_repeats : int, default 5
    id_column : str, default "pupil_id"
    level : float, default 0.95
        Coverage of the reported prediction interval.

    Returns
    -------
    ScenarioRunsResult
    """
    if isinstance(scenarios, (str,)) or hasattr(scenarios, "__fspath__"):
        scenarios = load_scenarios(scenarios)
    elif isinstance(scenarios, IntruderScenario):
        scenarios = [scenarios]
    if not isinstance(scenarios, Sequence) or not scenarios or \
            not all(isinstance(s, IntruderScenario) for s in scenarios):
        raise InvalidParameterError("scenarios must be an IntruderScenario, a list of them, or a preset name")
    n_repeats = check_positive_int(n_repeats, name="n_repeats")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidParameterError(f"seed must be a non-negative integer, got {seed!r}")
    if not (isinstance(level, float) and 0 < level < 1):
        raise InvalidParameterError(f"level must be a float in (0, 1), got {level!r}")
    ext = as_frame(extract, name="extract")
    pop = as_frame(population, name="population")
    check_columns(ext, [id_column], role="id")
    check_columns(pop, [id_column], role="id")
    if ext[id_column].duplicated().any() or pop[id_column].duplicated().any():
        raise DataValidationError(f"`{id_column}` must identify records uniquely in the extract and the population")
    truth_all = pd.Index(ext[id_column]).get_indexer(pop[id_column]).astype(np.int64)
    n_members = int((truth_all >= 0).sum())
    if n_members < len(ext):
        raise DataValidationError(
            f"{len(ext) - n_members} extract record(s) have a `{id_column}` not found in the population"
        )
    pi = len(ext) / len(pop)
    members = np.flatnonzero(truth_all >= 0)
    from tqdm.auto import tqdm

    rows = []
    seeds = np.random.SeedSequence(int(seed)).generate_state(len(scenarios) * n_repeats, dtype=np.uint32)
    jobs = [(s, r) for s in scenarios for r in range(n_repeats)]
    for i, (sc, r) in enumerate(tqdm(jobs, desc="intruder runs", disable=not sys.stderr.isatty())):
        check_columns(pop, sc.known_variables, role=f"known-variable (population, scenario {sc.name!r})")
        s_i = int(seeds[i])
        rng = np.random.default_rng(s_i)
        pool = members if sc.response_knowledge else np.arange(len(pop))
        if isinstance(sc.targets, list):
            pos = _target_positions(pop, sc.targets, rng)
        else:
            pos = pool[_target_positions(pop.iloc[pool], sc.targets, rng)]
        aux = _build(pop, truth_all, pos, sc, rng, pop)
        if not sc.response_knowledge and sc.membership_prior is None:
            # targets come from the population: P(in extract) is the published share n/N
            sc = dataclasses.replace(sc, membership_prior=min(pi, 1.0))
        res = simulate_intruder(ext, aux, sc, seed=s_i, sampling_fraction=pi, max_pairs=max_pairs)
        row = {"scenario": sc.name, "repeat": r, "seed": s_i, "n_targets": res.n_targets,
               "n_targets_in_extract": res.n_targets_in_extract}
        row.update({m: getattr(res, m) for m in _SUMMARY_METRICS})
        row["skinner_elliot_theta"] = res.skinner_elliot_theta
        rows.append(row)
    runs = pd.DataFrame(rows)
    return ScenarioRunsResult(runs=runs, summary=_summarise(runs, level), level=level, n_repeats=n_repeats,
                              seed=int(seed), scenarios=[s.to_dict() for s in scenarios])
