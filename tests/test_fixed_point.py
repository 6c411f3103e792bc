"""Fixed-point (one-step) and implicit gradients (cpteach.fixed_point.gradients, docs/theory.md, 5A-5B)
against finite differences of the one-step loss and of the loss at the solution."""
import warnings

import numpy as np
import pytest

from cpteach import (chambolle_pock, default_steps, fixed_point_closed_form, fixed_point_gradient, implicit_gradient,
                     operators, prox, solve)


def random_problem(seed, k=30, n=20):
    rng = np.random.default_rng(seed)
    K = operators.Matrix(rng.standard_normal((k, n)) / np.sqrt(n))
    y = rng.standard_normal(n)
    x = y + 0.3 * rng.standard_normal(n)
    return K, x, y, rng


CASES = {
    "L1-SquaredL2": lambda n: (prox.L1(0.2), prox.SquaredL2()),
    "SquaredL2-SquaredL2": lambda n: (prox.SquaredL2(2.0), prox.SquaredL2()),
    "L1-L2Ball": lambda n: (prox.L1(1.0), prox.L2Ball(0.3 * np.sqrt(n))),
}


def one_step_loss(K, F, G, x, y, x_star, xi_star, tau, sigma, theta):
    """0.5 ||x~ - y||^2 for one CP step x~ = T_K(x*, xi*) from the fixed (x*, xi*), x_bar^0 = x* (5.4)."""
    step = chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=theta, L=1, x0=x_star, xi0=xi_star)
    return 0.5 * np.sum((step.x_L - y) ** 2)


@pytest.mark.parametrize("theta", [0.5, 1.0])
@pytest.mark.parametrize("case", list(CASES))
def test_one_step_gradient_and_closed_form_against_finite_differences_of_the_one_step_loss(case, theta):
    """(5.1)-(5.3): the derivative in K of the loss of one step taken at the (fixed) solution."""
    K, x, y, rng = random_problem(1)
    F, G = CASES[case](x.size)
    tau, sigma = default_steps(K)
    fp = fixed_point_gradient(K, F, G, x, y, tau=tau, sigma=sigma, theta=theta, tol=1e-14, max_iter=200000)
    assert fp.solution.converged and fp.solution.residual < 1e-14
    cf = fixed_point_closed_form(K, F, G, x, y, fp.x_star, fp.xi_star, tau=tau, sigma=sigma)
    eps = 1e-6
    for _ in range(3):
        d = rng.standard_normal(K.params.shape)
        losses = [one_step_loss(K.with_params(K.params + s * eps * d), F, G, x, y, fp.x_star, fp.xi_star, tau, sigma,
                                theta) for s in (1, -1)]
        fd = (losses[0] - losses[1]) / (2 * eps)
        assert abs(fd) > 1e-4
        assert np.sum(fp.grad_K * d) == pytest.approx(fd, rel=1e-6, abs=1e-9)
        assert np.sum(cf.grad_K * d) == pytest.approx(fd, rel=1e-6, abs=1e-9)


def solution_loss(K, F, G, x, y, tau, sigma, theta):
    sol = solve(K, F, G, x, tau=tau, sigma=sigma, theta=theta, tol=1e-15, max_iter=400000)
    return 0.5 * np.sum((sol.x_star - y) ** 2)


@pytest.mark.parametrize("theta", [0.5, 1.0])
@pytest.mark.parametrize("case", list(CASES))
def test_implicit_gradient_against_finite_differences_at_the_solution(case, theta):
    K, x, y, rng = random_problem(2)
    F, G = CASES[case](x.size)
    tau, sigma = default_steps(K)
    ig = implicit_gradient(K, F, G, x, y, tau=tau, sigma=sigma, theta=theta, tol=1e-13, max_iter=200000)
    assert ig.solution.converged and ig.gmres_converged and ig.gmres_residual <= 1e-13
    assert ig.gmres_iterations > 0
    eps = 1e-6
    d = rng.standard_normal(K.params.shape)
    plus = solution_loss(K.with_params(K.params + eps * d), F, G, x, y, tau, sigma, theta)
    minus = solution_loss(K.with_params(K.params - eps * d), F, G, x, y, tau, sigma, theta)
    fd = (plus - minus) / (2 * eps)
    assert abs(fd) > 1e-2
    assert np.sum(ig.grad_K * d) == pytest.approx(fd, rel=1e-6)


def test_implicit_gradient_does_not_depend_on_theta():
    K, x, y, _ = random_problem(4)
    F, G = prox.L1(0.2), prox.SquaredL2()
    tau, sigma = default_steps(K)
    g = [implicit_gradient(K, F, G, x, y, tau=tau, sigma=sigma, theta=t, tol=1e-13, max_iter=200000).grad_K
         for t in (0.0, 0.5, 1.0)]
    np.testing.assert_allclose(g[0], g[2], atol=1e-9)
    np.testing.assert_allclose(g[1], g[2], atol=1e-9)


def test_inexact_solves_warn_with_the_residual():
    K, x, y, _ = random_problem(5)
    F, G = prox.L1(1.0), prox.L2Ball(0.3 * np.sqrt(x.size))
    tau, sigma = default_steps(K)
    with pytest.warns(RuntimeWarning, match=r"residual \d"):
        fp = fixed_point_gradient(K, F, G, x, y, tau=tau, sigma=sigma, tol=1e-12, max_iter=5)
    assert not fp.solution.converged and fp.solution.iterations == 5 and fp.solution.residual > 1e-12
    with pytest.warns(RuntimeWarning, match=r"GMRES did not reach .* residual \d"):
        ig = implicit_gradient(K, F, G, x, y, tau=tau, sigma=sigma, tol=1e-12, max_iter=200000,
                               gmres_maxiter=1, restart=2)
    assert not ig.gmres_converged and ig.gmres_residual > 1e-12
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        implicit_gradient(K, F, G, x, y, tau=tau, sigma=sigma, tol=1e-10, max_iter=200000)
        quiet = implicit_gradient(K, F, G, x, y, tau=tau, sigma=sigma, tol=1e-12, max_iter=5, gmres_maxiter=1,
                                  restart=2, warn=False)               # warn=False: reported, not raised
    assert not quiet.solution.converged and not quiet.gmres_converged


def test_bad_input_is_rejected_at_the_boundary():
    K, x, y, _ = random_problem(6)
    tau, sigma = default_steps(K)
    with pytest.raises(ValueError, match="y has shape"):
        implicit_gradient(K, prox.L1(), prox.SquaredL2(), x, y[:-1], tau=tau, sigma=sigma)
    with pytest.raises(ValueError, match="tau\\*sigma"):
        fixed_point_gradient(K, prox.L1(), prox.SquaredL2(), x, y, tau=1.0, sigma=10.0)
    with pytest.raises(TypeError, match="solution"):
        fixed_point_gradient(K, prox.L1(), prox.SquaredL2(), x, y, tau=tau, sigma=sigma, solution=object())
