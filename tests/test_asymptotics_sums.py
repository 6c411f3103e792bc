"""cpteach.asymptotics.sums (docs/theory.md, 4B-4C: the partial sums (4.4), the limit formula (4.5), summability and the slope (4.6))."""
import numpy as np
import pytest

from cpteach import asymptotics, backprop, chambolle_pock, implicit_gradient, problems, prox


def test_tv_l1_divergence_is_detected_with_the_predicted_slope(tv_l1):
    K, F, G, x, y, tau, sigma, _ = tv_l1
    s = asymptotics.summability(K, F, G, x, y, tau=tau, sigma=sigma, Ls=(1000, 1500, 2000))
    assert not s.summable
    assert s.grad_norms[-1] > 1.8 * s.grad_norms[0]                # grows with L (Ls double)
    assert s.slope_rel_error < 1e-6                                # (4.6)
    with pytest.warns(RuntimeWarning, match="GMRES did not reach"):
        implicit_gradient(K, F, G, x, y, tau=tau, sigma=sigma, tol=1e-10, max_iter=100000, gmres_maxiter=20)


def test_summable_case_partial_sums_give_the_limit_gradient():
    """F = L1, G = squared L2 (unique solution): the sums (4.4) converge and (4.5) is the limit."""
    p = problems.l1_l1_problem(k=30, n=20, seed=3)                     # its random K, x, y; G changed below
    K, x, y, tau, sigma = p.K, p.x, p.y, p.tau, p.sigma
    F, G = prox.L1(0.2), prox.SquaredL2()
    ig = implicit_gradient(K, F, G, x, y, tau=tau, sigma=sigma, tol=1e-12, max_iter=100000)
    res = backprop(chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, L=600), y)
    Delta_P, Delta_D = asymptotics.partial_sums(res)
    np.testing.assert_allclose(Delta_P, ig.Delta_P, atol=1e-8)
    np.testing.assert_allclose(Delta_D, ig.Delta_D, atol=1e-8)
    limit = asymptotics.limit_gradient(K, Delta_P, Delta_D, ig.x_star, ig.xi_star, tau=tau, sigma=sigma)
    np.testing.assert_allclose(limit, res.grad_K, atol=1e-8)         # (4.5) vs the unrolled sum (3.4)
    np.testing.assert_allclose(limit, ig.grad_K, atol=1e-8)


def test_unique_solution_is_detected_as_summable():
    """Random K with more rows than columns, F = 0.2||.||_1, G = 0.3||.||_1: range(P) ∩ ker(DK) = {0}."""
    p = problems.l1_l1_problem(k=30, n=20, seed=3)
    s = asymptotics.summability(p.K, p.F, p.G, p.x, p.y, tau=p.tau, sigma=p.sigma, Ls=(300, 600))
    assert s.summable and np.all(s.delta_P_limit == 0) and np.all(s.predicted_slope == 0)
    assert np.isnan(s.slope_rel_error)
