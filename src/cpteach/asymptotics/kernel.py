"""The kernel statement, read precisely (docs/theory.md, section 4A): the masked residuals (4.2) of the
adjoints, for fixed l and growing L or for every l of one run, and the limit (4.3) of delta_P^l."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from .. import _validate
from ..backprop import BackpropResult, backprop
from ._checks import _check_trace, _norm
from .masked import _check_masks, _masked_matrix
from .settled_masks import Masks, _iteration_masks, masks

__all__ = ["ScaledResiduals", "KernelResiduals", "kernel_residuals", "projection_limit", "IterationResiduals",
           "iteration_residuals"]


@dataclass(frozen=True)
class ScaledResiduals:
    """The six scaled residuals (4.2)-(4.3) of delta_P^l, delta_D^l, one entry per row (an L or an l).

    ``K_delta_P`` = ||K delta_P^l|| / (||K|| ||delta_P^l||) and ``DK_delta_P`` the same with the mask
    M_D^l of iteration l (4.2); ``Kt_delta_D`` = ||K^T delta_D^l|| / (||K|| ||e||) and ``PKt_delta_D`` with
    the mask M_P^l (4.2) (scaled by ||e||, not ||delta_D^l||, because delta_D^l itself tends to 0 by (4.3));
    ``delta_P_norm``, ``delta_D_norm`` = ||delta_P^l|| / ||e||, ||delta_D^l|| / ||e|| with
    e = delta_P^{L+1} = x^L - y (3.0). A residual whose scale is 0 is 0.
    """

    K_delta_P: np.ndarray
    DK_delta_P: np.ndarray
    Kt_delta_D: np.ndarray
    PKt_delta_D: np.ndarray
    delta_P_norm: np.ndarray
    delta_D_norm: np.ndarray


@dataclass(frozen=True)
class KernelResiduals(ScaledResiduals):
    """The residuals (:class:`ScaledResiduals`) of (4.2) for a fixed l and growing L (one entry per L in ``Ls``).

    ``delta_P``, ``delta_D`` hold delta_P^l, delta_D^l for each L; ``M_P``, ``M_D`` are the masks M_P^l, M_D^l
    of iteration l.
    """

    l: int
    Ls: np.ndarray
    delta_P: np.ndarray
    delta_D: np.ndarray
    M_P: np.ndarray
    M_D: np.ndarray


def _ratio(a, b):
    """a / b entrywise, 0 where b = 0."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    return np.divide(a, b, out=np.zeros_like(a), where=b > 0)


def _row_norms(a, rows):
    return np.sqrt(np.sum(np.reshape(a, (rows, -1)) ** 2, axis=1))


def _residuals(K, delta_P, delta_D, M_P, M_D, e):
    """The scaled residuals (4.2) of :class:`KernelResiduals` for stacked delta_P, delta_D (one row each).

    ``M_P``, ``M_D``: the masks of each row (or one pair for all rows); ``e``: ||x^L - y|| of each row (or one).
    """
    rows, norm_K = len(delta_P), K.norm()
    K_dP, Kt_dD = K.apply(delta_P), K.adjoint(delta_D)
    dP = _row_norms(delta_P, rows)
    scale_P, scale_D = norm_K * dP, norm_K * np.asarray(e)       # delta_D^l itself tends to 0 (4.3)
    return dict(K_delta_P=_ratio(_row_norms(K_dP, rows), scale_P),
                DK_delta_P=_ratio(_row_norms(M_D * K_dP, rows), scale_P),          # (4.2)
                Kt_delta_D=_ratio(_row_norms(Kt_dD, rows), scale_D),
                PKt_delta_D=_ratio(_row_norms(M_P * Kt_dD, rows), scale_D),        # (4.2)
                delta_P_norm=_ratio(dP, e),
                delta_D_norm=_ratio(_row_norms(delta_D, rows), e))               # (4.3): -> 0


def kernel_residuals(trace, y, l, Ls):
    """For fixed l, the masked and unmasked kernel residuals of delta_P^l, delta_D^l for each L in Ls (4.2).

    Backpropagates through the first L iterations of ``trace`` (the same iterates as a run
    of length L) for every L in ``Ls``. With the masks fixed from l_o on (see
    :func:`masks`), ||D K delta_P^l|| and ||P K^T delta_D^l|| tend to 0 as L grows, while
    ||K delta_P^l|| need not: the poster's "delta_P in ker K" holds only on the active sets.

    Parameters
    ----------
    trace : CPTrace with L >= max(Ls); y : the ground truth; l : int, 1 <= l <= min(Ls);
    Ls : increasing iteration counts.

    Returns
    -------
    KernelResiduals
        ``delta_P``, ``delta_D`` hold delta_P^l, delta_D^l for each L (shape (len(Ls), ...)).

    Examples
    --------
    >>> from cpteach import operators, prox, chambolle_pock
    >>> K = operators.FiniteDifference(5)
    >>> x = np.array([0., 0.1, 1., 0.9, 1.])
    >>> trace = chambolle_pock(K, prox.L1(0.5), prox.L1(0.3), x, tau=0.49, sigma=0.49, L=300)
    >>> r = kernel_residuals(trace, np.array([0., 0., 1., 1., 1.]), 50, [100, 300])
    >>> r.DK_delta_P.shape, r.delta_P.shape
    ((2,), (2, 5))
    """
    _check_trace(trace)
    Ls = np.asarray(Ls, dtype=int)
    if Ls.ndim != 1 or Ls.size == 0 or np.any(np.diff(Ls) <= 0) or Ls[-1] > trace.L:
        raise ValueError(f"Ls must be increasing iteration counts <= trace.L = {trace.L}, got {Ls!r}")
    l = _validate.integer("l", l, 1, "the iteration index")
    if l > Ls[0]:
        raise ValueError(f"l must be an integer in [1, min(Ls) = {Ls[0]}], got {l!r}")
    M_P, M_D = _iteration_masks(trace, l)                         # (4.1) at iteration l
    delta_P, delta_D, e = [], [], []
    for L in Ls:
        prefix = trace.prefix(int(L))
        res = backprop(prefix, y)
        delta_P.append(res.delta_P[l - 1])
        delta_D.append(res.delta_D[l - 1])
        e.append(_norm(prefix.x_L - y))                           # ||delta_P^{L+1}||, (3.0)
    delta_P, delta_D = np.array(delta_P), np.array(delta_D)
    return KernelResiduals(l=int(l), Ls=Ls, **_residuals(trace.K, delta_P, delta_D, M_P, M_D, np.array(e)),
                           delta_P=delta_P, delta_D=delta_D, M_P=M_P, M_D=M_D)


