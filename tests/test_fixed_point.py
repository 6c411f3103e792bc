"""Fixed-point (one-step) and implicit gradients (docs/theory.md, section 5) against
one-step backprop, the unrolled limit and finite differences of the loss at the solution."""
import warnings

import numpy as np
import pytest

from cpteach import (backprop, chambolle_pock, compare_gradients, default_steps, fixed_point_closed_form,
                     fixed_point_gradient, implicit_gradient, operators, prox, solve)
from cpteach.fixed_point import unrolled_against


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


@pytest.mark.parametrize("theta", [0.5, 1.0])
@pytest.mark.parametrize("case", list(CASES))
def test_closed_form_equals_one_step_backprop(case, theta):
    K, x, y, _ = random_problem(1)
    F, G = CASES[case](x.size)
    tau, sigma = default_steps(K)
    fp = fixed_point_gradient(K, F, G, x, y, tau=tau, sigma=sigma, theta=theta, tol=1e-14, max_iter=200000)
    assert fp.solution.converged and fp.solution.residual < 1e-14
    cf = fixed_point_closed_form(K, F, G, x, y, fp.x_star, fp.xi_star, tau=tau, sigma=sigma)
    assert np.linalg.norm(fp.grad_K) > 1e-3
    np.testing.assert_allclose(cf.grad_K, fp.grad_K, rtol=0, atol=1e-10 * np.abs(fp.grad_K).max())
    np.testing.assert_allclose(cf.delta_P, fp.delta_P, rtol=0, atol=1e-10)


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


def test_implicit_gradient_is_the_limit_of_the_unrolled_gradient():
    """Cosine to the implicit gradient rises with L and passes 0.99; the one-step gradient does not."""
    K, x, y, _ = random_problem(3)
    F, G = prox.L1(1.0), prox.L2Ball(0.3 * np.sqrt(x.size))
    tau, sigma = default_steps(K)
    Ls = [1, 3, 10, 30, 100, 300, 1000, 3000]
    c = compare_gradients(K, F, G, x, y, Ls, tau=tau, sigma=sigma, tol=1e-12, max_iter=200000)
    assert np.all(np.diff(c.unrolled_cosine) >= -1e-9), c.unrolled_cosine
    assert c.unrolled_cosine[0] < 0.9 and c.unrolled_cosine[-1] > 0.99
    assert c.unrolled_rel_error[-1] < 1e-6
    # honesty: the one-step gradient is a different vector (measured cosine about 0.5 here)
    assert 0 < c.one_step_cosine < 0.95 and c.one_step_rel_error > 0.3
    assert c.implicit_time > 0 and c.implicit_peak_bytes > 0 and np.all(c.unrolled_peak_bytes > 0)
    # memory of the unrolled gradient grows with L
    assert c.unrolled_peak_bytes[-1] > 10 * c.unrolled_peak_bytes[2]


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


def test_bad_input_is_rejected_at_the_boundary():
    K, x, y, _ = random_problem(6)
    tau, sigma = default_steps(K)
    with pytest.raises(ValueError, match="y has shape"):
        implicit_gradient(K, prox.L1(), prox.SquaredL2(), x, y[:-1], tau=tau, sigma=sigma)
    with pytest.raises(ValueError, match="tau\\*sigma"):
        fixed_point_gradient(K, prox.L1(), prox.SquaredL2(), x, y, tau=1.0, sigma=10.0)
    with pytest.raises(TypeError, match="solution"):
        fixed_point_gradient(K, prox.L1(), prox.SquaredL2(), x, y, tau=tau, sigma=sigma, solution=object())
    with pytest.raises(ValueError, match="Ls"):
        compare_gradients(K, prox.L1(), prox.SquaredL2(), x, y, [0, 5], tau=tau, sigma=sigma)


def test_unrolled_against_prefixes_equals_separate_runs():
    """Prefixes of one trace give the unrolled gradients of separate runs of length L (3.4); cosine and
    error computed here by hand against an arbitrary reference."""
    K, x, y, rng = random_problem(7, k=12, n=8)
    F, G = prox.L1(0.5), prox.SquaredL2()
    tau, sigma = default_steps(K)
    reference = rng.standard_normal(K.params.shape)
    trace = chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, L=40)
    cosine, rel_error = unrolled_against(trace, y, [1, 7, 40], reference)
    for i, L in enumerate((1, 7, 40)):
        g = backprop(chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, L=L), y).grad_K
        assert cosine[i] == pytest.approx(np.sum(g * reference) / (np.linalg.norm(g) * np.linalg.norm(reference)))
        assert rel_error[i] == pytest.approx(np.linalg.norm(g - reference) / np.linalg.norm(reference))
    with pytest.raises(ValueError, match="Ls"):
        unrolled_against(trace, y, [0, 41], reference)
    with pytest.raises(ValueError, match="reference has shape"):
        unrolled_against(trace, y, [1], reference[:2])
    with pytest.raises(TypeError, match="CPTrace"):
        unrolled_against(object(), y, [1], reference)
