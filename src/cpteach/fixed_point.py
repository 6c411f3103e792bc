"""Gradients from the solution only: the fixed-point (one-step) gradient (5.1)-(5.4) and the
exact L -> infinity limit by implicit differentiation (5.5) (docs/theory.md, section 5)."""
from __future__ import annotations

import time
import tracemalloc
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg

from . import _validate
from .backprop import _adjoint_of_x, _backward_step, _gradient_at_solution, backprop
from .chambolle_pock import (CPTrace, Solution, SolutionParts, _fixed_point_arguments, chambolle_pock, check_problem,
                             check_steps, solve)

__all__ = ["fixed_point_gradient", "fixed_point_closed_form", "implicit_gradient", "compare_gradients", "cosine_and_error",
           "FixedPointGradient", "ClosedFormTerms", "ImplicitGradient", "GradientComparison", "unrolled_against",
           "GradientRegimes", "gradient_regimes"]


@dataclass(frozen=True)
class FixedPointGradient(SolutionParts):
    """The one-step gradient (5.3) at the solution, and the solution it was taken at.

    ``delta_P``, ``delta_D`` are delta_P^*, delta_D^* of (5.1)-(5.2); ``loss`` is
    0.5 ||x* - y||^2; ``solution`` is the :class:`cpteach.Solution` of :func:`cpteach.solve`
    (``x_star``, ``xi_star`` are its primal and dual parts).
    """

    grad_K: np.ndarray
    loss: float
    delta_P: np.ndarray
    delta_D: np.ndarray
    solution: Solution


@dataclass(frozen=True)
class ClosedFormTerms:
    """delta_P^*, delta_D^* of (5.1)-(5.2) and the gradient (5.3)."""

    grad_K: np.ndarray
    delta_P: np.ndarray
    delta_D: np.ndarray


@dataclass(frozen=True)
class ImplicitGradient(SolutionParts):
    """The exact limit of the unrolled gradient, from the adjoint equation (5.5).

    ``Delta_P``, ``Delta_D`` are the limits (4.4) of the partial sums of the adjoints;
    ``adjoint`` is lambda = (lambda_x, lambda_x_prev, lambda_xi) of (5.5).
    ``solution`` is the forward solve (a :class:`cpteach.Solution`; ``x_star``, ``xi_star``
    are its parts); ``gmres_iterations`` (inner GMRES steps, one application of J^T each),
    ``gmres_residual`` (||(I - J^T) lambda - g|| / ||g||) and ``gmres_converged`` describe the
    adjoint solve.
    """

    grad_K: np.ndarray
    loss: float
    Delta_P: np.ndarray
    Delta_D: np.ndarray
    adjoint: tuple
    solution: Solution
    gmres_iterations: int
    gmres_residual: float
    gmres_converged: bool


def _solution(K, F, G, x, tau, sigma, theta, tol, max_iter, solution):
    """Reuse a given :class:`cpteach.chambolle_pock.Solution` or compute one with ``solve``."""
    if solution is None:
        return solve(K, F, G, x, tau=tau, sigma=sigma, theta=theta, tol=tol, max_iter=max_iter)  # warns if inexact
    if not isinstance(solution, Solution):
        raise TypeError(f"solution must be the Solution returned by cpteach.solve, got {type(solution).__name__}")
    _validate.primal(K, x, solution.x_star, "solution.x_star")
    _validate.dual(K, x, solution.xi_star, "solution.xi_star")
    return solution


