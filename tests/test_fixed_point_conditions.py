"""The theorem's conditions in numbers (cpteach.fixed_point.conditions, docs/theory.md 5C) and the cost of the
Neumann series against GMRES (cpteach.fixed_point.cost, 5E), against oracles that do not use the adjoint operator:
I - J^T from central differences of cp_step, primal-dual gaps of a second dual solution, closed-form solutions."""
import numpy as np
import pytest

from cpteach import CPState, asymptotics, cp_step, operators, primal_dual_gap, primal_objective, problems, prox
from cpteach.fixed_point import series_cost, theorem_conditions
from cpteach.fixed_point.conditions import _rank


def fd_jacobian(p, x_star, xi_star, h=1e-7):
    """J = dT_K/ds at s* = (x*, x*, xi*) by central differences of cp_step (piecewise linear: exact off the kinks)."""
    n, k = x_star.size, xi_star.size

    def T(s):
        x_l, x_prev, xi = s[:n], s[n:2 * n], s[2 * n:]
        state = CPState(x=x_l, x_bar=x_l + p.theta * (x_l - x_prev), xi=xi)             # (2.8)
        new = cp_step(p.K, p.F, p.G, p.x, state, tau=p.tau, sigma=p.sigma, theta=p.theta).state
        return np.concatenate([new.x, x_l, new.xi])

    s = np.concatenate([x_star, x_star, xi_star])
    E = np.eye(2 * n + k)
    return np.array([(T(s + h * e) - T(s - h * e)) / (2 * h) for e in E]).T


def conditions(p, **kw):
    return theorem_conditions(p.K, p.F, p.G, p.x, p.x_star, p.xi_star, tau=p.tau, sigma=p.sigma, theta=p.theta, **kw)


@pytest.mark.parametrize("seed", [0, 23])
def test_l1_l1_satisfies_the_theorem_and_sigma_min_matches_finite_differences(seed):
    p = problems.l1_l1_problem(seed=seed)
    c = conditions(p)
    assert c.applies and c.dual_unique and c.primal_unique and c.nondegenerate, c.verdict
    assert c.unclipped_rows == c.free_unknowns == c.rank                   # K_M square and invertible (4.11)
    assert c.verdict.startswith("the theorem applies") and c.failures == () and c.nonsingular and c.zero_rows == 0
    J = fd_jacobian(p, p.x_star, p.xi_star)
    oracle = np.linalg.svd(np.eye(len(J)) - J.T, compute_uv=False)[-1]
    assert c.sigma_min == pytest.approx(oracle, rel=1e-5) and c.sigma_min > 1e-3
    assert np.isnan(c.mu) and np.isnan(c.kappa) and (c.n, c.k) == (10, 20)


@pytest.mark.parametrize("theta", [0.0, 0.75])
def test_the_theorem_is_stated_for_theta_one(theta):
    """Its proof of (a) reads CP with theta = 1 as a proximal point method: at another theta the conditions 1-3
    may all hold and still the theorem does not cover the steps."""
    p = problems.l1_l1_problem()
    c = theorem_conditions(p.K, p.F, p.G, p.x, p.x_star, p.xi_star, tau=p.tau, sigma=p.sigma, theta=theta)
    assert c.dual_unique and c.primal_unique and c.nondegenerate and c.nonsingular   # at the same solution
    assert not c.theta_is_one and not c.applies and c.failures == ()                  # conditions 1-3 hold
    assert c.verdict.startswith(f"the theorem is stated for theta = 1 and does not cover theta = {theta:g}; "
                                "its conditions 1-3: hold (")
    assert conditions(p).applies and conditions(p).theta_is_one                      # theta = 1: it applies


def test_an_unclipped_zero_row_makes_the_dual_non_unique():
    """A zero row of K: its dual entry is free in the box, so xi* + t e is dual optimal too (same zero gap)."""
    base = problems.l1_l1_problem()
    K = operators.Matrix(np.vstack([base.K.matrix(), np.zeros((1, 10))]))
    p = problems.Problem(K, base.F, base.G, base.x, base.y, "zero row", base.tau, base.sigma)
    c = conditions(p)
    other = p.xi_star.copy()
    other[-1] = 0.1                                                          # another dual solution
    assert primal_dual_gap(K, p.F, p.G, p.x, p.x_star, other) < 1e-8
    assert not c.dual_unique and c.primal_unique and not c.applies
    assert c.unclipped_rows == c.rank + 1 and c.sigma_min < 1e-8
    assert "dual not unique (1)" in c.verdict and "singular (3)" in c.verdict
    assert c.zero_rows == 1 and "(1 of them zero)" in c.verdict
    assert c.failures == ("dual not unique (1; a zero row of K on the free unknowns)", "I - J^T singular (3)")
    tv = problems.tv_denoising_1d(dense=True)               # forward differences: the boundary row of K is zero
    assert np.count_nonzero(~tv.K.matrix().any(axis=1)) == 1
    assert conditions(tv).failures[0] == "dual not unique (1; a zero row of K)"    # G = SquaredL2: all unknowns free
    trimmed = problems.tv_denoising_1d(boundary_row=False)   # the presenter's: D without the boundary row
    assert trimmed.K.shape_out == (99,) and np.array_equal(trimmed.K.matrix(), tv.K.matrix()[:-1])
    c = conditions(trimmed)
    assert c.applies and c.failures == () and c.zero_rows == 0 and c.kink_margin > 1e-4   # D's rows are independent


