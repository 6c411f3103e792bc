"""Gradients from the solution only (docs/theory.md, sections 5A-5B): the fixed-point (one-step) gradient
(5.1)-(5.4) and the exact L -> infinity limit by implicit differentiation (5.5)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg

from .. import _validate
from ..backprop import _adjoint_of_x, _backward_step, _gradient_sum, _prox_derivatives, backprop
from ..chambolle_pock import Solution, SolutionParts, chambolle_pock, solve
from ..step import _fixed_point_arguments, check_problem, check_steps

__all__ = ["fixed_point_gradient", "fixed_point_closed_form", "implicit_gradient", "FixedPointGradient",
           "ClosedFormTerms", "ImplicitGradient"]


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
    ``gmres_residual`` (||(I - J^T) lambda - g|| / ||g||), ``gmres_tol`` and ``gmres_converged`` describe the
    adjoint solve; ``warning`` says why it did not converge ('' if it did).
    """

    grad_K: np.ndarray
    loss: float
    Delta_P: np.ndarray
    Delta_D: np.ndarray
    adjoint: tuple
    solution: Solution
    gmres_iterations: int
    gmres_residual: float
    gmres_tol: float
    gmres_converged: bool

    @property
    def warning(self):
        """'' if GMRES reached ``gmres_tol``, else the message :func:`implicit_gradient` warns with."""
        if self.gmres_converged:
            return ""
        return (f"GMRES did not reach gmres_tol = {self.gmres_tol:g} for the adjoint equation (5.5) in "
                f"{self.gmres_iterations} iterations (relative residual {self.gmres_residual:.2e}); raise "
                "gmres_maxiter or restart, or check whether the unrolled series converges "
                "(cpteach.asymptotics.summability)")


def _solution(K, F, G, x, tau, sigma, theta, tol, max_iter, solution, warn=True):
    """Reuse a given :class:`cpteach.chambolle_pock.Solution` or compute one with ``solve`` (which warns if inexact)."""
    if solution is None:
        return solve(K, F, G, x, tau=tau, sigma=sigma, theta=theta, tol=tol, max_iter=max_iter, warn=warn)
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
    Gamma_P, Gamma_D = _prox_derivatives(F.conjugate(), G, v_P, z_D, tau, sigma)     # prox' at the fixed point
    delta_P, delta_D = _backward_step(K, Gamma_P, Gamma_D, tau, x_star - y, np.zeros_like(xi_star))   # (5.1)-(5.2)
    return ClosedFormTerms(grad_K=_gradient_sum(K, delta_P, delta_D, x_star, xi_star, tau, sigma),
                           delta_P=delta_P, delta_D=delta_D)


def _transposed_step(K, Gamma_P, Gamma_D, tau, sigma, theta, b_x, b_x_prev, b_xi):
    """J^T b for one CP step T(x, x_prev, xi) at a fixed point, (3.6)-(3.7); also returns delta_P, delta_D.

    Gamma_P, Gamma_D are the prox derivatives at the step's arguments (:func:`cpteach.backprop._prox_derivatives`
    of v_P = z_P - x and z_D); b is the adjoint of the output state (x^{l+1}, x^l, xi^{l+1}). The same two
    functions as the backward recursion (3.1)-(3.3) of :func:`cpteach.backprop`.
    """
    delta_P, delta_D = _backward_step(K, Gamma_P, Gamma_D, tau, b_x, b_xi)                # (3.2)-(3.3)
    a_x, a_x_prev = _adjoint_of_x(delta_P, K.adjoint(delta_D), b_x_prev, sigma, theta)    # (3.1)
    return (a_x, a_x_prev, delta_D), delta_P, delta_D


@dataclass(frozen=True)
class _AdjointSystem:
    """I - J^T of (5.5) as a scipy LinearOperator on the flattened state (x, x_prev, xi), the split of a flat
    vector into the three slots, and ``step(b_x, b_x_prev, b_xi)``: (J^T b, delta_P, delta_D) by (3.7)."""

    operator: scipy.sparse.linalg.LinearOperator
    split: object
    step: object


def _adjoint_system(K, F_conj, G, x, x_star, xi_star, tau, sigma, theta):
    """The linear system (5.5) at the fixed point (x*, xi*): one backward step (3.7) per application of J^T."""
    v_P, z_D = _fixed_point_arguments(K, x, x_star, xi_star, tau, sigma)   # (2.1), (2.3) at the fixed point
    Gamma_P, Gamma_D = _prox_derivatives(F_conj, G, v_P, z_D, tau, sigma)  # prox' at the fixed point, taken once
    n, k = x_star.size, xi_star.size

    def split(v):
        return v[:n].reshape(x_star.shape), v[n:2 * n].reshape(x_star.shape), v[2 * n:].reshape(xi_star.shape)

    def step(b_x, b_x_prev, b_xi):
        return _transposed_step(K, Gamma_P, Gamma_D, tau, sigma, theta, b_x, b_x_prev, b_xi)

    def matvec(v):
        v = np.ravel(v)
        a, _, _ = step(*split(v))
        return v - np.concatenate([np.ravel(part) for part in a])            # (I - J^T) lambda

    operator = scipy.sparse.linalg.LinearOperator((2 * n + k, 2 * n + k), matvec=matvec, dtype=float)
    return _AdjointSystem(operator=operator, split=split, step=step)


def implicit_gradient(K, F, G, x, y, *, tau, sigma, theta=1.0, tol=1e-8, max_iter=20000, solution=None,
                      gmres_tol=None, gmres_maxiter=None, restart=30, warn=True):
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
    warn : bool, warn (RuntimeWarning) when the forward solve or GMRES does not reach its
        tolerance; False for callers that read ``solution.converged`` and ``gmres_converged``
        themselves (no warning filter is touched, so this is safe in threads, as in :func:`cpteach.solve`).

    Returns
    -------
    ImplicitGradient
        ``grad_K``, ``x_star``, ``xi_star``, ``Delta_P``, ``Delta_D``, ``adjoint``, and the
        solver information of the forward solve and of GMRES. Warns (RuntimeWarning, with the
        residual reached) when either does not reach its tolerance, unless ``warn=False``.

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
    sol = _solution(K, F, G, x, tau, sigma, theta, tol, max_iter, solution, warn)
    gmres_tol = tol if gmres_tol is None else float(gmres_tol)
    x_star, xi_star = sol.x_star, sol.xi_star
    system = _adjoint_system(K, F.conjugate(), G, x, x_star, xi_star, tau, sigma, theta)
    A, split = system.operator, system.split
    n, k = x_star.size, xi_star.size
    g = np.concatenate([np.ravel(x_star - y), np.zeros(n + k)])             # (5.5)
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
    adjoint = split(lam)
    _, Delta_P, Delta_D = system.step(*adjoint)
    result = ImplicitGradient(grad_K=_gradient_sum(K, Delta_P, Delta_D, x_star, xi_star, tau, sigma),   # (4.5)
                              loss=0.5 * float(np.sum((x_star - y) ** 2)), Delta_P=Delta_P, Delta_D=Delta_D,
                              adjoint=adjoint, solution=sol, gmres_iterations=len(inner),
                              gmres_residual=gmres_residual, gmres_tol=gmres_tol,
                              gmres_converged=bool(gmres_converged))
    if warn and not result.gmres_converged:
        warnings.warn(result.warning, RuntimeWarning, stacklevel=2)
    return result