def fixed_point_gradient(K, F, G, x, y, *, tau, sigma, theta=1.0, tol=1e-8, max_iter=20000, solution=None):
    """Gradient of loss(y, x~) for one CP step x~ = T(x*, xi*) taken at the solution (5.4).

    Solves (1.1) with :func:`cpteach.solve` to the relative residual ``tol``, then runs one
    Chambolle-Pock step from (x^0, xi^0) = (x*, xi*) (with x_bar^0 = x*, as at a fixed point)
    and backpropagates through it with :func:`cpteach.backprop`. Up to the accuracy of the
    solve this is the closed form (5.1)-(5.3), see :func:`fixed_point_closed_form`.

    Parameters
    ----------
    K : cpteach.operators.LinearOperator
    F, G : cpteach.prox functions; G is applied to u - x.
    x, y : arrays of shape (..., *K.shape_in), data and ground truth.
    tau, sigma : step sizes with tau*sigma*||K||^2 < 1; theta : float in [0, 1].
    tol, max_iter : accuracy and budget of the forward solve (warns if not reached).
    solution : optional Solution from :func:`cpteach.solve` to reuse instead of solving.

    Returns
    -------
    FixedPointGradient
        ``grad_K`` (shape of K.params), ``delta_P``, ``delta_D``, ``loss`` and the
        ``solution`` (with ``x_star``, ``xi_star``, ``iterations``, ``residual``, ``converged``).

    Notes
    -----
    .. math::
        \\delta_P^* = prox'_{\\tau G}(x^* - \\tau K^T\\xi^* - x) \\odot (x^* - y),\\quad
        \\delta_D^* = prox'_{\\sigma F^*}(\\xi^* + \\sigma K x^*) \\odot (-\\tau K\\delta_P^*),\\quad
        \\nabla_K \\approx \\sigma\\delta_D^* x^{*T} - \\tau\\xi^*\\delta_P^{*T}.

    It is the j = 0 term of the series (3.8) (docs/theory.md, section 5); it is *not* the limit
    (4.5) of the unrolled gradient (see :func:`implicit_gradient`), its error depends on tau and
    sigma (5.7), and it need not even be a descent direction.

    References
    ----------
    S. W. Fung et al., AAAI 2022; J. Bolte, E. Pauwels, S. Vaiter, NeurIPS 2023.

    Examples
    --------
    >>> from cpteach import operators, prox
    >>> K = operators.Matrix(np.diff(np.eye(4), axis=0))   # 1-D differences as a learnable matrix
    >>> fp = fixed_point_gradient(K, prox.L1(0.5), prox.SquaredL2(), np.array([0., 0., 1., 1.]),
    ...                           np.array([0., 0., 1., 1.]), tau=0.5, sigma=0.5, tol=1e-10)
    >>> fp.solution.converged, fp.grad_K.shape
    (True, (3, 4))
    """
    x = check_problem(K, F, G, x)
    y = _validate.ground_truth(y, x)
    tau, sigma, theta = check_steps(K, tau, sigma, theta)
    sol = _solution(K, F, G, x, tau, sigma, theta, tol, max_iter, solution)
    trace = chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=theta, L=1,
                           x0=sol.x_star, xi0=sol.xi_star)                          # (5.4)
    res = backprop(trace, y)                                                        # (5.1)-(5.3)
    return FixedPointGradient(grad_K=res.grad_K, loss=0.5 * float(np.sum((sol.x_star - y) ** 2)),
                              delta_P=res.delta_P[0], delta_D=res.delta_D[0], solution=sol)


def fixed_point_closed_form(K, F, G, x, y, x_star, xi_star, *, tau, sigma):
    """The closed form (5.1)-(5.3) of the fixed-point gradient at a given point (x*, xi*).

    Examples
    --------
    >>> from cpteach import operators, prox
    >>> K = operators.Matrix(np.eye(2))
    >>> cf = fixed_point_closed_form(K, prox.L1(), prox.SquaredL2(), np.array([2., 0.]), np.zeros(2),
    ...                              np.array([1.5, 0.]), np.array([1., 0.]), tau=0.5, sigma=0.5)
    >>> cf.delta_P
    array([1., 0.])
    """
    x = check_problem(K, F, G, x)
    y = _validate.ground_truth(y, x)
    tau, sigma, _ = check_steps(K, tau, sigma, 1.0)
    x_star = _validate.primal(K, x, x_star, "x_star")
    xi_star = _validate.dual(K, x, xi_star, "xi_star")
    v_P, z_D = _fixed_point_arguments(K, x, x_star, xi_star, tau, sigma)           # (2.1), (2.3) at the fixed point
    delta_P, delta_D = _backward_step(K, F.conjugate(), G, v_P, z_D, tau, sigma,
                                      x_star - y, np.zeros_like(xi_star))            # (5.1)-(5.2)
    return ClosedFormTerms(grad_K=_gradient_at_solution(K, delta_P, delta_D, x_star, xi_star, tau, sigma),
                           delta_P=delta_P, delta_D=delta_D)