def test_tv_l1_plateaus_make_the_primal_non_unique():
    p = problems.tv_l1_denoising_1d()
    c = conditions(p)
    M_P, M_D = asymptotics.solution_masks(p.K, p.F, p.G, p.x, p.x_star, p.xi_star, tau=p.tau, sigma=p.sigma)
    d = asymptotics.projection_limit(p.K, M_P, M_D, np.ones(p.x.size))       # a direction in ker K_M on V_P
    d = d / np.linalg.norm(d)
    values = [primal_objective(p.K, p.F, p.G, p.x, p.x_star + t * d) for t in (-1e-4, 0.0, 1e-4)]
    assert np.ptp(values) < 1e-9                                             # the objective is flat along d
    assert not c.primal_unique and c.rank < c.free_unknowns and not c.applies
    assert "primal not unique (1)" in c.verdict
    assert c.failures == ("primal not unique (1)", "I - J^T singular (3)") and not c.nonsingular   # plateaus: singular



def test_a_solution_on_a_kink_is_degenerate():
    """min_u |u| + (u - 1)^2 / 2: u* = soft(1, 1) = 0 and xi* = x - u* = 1 sits on the kink of the clip."""
    K, F, G, x = operators.Matrix(np.eye(1)), prox.L1(1.0), prox.SquaredL2(), np.array([1.0])
    c = theorem_conditions(K, F, G, x, np.array([0.0]), np.array([1.0]), tau=0.5, sigma=0.5)
    assert c.kink_margin == 0.0 and not c.nondegenerate and not c.applies
    assert c.kappa == pytest.approx(1 / 1.5) and c.primal_unique
    assert "degenerate (2)" in c.verdict


def test_the_ball_reports_its_multiplier_and_damping():
    p = problems.ball_problem()
    c = conditions(p)
    r = p.G.radius
    assert np.linalg.norm(p.x_star - p.x) == pytest.approx(r, rel=1e-9)     # the constraint is active
    assert np.allclose(p.K.adjoint(p.xi_star), -(c.mu / r) * (p.x_star - p.x), atol=1e-8)   # (4.12)
    v = p.x_star - p.tau * p.K.adjoint(p.xi_star) - p.x
    assert np.linalg.norm(v) == pytest.approx(r + p.tau * c.mu, rel=1e-9)
    assert 0 < c.kappa < 1 and c.mu > 0 and c.kink_margin <= p.tau * c.mu + 1e-9
    assert c.applies, c.verdict


def test_the_strongly_convex_remedy_meets_the_theorem():
    """TV-L1 with + eps/2 ||u - x||^2 (prox.ElasticL1, (1.5)): primal unique by strong convexity, kappa = 1/(1 + tau eps),
    the free unknowns where |v_P| > tau alpha, sigma_min from finite differences of cp_step."""
    base = problems.tv_l1_denoising_1d()
    G = prox.ElasticL1(base.G.weight, 0.01)
    p = problems.Problem(base.K, base.F, G, base.x, base.y, "elastic TV-L1", base.tau, base.sigma, tol=1e-12,
                         max_iter=20000)
    c = conditions(p)
    v_P = p.x_star - p.tau * p.K.adjoint(p.xi_star) - p.x
    z_D = p.xi_star + p.sigma * p.K.apply(p.x_star)
    assert c.free_unknowns == np.sum(np.abs(v_P) > p.tau * G.alpha) < c.n and c.unclipped_rows == np.sum(np.abs(z_D) < 1)
    assert c.kappa == pytest.approx(1 / (1 + p.tau * G.eps)) and np.isnan(c.mu) and c.primal_unique
    margin = min(np.min(np.abs(np.abs(v_P) - p.tau * G.alpha)), np.min(np.abs(np.abs(z_D) - 1)))
    assert c.kink_margin == pytest.approx(margin) and c.kink_margin > 1e-6
    J = fd_jacobian(p, p.x_star, p.xi_star)
    assert c.sigma_min == pytest.approx(np.linalg.svd(np.eye(len(J)) - J.T, compute_uv=False)[-1], rel=1e-5)
    assert c.applies and c.dual_unique and c.rank == c.unclipped_rows, c.verdict


