"""The plain Fellegi-Sunter helpers the intruder tests use as references.

``fit_em`` runs idrisk's EM on comparison vectors (not on pre-collapsed patterns), the form
recordlinkage's ``ECMClassifier`` and the naive EM in ``naive_intruder`` take; the others are
the textbook weights and Splink's per-pair posterior (docs/methods.md#fellegi-sunter).
"""

from __future__ import annotations

import numpy as np

from idrisk.intruder.fellegi_sunter import fit_em_patterns, patterns_of


def fit_em(gamma: np.ndarray, *, m0=0.9, u0=0.1, lam0=0.1, fix_u: bool = False, fix_lam: bool = False,
           max_iter: int = 100, atol: float = 1e-4, monotone: bool = False) -> EMResult:
    """Estimate m, u and the match share lambda by EM over comparison vectors.

    Parameters
    ----------
    gamma : int8 array (k, n_pairs) with 1 agree, 0 disagree, -1 missing
    m0, u0 : float or array of k floats — starting values (``u0`` is kept when ``fix_u``)
    lam0 : float — starting match share
    fix_u : bool — keep u at ``u0`` (Splink: u from random sampling)
    fix_lam : bool — keep lambda at ``lam0`` (known number of matches)
    max_iter, atol : stop after ``max_iter`` iterations or when no parameter moves more
        than ``atol`` (recordlinkage ECM's rule; its default ``atol`` is 1e-4).
    monotone : bool — constrain ``m_v >= u_v`` for every field (see
        :func:`idrisk._kernels.linkage.em_fit_monotone`); ``False`` is recordlinkage's ECM.

    ``EMResult.loglik`` is the observed-data log-likelihood at the returned parameters.
    """
    pats, counts = patterns_of(gamma)
    return fit_em_patterns(pats, counts, m0=m0, u0=u0, lam0=lam0, fix_u=fix_u, fix_lam=fix_lam,
                           max_iter=max_iter, atol=atol, monotone=monotone)


def field_weights(m, u):
    """Agreement and disagreement weights ``(log2(m/u), log2((1-m)/(1-u)))``."""
    m = np.asarray(m, dtype=np.float64)
    u = np.asarray(u, dtype=np.float64)
    return np.log2(m / u), np.log2((1.0 - m) / (1.0 - u))


def prior_weight(lam: float) -> float:
    """Splink's prior as a weight: ``log2(lambda / (1 - lambda))``."""
    return float(np.log2(lam / (1.0 - lam)))


def match_probability(match_weight):
    """Splink's per-pair posterior ``2^mw / (1 + 2^mw)`` for ``mw = prior_weight + W``."""
    mw = np.asarray(match_weight, dtype=np.float64)
    return 1.0 / (1.0 + np.exp2(-mw))