def _transposed_step(K, F_conj, G, v_P, z_D, tau, sigma, theta, b_x, b_x_prev, b_xi):
    """J^T b for one CP step T(x, x_prev, xi) at a fixed point, (3.6)-(3.7); also returns delta_P, delta_D.

    v_P = z_P - x is the argument of prox_{tau G}, z_D that of prox_{sigma F*}; b is the
    adjoint of the output state (x^{l+1}, x^l, xi^{l+1}). The same two functions as the
    backward recursion (3.1)-(3.3) of :func:`cpteach.backprop`.
    """
    delta_P, delta_D = _backward_step(K, F_conj, G, v_P, z_D, tau, sigma, b_x, b_xi)      # (3.2)-(3.3)
    a_x, a_x_prev = _adjoint_of_x(delta_P, K.adjoint(delta_D), b_x_prev, sigma, theta)    # (3.1)
    return (a_x, a_x_prev, delta_D), delta_P, delta_D


def implicit_gradient(K, F, G, x, y, *, tau, sigma, theta=1.0, tol=1e-8, max_iter=20000, solution=None,
                      gmres_tol=None, gmres_maxiter=None, restart=30):
    """The limit L -> infinity of the unrolled gradient, by solving the adjoint equation (5.5).

    One CP step is a map T_K on the state s = (x, x_prev, xi) (x_prev is needed by the
    extrapolation x_bar = x + theta (x - x_prev)); the solution is its fixed point
    s* = (x*, x*, xi*). The adjoint lambda solves

    .. math:: (I - J_T^\\top)\\,\\lambda = g, \\qquad g = (x^* - y, 0, 0),

    here with restarted GMRES on a matrix-free operator built from ``prox_vjp``,
    ``K.apply`` and ``K.adjoint`` (never by iterating the slowly contracting map). Then
    Delta_P, Delta_D are the adjoints of z_P, z_D for the output adjoint lambda, and the
    gradient is (4.5): sigma Delta_D x*^T - tau xi* Delta_P^T.

    Parameters
    ----------
    K, F, G, x, y, tau, sigma, theta, tol, max_iter, solution :
        as in :func:`fixed_point_gradient`.
    gmres_tol : relative residual for GMRES (default: ``tol``).
    gmres_maxiter : maximal number of restart cycles (default: enough for 20 * len(lambda)
        inner steps, capped at 10**5 inner steps).
    restart : Krylov subspace dimension between restarts (memory: restart * len(lambda) floats).

    Returns
    -------
    ImplicitGradient
        ``grad_K``, ``x_star``, ``xi_star``, ``Delta_P``, ``Delta_D``, ``adjoint``, and the
        solver information of the forward solve and of GMRES. Warns (RuntimeWarning, with the
        residual reached) when either does not reach its tolerance.

    Notes
    -----
    At the fixed point lambda_x_prev = -theta sigma K^T Delta_D and
    lambda_x = x* - y + Delta_P + sigma K^T Delta_D, so the limit does not depend on theta (4.10)
    beyond the solution itself. Where the unrolled series diverges (a non-trivial fixed
    space of J_T, see :func:`cpteach.asymptotics.summability`) I - J_T^T is singular and
    GMRES returns a least-squares-like answer with a warning.

    Examples
    --------
    >>> from cpteach import operators, prox
    >>> K = operators.Matrix(np.diff(np.eye(4), axis=0))   # 1-D differences as a learnable matrix
    >>> ig = implicit_gradient(K, prox.L1(0.5), prox.SquaredL2(), np.array([0., 0., 1., 1.]),
    ...                        np.array([0., 0.5, 0.5, 1.]), tau=0.5, sigma=0.5, tol=1e-10)
    >>> bool(ig.gmres_converged), ig.grad_K.shape
    (True, (3, 4))
    """
    x = check_problem(K, F, G, x)
    y = _validate.ground_truth(y, x)
    tau, sigma, theta = check_steps(K, tau, sigma, theta)
    sol = _solution(K, F, G, x, tau, sigma, theta, tol, max_iter, solution)
    gmres_tol = tol if gmres_tol is None else float(gmres_tol)
    x_star, xi_star = sol.x_star, sol.xi_star
    F_conj = F.conjugate()
    v_P, z_D = _fixed_point_arguments(K, x, x_star, xi_star, tau, sigma)   # (2.1), (2.3) at the fixed point
    n, k = x_star.size, xi_star.size

    def split(v):
        return v[:n].reshape(x_star.shape), v[n:2 * n].reshape(x_star.shape), v[2 * n:].reshape(xi_star.shape)

    def matvec(v):
        v = np.ravel(v)
        a, _, _ = _transposed_step(K, F_conj, G, v_P, z_D, tau, sigma, theta, *split(v))
        return v - np.concatenate([np.ravel(part) for part in a])            # (I - J^T) lambda

    g = np.concatenate([np.ravel(x_star - y), np.zeros(n + k)])             # (5.5)
    A = scipy.sparse.linalg.LinearOperator((2 * n + k, 2 * n + k), matvec=matvec, dtype=float)
    inner = []
    restart = int(min(restart, 2 * n + k))
    if gmres_maxiter is None:
        gmres_maxiter = max(1, min(20 * (2 * n + k), 10**5) // restart)
    g_norm = np.linalg.norm(g)
    if g_norm == 0:
        lam = np.zeros_like(g)
    else:
        lam, _ = scipy.sparse.linalg.gmres(A, g, rtol=gmres_tol, atol=0.0, restart=restart, maxiter=gmres_maxiter,
                                           callback=inner.append, callback_type="pr_norm")
    gmres_residual = float(np.linalg.norm(A.matvec(lam) - g) / g_norm) if g_norm > 0 else 0.0
    gmres_converged = gmres_residual <= gmres_tol * (1 + 1e-6)
    if not gmres_converged:
        warnings.warn(
            f"GMRES did not reach gmres_tol = {gmres_tol:g} for the adjoint equation (5.5) in {len(inner)} "
            f"iterations (relative residual {gmres_residual:.2e}); raise gmres_maxiter or restart, or check "
            "whether the unrolled series converges (cpteach.asymptotics.summability)",
            RuntimeWarning, stacklevel=2)
    adjoint = split(lam)
    _, Delta_P, Delta_D = _transposed_step(K, F_conj, G, v_P, z_D, tau, sigma, theta, *adjoint)
    return ImplicitGradient(grad_K=_gradient_at_solution(K, Delta_P, Delta_D, x_star, xi_star, tau, sigma),   # (4.5)
                            loss=0.5 * float(np.sum((x_star - y) ** 2)), Delta_P=Delta_P, Delta_D=Delta_D,
                            adjoint=adjoint, solution=sol, gmres_iterations=len(inner),
                            gmres_residual=gmres_residual, gmres_converged=bool(gmres_converged))


@dataclass(frozen=True)
class GradientComparison:
    """Unrolled (one entry per L) and one-step gradients against the implicit gradient.

    Errors are relative, ||g - g_implicit|| / ||g_implicit||; cosines are
    <g, g_implicit> / (||g|| ||g_implicit||). Times are wall-clock seconds and peak memory is
    the tracemalloc peak in bytes of one call (solves included for the one-step and implicit
    gradients, measured with tracemalloc running).
    """

    Ls: np.ndarray
    unrolled_rel_error: np.ndarray
    unrolled_cosine: np.ndarray
    unrolled_time: np.ndarray
    unrolled_peak_bytes: np.ndarray
    one_step_rel_error: float
    one_step_cosine: float
    one_step_time: float
    one_step_peak_bytes: int
    implicit_time: float
    implicit_peak_bytes: int
    implicit_gmres_iterations: int
    solve_iterations: int


def _measure(fn):
    """Run fn() under tracemalloc; return (result, seconds, peak bytes)."""
    running = tracemalloc.is_tracing()
    if not running:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] - base
    if not running:
        tracemalloc.stop()
    return out, seconds, int(peak)


