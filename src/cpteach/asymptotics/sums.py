"""Sums and the limit of the gradient (docs/theory.md, sections 4B-4C): the partial sums (4.4), the limit
formula (4.5), and where the sums diverge, the linear growth (4.6) of the unrolled gradient."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..backprop import BackpropResult, _gradient_sum, backprop
from ..chambolle_pock import chambolle_pock, check_problem, check_steps, solve
from ..operators import check_operator
from ._checks import _check_masked, _check_trace, _norm
from .kernel import projection_limit
from .settled_masks import _iteration_masks, solution_masks

__all__ = ["partial_sums", "limit_gradient", "Summability", "summability", "predicted_slope"]


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
    check_operator(K)
    tau, sigma = _validate.positive("tau", tau), _validate.positive("sigma", sigma)
    x_star = _validate.finite_array("x_star", x_star)
    x_star = K.check_input(x_star, "x_star")
    Delta_P = _validate.primal(K, x_star, Delta_P, "Delta_P")
    Delta_D = _validate.dual(K, x_star, Delta_D, "Delta_D")
    xi_star = _validate.dual(K, x_star, xi_star, "xi_star")
    return _gradient_sum(K, Delta_P, Delta_D, x_star, xi_star, tau, sigma)   # (4.5)


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


def _slope(K, M_P, M_D, e, xi, tau):
    """The limit (4.3) of delta_P^l for masks M_P, M_D and e = x - y, and the growth per iteration (4.6) of grad_K."""
    delta_P_limit = projection_limit(K, M_P, M_D, e)                  # (4.3)
    return delta_P_limit, -tau * K.param_grad(xi, delta_P_limit)      # (4.6)


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
    M_P, M_D = solution_masks(K, F, G, x, sol.x_star, sol.xi_star, tau=tau, sigma=sigma)
    e = sol.x_star - y
    delta_P_limit, predicted = _slope(K, M_P, M_D, e, sol.xi_star, tau)           # (4.3), (4.6)
    summable = _norm(delta_P_limit) <= rtol * _norm(e)
    trace = chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=theta, L=int(Ls[-1]))
    grads = [backprop(trace.prefix(int(L)), y).grad_K for L in Ls]
    observed = (grads[-1] - grads[-2]) / (Ls[-1] - Ls[-2])
    slope_error = _norm(observed - predicted) / _norm(predicted) if _norm(predicted) > 0 else np.nan
    return Summability(summable=bool(summable), delta_P_limit=delta_P_limit, predicted_slope=predicted,
                       observed_slope=observed, slope_rel_error=float(slope_error), Ls=Ls,
                       grad_norms=np.array([_norm(g) for g in grads]), x_star=sol.x_star, xi_star=sol.xi_star)


def predicted_slope(trace, y):
    """The slope (4.6) of grad_K in L, predicted from the last iteration of one run.

    With M_P = M_P^L, M_D = M_D^L (the masks (4.1) of the last iteration) and e = x^L - y,
    the limit (4.3) delta_P_lim = :func:`projection_limit` (K, M_P, M_D, e) gives the growth per
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
    M_P, M_D = _iteration_masks(trace, trace.L)                                    # (4.1) at l = L
    return _slope(trace.K, M_P, M_D, trace.x_L - y, trace.xi(trace.L), trace.tau)[1]   # (4.3), (4.6)