def projection_limit(K, M_P, M_D, e, rtol=1e-10):
    """The limit (4.3) of delta_P^l: the orthogonal projection of M_P e onto range(M_P) ∩ ker(M_D K).

    Computed densely (an SVD of M_D K restricted to the active rows and columns), for
    teaching sizes (n up to a few thousand) and unbatched data.

    Parameters
    ----------
    K : operator; M_P : bool array (shape_in), M_D : bool array (shape_out), the masks (4.1);
    e : array (shape_in), e.g. delta_P^{L+1} = x^L - y; rtol : relative singular value
    threshold for the kernel.

    Returns
    -------
    array of shape K.shape_in; zero when range(M_P) ∩ ker(M_D K) = {0}, e.g. for a unique solution.

    Examples
    --------
    >>> from cpteach import operators
    >>> K = operators.FiniteDifference(3)
    >>> M_P = np.array([True, True, False]); M_D = np.array([[True, False, False]])
    >>> projection_limit(K, M_P, M_D, np.array([1., 3., 5.]))   # constant on {0, 1}: mean of 1, 3
    array([2., 2., 0.])
    """
    M_P, M_D = _check_masks(K, M_P, M_D, "projection_limit")
    e = _validate.finite_array("e", e)
    if e.shape != tuple(K.shape_in):
        raise ValueError(f"projection_limit needs an unbatched e of shape {tuple(K.shape_in)}, got {e.shape}")
    cols, rows = np.flatnonzero(M_P), np.flatnonzero(M_D)
    out = np.zeros(K.size_in)
    if cols.size == 0:
        return out.reshape(K.shape_in)
    A = _masked_matrix(K, M_P, M_D)                          # M_D K M_P on the active sets
    N = scipy.linalg.null_space(A, rcond=rtol) if rows.size else np.eye(cols.size)
    out[cols] = N @ (N.T @ e.ravel()[cols])                 # (4.3)
    return out.reshape(K.shape_in)


@dataclass(frozen=True)
class IterationResiduals(ScaledResiduals):
    """The residuals (:class:`ScaledResiduals`) of (4.2) for every l = 1..L of ONE run of length L.

    Arrays of length L, entry l - 1 for iteration l, each with the masks of iteration l;
    ``masks`` are the :class:`Masks` of the run.
    """

    masks: Masks


def iteration_residuals(trace, y, result=None):
    """The kernel residuals (4.2) at every iteration l = 1..L of one run, masks of iteration l.

    Once the masks are fixed (l >= l_o) the backward map does not depend on l, so reading
    l from L down to 1 in one run of length L shows what :func:`kernel_residuals` shows by
    fixing l and letting L grow: far from the end the masked residuals vanish.

    Parameters
    ----------
    trace : CPTrace (unbatched) with L >= 1 and 0/1 prox derivatives (4.1)
    y : array, the ground truth
    result : BackpropResult of ``backprop(trace, y)`` or None (then it is computed)

    Returns
    -------
    IterationResiduals

    Examples
    --------
    >>> from cpteach import operators, prox, chambolle_pock
    >>> x = np.array([0., 0.1, 1., 0.9, 1.])
    >>> trace = chambolle_pock(operators.FiniteDifference(5), prox.L1(0.5), prox.L1(0.3), x,
    ...                        tau=0.49, sigma=0.49, L=300)
    >>> r = iteration_residuals(trace, np.array([0., 0., 1., 1., 1.]))
    >>> r.DK_delta_P.shape, r.masks.l_o
    ((300,), 7)
    """
    _check_trace(trace)
    y = _validate.ground_truth(y, trace.data)
    m = masks(trace)
    res = backprop(trace, y) if result is None else result
    if not isinstance(res, BackpropResult):
        raise TypeError(f"result must be the BackpropResult of cpteach.backprop, got {type(res).__name__}")
    e = _norm(trace.x_L - y)                                          # ||delta_P^{L+1}||, (3.0)
    return IterationResiduals(**_residuals(trace.K, res.delta_P, res.delta_D, m.M_P, m.M_D, e), masks=m)   # masks of l