def cosine_and_error(g, ref):
    """(cosine, relative error) of a gradient ``g`` against a reference ``ref`` (zero-safe)."""
    ref_norm = max(float(np.linalg.norm(ref)), 1e-300)
    g_norm = max(float(np.linalg.norm(g)), 1e-300)
    return float(np.sum(g * ref) / (g_norm * ref_norm)), float(np.linalg.norm(g - ref) / ref_norm)


def compare_gradients(K, F, G, x, y, Ls, *, tau, sigma, theta=1.0, tol=1e-8, max_iter=20000,
                      max_trace_bytes=10**9):
    """Relative error and cosine of unrolled and one-step gradients against the implicit one.

    For each L in ``Ls`` the unrolled gradient (3.4) is computed from the start (2.0) with
    :func:`cpteach.chambolle_pock` and :func:`cpteach.backprop`; the reference is
    :func:`implicit_gradient`, the exact limit (4.5). Time and peak memory of each method
    are recorded. Returns a :class:`GradientComparison` of arrays (for plotting).

    Examples
    --------
    >>> from cpteach import operators, prox
    >>> K = operators.Matrix(np.diff(np.eye(4), axis=0))   # 1-D differences as a learnable matrix
    >>> c = compare_gradients(K, prox.L1(0.5), prox.SquaredL2(), np.array([0., 0., 1., 1.]),
    ...                       np.array([0., 0.5, 0.5, 1.]), [1, 400], tau=0.5, sigma=0.5, tol=1e-10)
    >>> bool(c.unrolled_cosine[-1] > 0.999)
    True
    """
    Ls = np.asarray(Ls, dtype=int)
    if Ls.ndim != 1 or Ls.size == 0 or np.any(Ls < 1):
        raise ValueError(f"Ls must be a non-empty list of positive iteration counts, got {Ls!r}")
    implicit, t_imp, m_imp = _measure(lambda: implicit_gradient(K, F, G, x, y, tau=tau, sigma=sigma, theta=theta,
                                                                tol=tol, max_iter=max_iter))
    ref = implicit.grad_K
    one, t_one, m_one = _measure(lambda: fixed_point_gradient(K, F, G, x, y, tau=tau, sigma=sigma, theta=theta,
                                                              tol=tol, max_iter=max_iter))
    rel, cos, times, peaks = [], [], [], []
    for L in Ls:
        res, t, m = _measure(lambda: backprop(chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=theta, L=int(L),
                                                             max_trace_bytes=max_trace_bytes), y))
        c, e = cosine_and_error(res.grad_K, ref)
        rel.append(e), cos.append(c), times.append(t), peaks.append(m)
    c_one, e_one = cosine_and_error(one.grad_K, ref)
    return GradientComparison(Ls=Ls, unrolled_rel_error=np.array(rel), unrolled_cosine=np.array(cos),
                              unrolled_time=np.array(times), unrolled_peak_bytes=np.array(peaks),
                              one_step_rel_error=e_one, one_step_cosine=c_one, one_step_time=t_one,
                              one_step_peak_bytes=m_one, implicit_time=t_imp, implicit_peak_bytes=m_imp,
                              implicit_gmres_iterations=implicit.gmres_iterations,
                              solve_iterations=implicit.solution.iterations)


