"""cpteach.asymptotics.closed_form (docs/theory.md, 4D: the closed form (4.11) of the limit)."""
import numpy as np
import pytest

from cpteach import asymptotics, implicit_gradient, solve
from conftest import solution_masks_of


def test_closed_form_limit_is_the_implicit_gradient_and_the_derivative_of_the_solved_loss(l1_l1):
    """(4.11) against GMRES on the adjoint equation (5.5) and against central differences of
    K -> 0.5 ||x*(K) - y||^2 (solved to 1e-13)."""
    p = l1_l1
    M_P, M_D = solution_masks_of(p)
    limit = asymptotics.closed_form_limit(p.K, M_P, M_D, p.x_star, p.y)
    ig = implicit_gradient(p.K, p.F, p.G, p.x, p.y, tau=p.tau, sigma=p.sigma, solution=p.solution, tol=1e-12)
    np.testing.assert_allclose(limit.grad_K, ig.grad_K, atol=1e-8 * np.abs(ig.grad_K).max())
    np.testing.assert_allclose(limit.sigma_Delta_D, p.sigma * ig.Delta_D, atol=1e-8)
    assert np.all(limit.sigma_Delta_D[~M_D] == 0)

    def solved_loss(M):
        sol = solve(p.K.with_params(M), p.F, p.G, p.x, tau=p.tau, sigma=p.sigma, tol=1e-13, max_iter=200000)
        return 0.5 * np.sum((sol.x_star - p.y) ** 2)

    E, h = np.random.default_rng(5).standard_normal(p.K.params.shape), 1e-6    # (seed 0 would give E ~ K)
    fd = (solved_loss(p.K.params + h * E) - solved_loss(p.K.params - h * E)) / (2 * h)
    assert np.sum(limit.grad_K * E) == pytest.approx(fd, rel=1e-5)


def test_closed_form_limit_refuses_a_non_unique_solution(tv_l1):
    K, F, G, x, y, tau, sigma, _ = tv_l1
    sol = solve(K, F, G, x, tau=tau, sigma=sigma, tol=1e-10, max_iter=100000)
    M_P, M_D = asymptotics.solution_masks(K, F, G, x, sol.x_star, sol.xi_star, tau=tau, sigma=sigma)
    with pytest.raises(ValueError, match="square invertible"):
        asymptotics.closed_form_limit(K, M_P, M_D, sol.x_star, y)
