"""What the implicit gradient costs (docs/theory.md, section 5E): terms of the Neumann series (= unrolling at the
solution) against GMRES iterations, with and without restarts, for the adjoint equation (5.5)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg

from .. import _validate
from ..step import check_problem, check_steps
from ..asymptotics.contraction import contraction_rate
from ..step import _fixed_point_arguments
from .conditions import _solution_masks
from .gradients import _adjoint_system, _solution

__all__ = ["SeriesCost", "series_cost"]


@dataclass(frozen=True)
class SeriesCost:
    """Applications of J^T needed to solve (5.5) to the relative residual ``eps``, by three methods.

    ``neumann_terms``: terms N of the Neumann series sum_{j<N} (J^T)^j g (5.6), the first N with
    ||(J^T)^N g|| <= eps ||g|| (its residual); ``neumann_converged`` is False when ``max_terms``
    ran out first (then ``neumann_terms`` = max_terms is a lower bound). ``gmres_iterations``:
    GMRES without restart (Krylov dimension dim lambda = 2n + k); ``gmres_restarted_iterations``:
    GMRES(``restart``). Each count is one backward step (3.7) per term or inner iteration.

    What to compare them with (only for 0/1 masks of F* and G, else NaN and None): ``gamma_min`` =
    sigma tau varsigma_min^2, varsigma_min the smallest nonzero singular value of K_M (4.8)-(4.9);
    ``neumann_estimate`` = 2 ln(1/eps) / gamma_min, the terms at the rate (1 - gamma_min)^(N/2);
    ``krylov_estimate`` = ln(1/eps) / sqrt(gamma_min), the square-root law of GMRES for a large
    dimension; ``nonzero_eigenvalues`` = 2 rank K_M, the nonzero eigenvalues of J^T (two per
    singular value, (4.8)); every other eigenvalue is 0, so in exact arithmetic GMRES without restart
    stops after 2 rank K_M iterations plus the index of the eigenvalue 0 (the degree of the minimal
    polynomial), whichever of this and the square-root law comes first.
    """

    eps: float
    neumann_terms: int
    neumann_converged: bool
    gmres_iterations: int
    gmres_restarted_iterations: int
    restart: int
    gamma_min: float
    neumann_estimate: float
    krylov_estimate: float
    nonzero_eigenvalues: int | None


def _gmres_count(A, g, eps, restart, max_steps):
    inner = []
    scipy.sparse.linalg.gmres(A, g, rtol=eps, atol=0.0, restart=restart, maxiter=max(1, max_steps // restart),
                              callback=inner.append, callback_type="pr_norm")
    return len(inner)


def _spectrum(K, F_conj, G, x, sol, tau, sigma, rtol=1e-10):
    """(gamma_min, 2 rank K_M) of (4.8)-(4.9) at the solution, or (NaN, None) unless both masks are 0/1."""
    if not (F_conj.has_mask and G.has_mask):
        return np.nan, None
    v_P, z_D = _fixed_point_arguments(K, x, sol.x_star, sol.xi_star, tau, sigma)   # (2.1), (2.3)
    M_D, M_P = _solution_masks(F_conj, G, v_P, z_D, tau, sigma)
    try:
        r = contraction_rate(K, M_P, M_D, tau=tau, sigma=sigma, rtol=rtol)   # one SVD of K_M
    except ValueError:                                                       # K_M = 0
        return np.nan, 0
    return float(sigma * tau * r.s_min ** 2), 2 * r.rank                    # gamma_min (4.9)


def series_cost(K, F, G, x, y, *, tau, sigma, theta=1.0, eps=1e-8, restart=30, max_terms=200000, solution=None,
                tol=1e-12, max_iter=200000):
    """Count Neumann terms and GMRES iterations (unrestarted and restarted) that solve (5.5) to ``eps``.

    The Neumann series is unrolling at the solution (5.6): its residual after N terms is
    (J^T)^N g, which decays like (1 - gamma_min)^(N/2), so N ~ ln(1/eps) / gamma_min with
    gamma_min = sigma tau varsigma_min^2 (4.8)-(4.9). GMRES without restart needs about
    ln(1/eps) / sqrt(gamma_min) iterations (the eigenvalues of I - J^T lie on the circle
    |w - 1/2| = 1/2, at distance sqrt(gamma_i) from 0; (5.9)) when the dimension is large; J^T has
    only 2 rank K_M nonzero eigenvalues, so on a small problem GMRES stops earlier, at that Krylov
    dimension (finite termination). Restarts erode both gains. All three use the operator of
    :func:`cpteach.implicit_gradient`.

    Parameters
    ----------
    K, F, G, x, y, tau, sigma, theta : the problem and the steps, as in :func:`cpteach.implicit_gradient`
    eps : relative residual ||(I - J^T) lambda - g|| / ||g|| to reach
    restart : Krylov dimension of the restarted GMRES
    max_terms : bound on the Neumann terms (and on the GMRES iterations), so that the count stays cheap
    solution, tol, max_iter : a :class:`cpteach.Solution` to reuse, or the accuracy of the solve

    Returns
    -------
    SeriesCost

    Examples
    --------
    >>> from cpteach import problems
    >>> p = problems.l1_l1_problem()
    >>> c = series_cost(p.K, p.F, p.G, p.x, p.y, tau=p.tau, sigma=p.sigma, solution=p.solution)
    >>> c.nonzero_eigenvalues, c.gmres_iterations, round(c.krylov_estimate)
    (14, 15, 138)
    """
    x = check_problem(K, F, G, x)
    y = _validate.ground_truth(y, x)
    tau, sigma, theta = check_steps(K, tau, sigma, theta)
    eps = _validate.positive("eps", eps)
    restart = _validate.integer("restart", restart, 1, "the Krylov dimension between restarts")
    max_terms = _validate.integer("max_terms", max_terms, 1, "the bound on the Neumann terms")
    sol = _solution(K, F, G, x, tau, sigma, theta, tol, max_iter, solution)
    A = _adjoint_system(K, F.conjugate(), G, x, sol.x_star, sol.xi_star, tau, sigma, theta).operator
    dim = A.shape[0]
    g = np.concatenate([np.ravel(sol.x_star - y), np.zeros(dim - sol.x_star.size)])          # (5.5)
    g_norm = float(np.linalg.norm(g))
    if g_norm == 0:
        raise ValueError("x* = y, so g = 0 in (5.5) and there is nothing to solve; pick y != x*")
    gamma_min, nonzero = _spectrum(K, F.conjugate(), G, x, sol, tau, sigma)
    lam, residual, terms = np.zeros_like(g), g.copy(), 0
    while np.linalg.norm(residual) > eps * g_norm and terms < max_terms:
        lam += residual                             # add the next term (J^T)^terms g of the series (5.6)
        residual = g - A.matvec(lam)                # = (J^T)^(terms + 1) g
        terms += 1
    return SeriesCost(eps=eps, neumann_terms=terms, neumann_converged=bool(np.linalg.norm(residual) <= eps * g_norm),
                      gmres_iterations=_gmres_count(A, g, eps, dim, max_terms),
                      gmres_restarted_iterations=_gmres_count(A, g, eps, min(restart, dim), max_terms),
                      restart=min(restart, dim), gamma_min=gamma_min,
                      neumann_estimate=float(2 * np.log(1 / eps) / gamma_min),                   # (1 - gamma_min)^(N/2) = eps
                      krylov_estimate=float(np.log(1 / eps) / np.sqrt(gamma_min)), nonzero_eigenvalues=nonzero)