def unrolled_against(trace, y, Ls, reference):
    """(cosine, relative error) of the unrolled gradient (3.4) of each prefix of ``trace`` against ``reference``.

    The unrolled gradient of L iterations is :func:`cpteach.backprop` of ``trace.prefix(L)``:
    the same iterates as a run of length L, so one forward run serves every L in ``Ls``.

    Parameters
    ----------
    trace : CPTrace from :func:`cpteach.chambolle_pock`
    y : array, the ground truth
    Ls : iteration counts 1 <= L <= trace.L
    reference : array of the shape of K.params (e.g. the implicit gradient (5.5))

    Returns
    -------
    (cosine, rel_error) : two arrays of length len(Ls), as in :func:`cosine_and_error`

    Examples
    --------
    >>> from cpteach import operators, prox
    >>> K = operators.Matrix(np.diff(np.eye(4), axis=0))
    >>> x, y = np.array([0., 0., 1., 1.]), np.array([0., 0.5, 0.5, 1.])
    >>> ig = implicit_gradient(K, prox.L1(0.5), prox.SquaredL2(), x, y, tau=0.5, sigma=0.5, tol=1e-10)
    >>> trace = chambolle_pock(K, prox.L1(0.5), prox.SquaredL2(), x, tau=0.5, sigma=0.5, L=400)
    >>> cosine, rel_error = unrolled_against(trace, y, [1, 400], ig.grad_K)
    >>> bool(rel_error[-1] < 1e-6 < rel_error[0])
    True
    """
    if not isinstance(trace, CPTrace):
        raise TypeError(f"trace must be the CPTrace returned by cpteach.chambolle_pock, got {type(trace).__name__}")
    Ls = np.asarray(Ls)
    if Ls.ndim != 1 or Ls.size == 0 or not np.issubdtype(Ls.dtype, np.integer) or Ls.min() < 1 or Ls.max() > trace.L:
        raise ValueError(f"Ls must be a non-empty list of integers in [1, trace.L = {trace.L}], got {Ls!r}")
    reference = _validate.finite_array("reference", reference, np.shape(trace.K.params))
    pairs = np.array([cosine_and_error(backprop(trace.prefix(int(L)), y).grad_K, reference) for L in Ls])   # (3.4)
    return pairs[:, 0], pairs[:, 1]