def test_theorem_conditions_rejects_what_it_cannot_check():
    p = problems.l1_l1_problem()
    with pytest.raises(TypeError, match="0/1 prox derivative of F"):
        theorem_conditions(p.K, prox.SquaredL2(), p.G, p.x, p.x_star, p.xi_star, tau=p.tau, sigma=p.sigma)
    with pytest.raises(TypeError, match="knows G"):
        theorem_conditions(p.K, p.F, prox.SquaredL2().conjugate(), p.x, p.x_star, p.xi_star, tau=p.tau, sigma=p.sigma)
    with pytest.raises(ValueError, match="one problem"):
        theorem_conditions(p.K, p.F, p.G, np.stack([p.x, p.x]), np.stack([p.x_star] * 2), np.stack([p.xi_star] * 2),
                           tau=p.tau, sigma=p.sigma)


def test_dense_max_skips_the_singular_value():
    c = conditions(problems.l1_l1_problem(), dense_max=10)
    assert np.isnan(c.sigma_min) and c.applies and "not computed" in c.verdict


def test_series_cost_counts_the_neumann_terms_of_the_finite_difference_jacobian():
    p = problems.l1_l1_problem()
    c = series_cost(p.K, p.F, p.G, p.x, p.y, tau=p.tau, sigma=p.sigma, solution=p.solution, eps=1e-8)
    J = fd_jacobian(p, p.x_star, p.xi_star)
    g = np.concatenate([p.x_star - p.y, np.zeros(len(J) - p.x.size)])
    norms = [np.linalg.norm(g)]
    r = g
    for _ in range(c.neumann_terms):
        r = J.T @ r
        norms.append(np.linalg.norm(r))                                     # ||(J^T)^N g||, the Neumann residual
    assert c.neumann_converged and norms[-1] <= 1e-8 * norms[0] * (1 + 1e-4) and norms[-2] > 1e-8 * norms[0]
    assert c.gmres_iterations <= c.gmres_restarted_iterations and 50 * c.gmres_iterations < c.neumann_terms
    assert c.gmres_iterations <= len(J) and c.restart == 30
    ev = np.linalg.eigvals(J.T)
    nonzero = ev[np.abs(ev) > 1e-6]
    assert c.nonzero_eigenvalues == len(nonzero) == 14                      # two per singular value of K_M (4.8)
    assert c.gamma_min == pytest.approx(1 - np.max(np.abs(nonzero)) ** 2, rel=1e-6)   # |lambda|^2 = 1 - gamma (4.9)
    assert c.neumann_estimate == pytest.approx(2 * np.log(1e8) / c.gamma_min)
    assert 0.5 < c.neumann_terms / c.neumann_estimate < 1.5                 # the rate (1 - gamma_min)^(N/2)
    assert c.krylov_estimate == pytest.approx(np.log(1e8) / np.sqrt(c.gamma_min))
    assert c.gmres_iterations <= c.nonzero_eigenvalues + 2 < c.krylov_estimate   # finite termination, not the law


def test_series_cost_leaves_the_spectrum_open_for_a_damped_g():
    p = problems.ball_problem()
    c = series_cost(p.K, p.F, p.G, p.x, p.y, tau=p.tau, sigma=p.sigma, solution=p.solution)
    assert np.isnan(c.gamma_min) and np.isnan(c.krylov_estimate) and c.nonzero_eigenvalues is None


def test_series_cost_is_bounded_and_validates():
    p = problems.l1_l1_problem()
    c = series_cost(p.K, p.F, p.G, p.x, p.y, tau=p.tau, sigma=p.sigma, solution=p.solution, max_terms=10)
    assert c.neumann_terms == 10 and not c.neumann_converged
    with pytest.raises(ValueError, match="nothing to solve"):
        series_cost(p.K, p.F, p.G, p.x, p.x_star, tau=p.tau, sigma=p.sigma, solution=p.solution)
    with pytest.raises(ValueError, match="eps"):
        series_cost(p.K, p.F, p.G, p.x, p.y, tau=p.tau, sigma=p.sigma, solution=p.solution, eps=0)


def test_the_rank_of_a_large_masked_operator_comes_from_its_gram_matrix():
    """Above 10**6 entries _rank uses B^T B; on a tall matrix of known rank both routes agree."""
    rng = np.random.default_rng(0)
    B = rng.standard_normal((1500, 40)) @ rng.standard_normal((40, 700))      # rank 40, 1.05e6 entries
    assert _rank(B, 1e-10) == 40 == _rank(B, 1e-10, dense_size=10**7) == np.linalg.matrix_rank(B)
    assert _rank(B.T, 1e-10) == 40 and _rank(np.zeros((3, 2)), 1e-10) == 0
