"""Asymptotics of the backpropagated gradients as L -> infinity (docs/theory.md, section 4).

- :func:`masks`: the 0/1 prox derivatives P^l, D^l per iteration and the first l_o from
  which they no longer change (4.1);
- :func:`kernel_residuals`: for fixed l, the masked and unmasked residuals of (4.2) as L grows;
- :func:`projection_limit`: the limit (4.3) of delta_P^l;
- :func:`partial_sums` and :func:`limit_gradient`: the sums (4.4) and the formula (4.5);
- :func:`summability`: whether (4.4) converges, and if not the slope (4.6) against the
  observed growth of the unrolled gradient.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from . import _validate
from .backprop import BackpropResult, _gradient_at_solution, backprop
from .chambolle_pock import CPTrace, _z_D, _z_P, chambolle_pock, check_problem, check_steps, solve


__all__ = ["Masks", "masks", "KernelResiduals", "kernel_residuals", "projection_limit", "partial_sums",
           "limit_gradient", "Summability", "summability", "solution_masks"]


def _check_trace(trace):
    if not isinstance(trace, CPTrace):
        raise TypeError(f"expected the CPTrace returned by cpteach.chambolle_pock, got {type(trace).__name__}")
    _check_masked(trace.F_conj, trace.G)


def _check_masked(F_conj, G):
    """Assumption (4.1) needs 0/1 prox derivatives of F* and G."""
    for name, f in (("F*", F_conj), ("G", G)):
        if not f.has_mask:
            raise TypeError(
                f"the prox derivative of {name} = {f!r} is not a 0/1 mask, so assumption (4.1) does not apply; "
                "use functions with has_mask (L1, Box, Zero, and conjugates such as L1().conjugate())")


def _kink(f, v, step, kink_tol):
    """Entries of v within kink_tol * max(1, |v|) of a jump of f.mask (an ambiguous 0/1 value)."""
    e = kink_tol * np.maximum(1.0, np.abs(v))
    m = f.mask(v, step)
    return (f.mask(v + e, step) != m) | (f.mask(v - e, step) != m)


@dataclass(frozen=True)
class Masks:
    """The masks (4.1) per iteration: ``P[l - 1]`` = P^l, ``D[l - 1]`` = D^l for l = 1..L.

    ``P_kink``, ``D_kink`` mark entries sitting on a kink (within the tolerance);
    ``changes[l - 1]`` counts the off-kink entries of (P^l, D^l) that differ from
    (P^{l-1}, D^{l-1}) (0 for l = 1); ``l_o`` is the first l with (P^m, D^m) = (P^L, D^L)
    off the kinks for all m >= l.
    """

    P: np.ndarray
    D: np.ndarray
    P_kink: np.ndarray
    D_kink: np.ndarray
    changes: np.ndarray
    l_o: int


def masks(trace, kink_tol=1e-9):
    """The prox-derivative masks P^l = prox'_{tau G}(z_P^l - x), D^l = prox'_{sigma F*}(z_D^l) and l_o (4.1).

    Parameters
    ----------
    trace : CPTrace with L >= 1, whose F* and G have 0/1 prox derivatives (``has_mask``).
    kink_tol : float, relative distance to a kink below which an entry counts as ambiguous;
        changes of ambiguous entries are ignored when finding l_o.

    Returns
    -------
    Masks

    Examples
    --------
    >>> from cpteach import operators, prox, chambolle_pock
    >>> K = operators.FiniteDifference(5)
    >>> trace = chambolle_pock(K, prox.L1(0.5), prox.L1(0.3), np.array([0., 0., 1., 1., 1.]),
    ...                        tau=0.49, sigma=0.49, L=100)
    >>> m = masks(trace)
    >>> m.P.shape, m.l_o <= 100
    ((100, 5), True)
    """
    _check_trace(trace)
    if trace.L < 1:
        raise ValueError("masks need a trace with L >= 1 iterations")
    G, F_conj, tau, sigma = trace.G, trace.F_conj, trace.tau, trace.sigma
    v_P = trace.z_P_all - trace.data
    P = G.mask(v_P, tau)                                          # (4.1)
    D = F_conj.mask(trace.z_D_all, sigma)                            # (4.1)
    P_kink = _kink(G, v_P, tau, kink_tol)
    D_kink = _kink(F_conj, trace.z_D_all, sigma, kink_tol)

    def differ(mask, kink, a, b):
        return np.sum((mask[a] != mask[b]) & ~kink[a] & ~kink[b], axis=tuple(range(1, mask.ndim)))

    L = trace.L
    changes = np.zeros(L, dtype=int)
    changes[1:] = differ(P, P_kink, slice(1, L), slice(0, L - 1)) + differ(D, D_kink, slice(1, L), slice(0, L - 1))
    last = np.full(L, L - 1)
    off_final = differ(P, P_kink, slice(0, L), last) + differ(D, D_kink, slice(0, L), last)
    bad = np.flatnonzero(off_final)
    l_o = int(bad[-1]) + 2 if bad.size else 1
    return Masks(P=P, D=D, P_kink=P_kink, D_kink=D_kink, changes=changes, l_o=l_o)


@dataclass(frozen=True)
class KernelResiduals:
    """Residuals of (4.2) for a fixed l and growing L (one entry per L).

    Relative residuals ``K_delta_P`` = ||K delta_P^l|| / (||K|| ||delta_P^l||) and
    ``DK_delta_P`` = ||D K delta_P^l|| / (||K|| ||delta_P^l||); ``Kt_delta_D`` =
    ||K^T delta_D^l|| / (||K|| ||e||) and ``PKt_delta_D`` = ||P K^T delta_D^l|| / (||K|| ||e||)
    (scaled by ||e||, not ||delta_D^l||, because delta_D^l itself tends to 0 by (4.3)). ``delta_P_norm``, ``delta_D_norm`` are
    ||delta_P^l|| / ||e|| and ||delta_D^l|| / ||e|| with e = delta_P^{L+1} = x^L - y.
    ``P``, ``D`` are the masks of iteration l.
    """

    l: int
    Ls: np.ndarray
    K_delta_P: np.ndarray
    DK_delta_P: np.ndarray
    Kt_delta_D: np.ndarray
    PKt_delta_D: np.ndarray
    delta_P_norm: np.ndarray
    delta_D_norm: np.ndarray
    delta_P: np.ndarray
    delta_D: np.ndarray
    P: np.ndarray
    D: np.ndarray


def _norm(v):
    return float(np.sqrt(np.sum(np.square(v))))


def _ratio(a, b):
    return a / b if b > 0 else 0.0


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
    K = trace.K
    norm_K = K.norm()
    P = trace.G.mask(trace.z_P(l) - trace.data, trace.tau)       # (4.1) at iteration l
    D = trace.F_conj.mask(trace.z_D(l), trace.sigma)              # (4.1) at iteration l
    rows = {name: [] for name in ("K_dP", "DK_dP", "Kt_dD", "PKt_dD", "dP", "dD", "delta_P", "delta_D")}
    for L in Ls:
        prefix = trace.prefix(int(L))
        res = backprop(prefix, y)
        delta_P, delta_D = res.delta_P[l - 1], res.delta_D[l - 1]
        e = _norm(prefix.x_L - y)                                 # ||delta_P^{L+1}||, (3.0)
        K_dP, Kt_dD = K.apply(delta_P), K.adjoint(delta_D)
        scale_P, scale_D = norm_K * _norm(delta_P), norm_K * e   # delta_D^l itself tends to 0 (4.3)
        rows["K_dP"].append(_ratio(_norm(K_dP), scale_P))
        rows["DK_dP"].append(_ratio(_norm(D * K_dP), scale_P))    # (4.2)
        rows["Kt_dD"].append(_ratio(_norm(Kt_dD), scale_D))
        rows["PKt_dD"].append(_ratio(_norm(P * Kt_dD), scale_D))  # (4.2)
        rows["dP"].append(_ratio(_norm(delta_P), e))
        rows["dD"].append(_ratio(_norm(delta_D), e))
        rows["delta_P"].append(delta_P)
        rows["delta_D"].append(delta_D)
    a = {name: np.array(v) for name, v in rows.items()}
    return KernelResiduals(l=int(l), Ls=Ls, K_delta_P=a["K_dP"], DK_delta_P=a["DK_dP"], Kt_delta_D=a["Kt_dD"],
                           PKt_delta_D=a["PKt_dD"], delta_P_norm=a["dP"], delta_D_norm=a["dD"],
                           delta_P=a["delta_P"], delta_D=a["delta_D"], P=P, D=D)


def _dense(K):
    """The matrix of K (k x n), column j = K e_j."""
    n = K.size_in
    return K.apply(np.eye(n).reshape((n,) + tuple(K.shape_in))).reshape(n, -1).T


def projection_limit(K, P, D, e, rtol=1e-10):
    """The limit (4.3) of delta_P^l: the orthogonal projection of P e onto range(P) ∩ ker(D K).

    Computed densely (an SVD of D K restricted to the active rows and columns), for
    teaching sizes (n up to a few thousand) and unbatched data.

    Parameters
    ----------
    K : operator; P : bool array (shape_in), D : bool array (shape_out), the masks (4.1);
    e : array (shape_in), e.g. delta_P^{L+1} = x^L - y; rtol : relative singular value
    threshold for the kernel.

    Returns
    -------
    array of shape K.shape_in; zero when range(P) ∩ ker(DK) = {0}, e.g. for a unique solution.

    Examples
    --------
    >>> from cpteach import operators
    >>> K = operators.FiniteDifference(3)
    >>> P = np.array([True, True, False]); D = np.array([[True, False, False]])
    >>> projection_limit(K, P, D, np.array([1., 3., 5.]))   # constant on {0, 1}: mean of 1, 3
    array([2., 2., 0.])
    """
    P, D, e = np.asarray(P, bool), np.asarray(D, bool), np.asarray(e, float)
    if P.shape != tuple(K.shape_in) or D.shape != tuple(K.shape_out) or e.shape != tuple(K.shape_in):
        raise ValueError(
            f"projection_limit needs unbatched P, e of shape {tuple(K.shape_in)} and D of shape "
            f"{tuple(K.shape_out)}; got P {P.shape}, D {D.shape}, e {e.shape}")
    cols, rows = np.flatnonzero(P), np.flatnonzero(D)
    out = np.zeros(K.size_in)
    if cols.size == 0:
        return out.reshape(K.shape_in)
    A = _dense(K)[np.ix_(rows, cols)]                      # D K P on the active sets
    N = scipy.linalg.null_space(A, rcond=rtol) if rows.size else np.eye(cols.size)
    out[cols] = N @ (N.T @ e.ravel()[cols])                 # (4.3)
    return out.reshape(K.shape_in)


def partial_sums(result):
    """The partial sums (4.4): Delta_P = sum_l delta_P^l, Delta_D = sum_l delta_D^l (l = 1..L)."""
    if not isinstance(result, BackpropResult):
        raise TypeError(f"partial_sums expects the BackpropResult of cpteach.backprop, got {type(result).__name__}")
    return result.delta_P.sum(axis=0), result.delta_D.sum(axis=0)


def limit_gradient(K, Delta_P, Delta_D, x_star, xi_star, *, tau, sigma):
    """The limit formula (4.5): sigma Delta_D x*^T - tau xi* Delta_P^T (via ``K.param_grad``).

    Examples
    --------
    >>> from cpteach import operators
    >>> K = operators.Matrix(np.eye(2))
    >>> limit_gradient(K, np.array([1., 0.]), np.array([0., 2.]), np.array([1., 1.]),
    ...                np.array([1., 0.]), tau=0.5, sigma=0.5)
    array([[-0.5,  0. ],
           [ 1. ,  1. ]])
    """
    _validate.operator(K)
    tau, sigma = _validate.positive("tau", tau), _validate.positive("sigma", sigma)
    x_star = _validate.finite_array("x_star", x_star)
    x_star = K.check_input(x_star, "x_star")
    Delta_P = _validate.primal(K, x_star, Delta_P, "Delta_P")
    Delta_D = _validate.dual(K, x_star, Delta_D, "Delta_D")
    xi_star = _validate.dual(K, x_star, xi_star, "xi_star")
    return _gradient_at_solution(K, Delta_P, Delta_D, x_star, xi_star, tau, sigma)   # (4.5)


def solution_masks(K, F, G, x, x_star, xi_star, *, tau, sigma):
    """The masks (4.1) at the fixed point: P = prox'_{tau G}(x* - tau K^T xi* - x), D = prox'_{sigma F*}(xi* + sigma K x*)."""
    x = check_problem(K, F, G, x)
    tau, sigma, _ = check_steps(K, tau, sigma, 1.0)
    x_star = _validate.primal(K, x, x_star, "x_star")
    xi_star = _validate.dual(K, x, xi_star, "xi_star")
    P = G.mask(_z_P(K, x_star, xi_star, tau) - x, tau)              # (4.1) at (2.3), x^l = x*
    D = F.conjugate().mask(_z_D(K, xi_star, x_star, sigma), sigma)   # (4.1) at (2.1), x_bar^l = x*
    return P, D


@dataclass(frozen=True)
class Summability:
    """Whether the sums (4.4) converge, and the growth of the unrolled gradient if not.

    ``delta_P_limit`` is the projection (4.3) at the solution's masks with e = x* - y;
    ``summable`` is True when it vanishes (||delta_P_limit|| <= rtol ||e||).
    ``predicted_slope`` is (4.6), -tau xi* delta_P_limit^T; ``observed_slope`` is
    (grad_K(L_last) - grad_K(L_prev)) / (L_last - L_prev) from unrolled gradients;
    ``slope_rel_error`` = ||observed - predicted|| / ||predicted|| (nan when the prediction is 0,
    e.g. when summable or when K has no parameters).
    ``grad_norms`` holds ||grad_K(L)|| for each L in ``Ls``.
    """

    summable: bool
    delta_P_limit: np.ndarray
    predicted_slope: np.ndarray
    observed_slope: np.ndarray
    slope_rel_error: float
    Ls: np.ndarray
    grad_norms: np.ndarray
    x_star: np.ndarray
    xi_star: np.ndarray


def summability(K, F, G, x, y, *, tau, sigma, theta=1.0, Ls=(200, 400, 800), tol=1e-10, max_iter=100000,
                rtol=1e-8):
    """Detect whether the unrolled gradient converges as L -> infinity or grows linearly (4.6).

    Solves (1.1), takes the masks (4.1) at the solution and the projection (4.3) of
    P (x* - y); a non-zero projection means delta_P^l tends to a non-zero vector, the sums
    (4.4) diverge and grad_K grows with slope (4.6). The observed slope comes from unrolled
    gradients at the iteration counts ``Ls`` (one trace of length max(Ls)).

    Returns
    -------
    Summability

    Examples
    --------
    >>> from cpteach import operators, prox
    >>> K = operators.FiniteDifference(6)
    >>> x = np.array([0., 0., 0., 1., 1., 1.])
    >>> s = summability(K, prox.L1(0.2), prox.L1(1.0), x, x + 0.1, tau=0.49, sigma=0.49, Ls=(50, 100))
    >>> s.summable
    True
    """
    x = check_problem(K, F, G, x)
    tau, sigma, theta = check_steps(K, tau, sigma, theta)
    y = _validate.ground_truth(y, x)
    Ls = np.asarray(Ls, dtype=int)
    if Ls.ndim != 1 or Ls.size < 2 or np.any(np.diff(Ls) <= 0) or Ls[0] < 1:
        raise ValueError(f"Ls must hold at least two increasing positive iteration counts, got {Ls!r}")
    _check_masked(F.conjugate(), G)
    sol = solve(K, F, G, x, tau=tau, sigma=sigma, theta=theta, tol=tol, max_iter=max_iter)
    P, D = solution_masks(K, F, G, x, sol.x_star, sol.xi_star, tau=tau, sigma=sigma)
    e = sol.x_star - np.asarray(y, float)
    delta_P_limit = projection_limit(K, P, D, e)                              # (4.3)
    summable = _norm(delta_P_limit) <= rtol * _norm(e)
    predicted = -tau * K.param_grad(sol.xi_star, delta_P_limit)                   # (4.6)
    trace = chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=theta, L=int(Ls[-1]))
    grads = [backprop(trace.prefix(int(L)), y).grad_K for L in Ls]
    observed = (grads[-1] - grads[-2]) / (Ls[-1] - Ls[-2])
    slope_error = _norm(observed - predicted) / _norm(predicted) if _norm(predicted) > 0 else np.nan
    return Summability(summable=bool(summable), delta_P_limit=delta_P_limit, predicted_slope=predicted,
                       observed_slope=observed, slope_rel_error=float(slope_error), Ls=Ls,
                       grad_norms=np.array([_norm(g) for g in grads]), x_star=sol.x_star, xi_star=sol.xi_star)


# --- per-iteration analysis of one run (used by the notebook 03 dashboard) -----------------

@dataclass(frozen=True)
class IterationResiduals:
    """The residuals (4.2) of delta_P^l, delta_D^l for every l = 1..L of ONE run of length L.

    Arrays of length L, entry l - 1 for iteration l, scaled as in :class:`KernelResiduals`:
    ``K_delta_P`` = ||K delta_P^l|| / (||K|| ||delta_P^l||), ``DK_delta_P`` the same with
    the mask D^l (4.2); ``Kt_delta_D`` = ||K^T delta_D^l|| / (||K|| ||e||), ``PKt_delta_D``
    with the mask P^l (4.2); ``delta_P_norm``, ``delta_D_norm`` = ||delta^l|| / ||e||, with
    e = x^L - y = delta_P^{L+1} (3.0). ``masks`` are the :class:`Masks` of the run.
    """

    K_delta_P: np.ndarray
    DK_delta_P: np.ndarray
    Kt_delta_D: np.ndarray
    PKt_delta_D: np.ndarray
    delta_P_norm: np.ndarray
    delta_D_norm: np.ndarray
    masks: Masks


def _row_norms(a, rows):
    return np.sqrt(np.sum(np.reshape(a, (rows, -1)) ** 2, axis=1))


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
    L, K = trace.L, trace.K
    e = max(_norm(trace.x_L - y), 1e-300)                             # ||delta_P^{L+1}||, (3.0)
    norm_K = K.norm()
    K_dP, Kt_dD = K.apply(res.delta_P), K.adjoint(res.delta_D)
    dP = np.maximum(_row_norms(res.delta_P, L), 1e-300)
    return IterationResiduals(
        K_delta_P=_row_norms(K_dP, L) / (norm_K * dP),
        DK_delta_P=_row_norms(m.D * K_dP, L) / (norm_K * dP),           # (4.2), mask D^l
        Kt_delta_D=_row_norms(Kt_dD, L) / (norm_K * e),
        PKt_delta_D=_row_norms(m.P * Kt_dD, L) / (norm_K * e),          # (4.2), mask P^l
        delta_P_norm=_row_norms(res.delta_P, L) / e,
        delta_D_norm=_row_norms(res.delta_D, L) / e,                    # (4.3): -> 0
        masks=m)


def predicted_slope(trace, y):
    """The slope (4.6) of grad_K in L, predicted from the last iteration of one run.

    With P = P^L, D = D^L (the masks of the last iteration, :func:`masks`) and e = x^L - y,
    the limit (4.3) delta_P_lim = :func:`projection_limit` (K, P, D, e) gives the growth per
    iteration -tau * param_grad(xi^L, delta_P_lim) (4.6): zero when the sums (4.4) converge.
    :func:`summability` makes the same prediction from the solution instead of iteration L.

    Returns
    -------
    array of the shape of K.params

    Examples
    --------
    >>> from cpteach import operators, prox, chambolle_pock
    >>> x = np.array([0., 0.1, 1., 0.9, 1.])
    >>> trace = chambolle_pock(operators.Matrix(np.diff(np.eye(5), axis=0)), prox.L1(1.0), prox.L1(0.5), x,
    ...                        tau=0.49, sigma=0.49, L=300)
    >>> predicted_slope(trace, np.array([0., 0., 1., 1., 1.])).shape
    (4, 5)
    """
    _check_trace(trace)
    if trace.L < 1:
        raise ValueError("predicted_slope needs a trace with L >= 1 iterations")
    y = _validate.ground_truth(y, trace.data)
    m = masks(trace)
    delta_P_limit = projection_limit(trace.K, m.P[-1], m.D[-1], trace.x_L - y)      # (4.3)
    return -trace.tau * trace.K.param_grad(trace.xi(trace.L), delta_P_limit)         # (4.6)


__all__ += ["IterationResiduals", "iteration_residuals", "predicted_slope"]