@dataclass(frozen=True)
class GradientRegimes:
    """Unrolled (3.4), one-step (5.3) and implicit (5.5) gradients of several problems, per L.

    Row i belongs to the problem ``names[i]``. ``cosine[i, m]`` and ``rel_error[i, m]`` compare
    the unrolled gradient of ``Ls[m]`` iterations (cold start (2.0)) with the reference gradient
    ``references[i]``: "implicit" (5.5) where GMRES solved the adjoint equation, else "one-step"
    (5.3): then I - J^T is singular, the unrolled series has no limit and there is no implicit
    gradient to compare with (``gmres_residual[i]``, the relative residual GMRES reached, says how
    far from solvable (5.5) is). ``one_step_cosine[i]``, ``one_step_rel_error[i]`` compare the
    one-step with the implicit gradient (NaN where there is none).
    """

    names: tuple
    references: tuple
    Ls: np.ndarray
    cosine: np.ndarray
    rel_error: np.ndarray
    one_step_cosine: np.ndarray
    one_step_rel_error: np.ndarray
    gmres_residual: np.ndarray


def gradient_regimes(problems, L_max=2000, points=12):
    """Cosine and relative error of unrolled gradients against the implicit one, for several problems.

    For each problem (an object with ``K, F, G, x, y, tau, sigma, theta`` and a cached
    ``solution``, e.g. from :mod:`cpteach.problems`) one cold-started trace of ``L_max``
    Chambolle-Pock iterations is backpropagated on ``points`` log-spaced prefixes L <= L_max
    (:func:`unrolled_against`); the one-step gradient (5.3) and the implicit gradient (5.5)
    come from the problem's solution. Where GMRES cannot solve (5.5) (no limit, e.g. TV-L1)
    the unrolled gradients are compared with the one-step gradient instead (see
    :class:`GradientRegimes`). :func:`cpteach.plotting.plot_gradient_regimes` draws the result.

    Parameters
    ----------
    problems : dict name -> problem
    L_max : int >= 1, the longest unrolling
    points : int >= 1, the number of log-spaced L in [1, L_max]

    Returns
    -------
    GradientRegimes

    Examples
    --------
    >>> from cpteach import problems
    >>> r = gradient_regimes({"ball": problems.ball_problem(k=6, n=4)}, L_max=200, points=4)
    >>> r.Ls.tolist(), r.references, bool(r.rel_error[0, -1] < 1e-6 < r.one_step_rel_error[0])
    ([1, 6, 34, 200], ('implicit',), True)
    """
    if not isinstance(problems, dict) or not problems:
        raise TypeError(f"problems must be a non-empty dict name -> problem, got {type(problems).__name__}")
    L_max = _validate.integer("L_max", L_max, 1, "the longest unrolling")
    points = _validate.integer("points", points, 1, "the number of iteration counts")
    Ls = np.unique(np.geomspace(1, L_max, points).round().astype(int))
    rows = []
    for problem in problems.values():
        K, F, G, x, y = problem.K, problem.F, problem.G, problem.x, problem.y
        steps = dict(tau=problem.tau, sigma=problem.sigma, theta=problem.theta)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # no limit (TV-L1): reported by gmres_residual
            implicit = implicit_gradient(K, F, G, x, y, solution=problem.solution, **steps)        # (5.5)
        one_step = fixed_point_gradient(K, F, G, x, y, solution=problem.solution, **steps).grad_K  # (5.3)
        reference = implicit.grad_K if implicit.gmres_converged else one_step
        trace = chambolle_pock(K, F, G, x, L=int(Ls[-1]), **steps)
        unrolled = unrolled_against(trace, y, Ls, reference)
        one = cosine_and_error(one_step, reference) if implicit.gmres_converged else (np.nan, np.nan)
        rows.append((unrolled, one, implicit.gmres_residual, implicit.gmres_converged))
    return GradientRegimes(names=tuple(problems),
                           references=tuple("implicit" if row[3] else "one-step" for row in rows), Ls=Ls,
                           cosine=np.array([row[0][0] for row in rows]),
                           rel_error=np.array([row[0][1] for row in rows]),
                           one_step_cosine=np.array([row[1][0] for row in rows]),
                           one_step_rel_error=np.array([row[1][1] for row in rows]),
                           gmres_residual=np.array([row[2] for row in rows]))
