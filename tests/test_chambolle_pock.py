"""The forward iteration: the recorded trace, convergence against closed forms, bad input."""
import warnings

import numpy as np
import pytest

from cpteach import chambolle_pock, default_steps, operators, prox, solve
from cpteach.step import primal_dual_gap
from conftest import PROX_FUNCTIONS, small_operator


def reference_iterates(M, F, G, x, tau, sigma, theta, L):
    """A plain transcription of (2.0)-(2.5) with a dense matrix, written independently."""
    xs, xis, z_Ps, z_Ds = [x.copy()], [np.zeros(M.shape[0])], [], []
    x_bar = x.copy()
    for _ in range(L):
        z_D = xis[-1] + sigma * M @ x_bar
        xi = z_D - sigma * F.prox(z_D / sigma, 1 / sigma)
        z_P = xs[-1] - tau * M.T @ xi
        x_new = G.prox(z_P - x, tau) + x
        x_bar = 2 * x_new - xs[-1] if theta == 1 else x_new + theta * (x_new - xs[-1])
        xs.append(x_new)
        xis.append(xi)
        z_Ps.append(z_P)
        z_Ds.append(z_D)
    return xs, xis, z_Ps, z_Ds


@pytest.mark.parametrize("theta", [0.0, 0.5, 1.0])
def test_trace_matches_reference_transcription(theta):
    rng = np.random.default_rng(0)
    M = rng.standard_normal((6, 5))
    K = operators.Matrix(M)
    x = rng.standard_normal(5)
    F, G = prox.L1(0.5), prox.L2Ball(0.7)
    tau, sigma = default_steps(K)
    trace = chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=theta, L=7)
    xs, xis, z_Ps, z_Ds = reference_iterates(M, F, G, x, tau, sigma, theta, 7)
    for l in range(8):
        np.testing.assert_allclose(trace.x(l), xs[l], atol=1e-13)
        np.testing.assert_allclose(trace.xi(l), xis[l], atol=1e-13)
    for l in range(1, 8):
        np.testing.assert_allclose(trace.z_P(l), z_Ps[l - 1], atol=1e-13)
        np.testing.assert_allclose(trace.z_D(l), z_Ds[l - 1], atol=1e-13)
    np.testing.assert_allclose(trace.x_bar(3), trace.x(3) + theta * (trace.x(3) - trace.x(2)))
    np.testing.assert_array_equal(trace.x_L, trace.x(7))


def test_converges_to_closed_form_of_quadratic_problem():
    """min 0.5 a||Mu||^2 + 0.5 b||u - x||^2 has the solution (a M^T M + b I)^{-1} b x."""
    rng = np.random.default_rng(1)
    M, x, a, b = rng.standard_normal((7, 5)), rng.standard_normal(5), 2.0, 0.5
    K = operators.Matrix(M)
    tau, sigma = default_steps(K)
    trace = chambolle_pock(K, prox.SquaredL2(a), prox.SquaredL2(b), x, tau=tau, sigma=sigma, L=3000)
    exact = np.linalg.solve(a * M.T @ M + b * np.eye(5), b * x)
    np.testing.assert_allclose(trace.x_L, exact, atol=1e-9)
    assert trace.gap()[-1] == pytest.approx(0, abs=1e-9)
    assert trace.gap()[0] > 1e-3


def test_constrained_tv_problem_is_feasible_and_gap_closes():
    rng = np.random.default_rng(2)
    x = np.repeat([0.0, 1.0, 0.3], 10) + 0.1 * rng.standard_normal(30)
    K = operators.FiniteDifference(30)
    tau, sigma = default_steps(K)
    radius = 0.1 * np.sqrt(30)
    trace = chambolle_pock(K, prox.L1(), prox.L2Ball(radius), x, tau=tau, sigma=sigma, L=2000)
    assert np.linalg.norm(trace.x_L - x) <= radius * (1 + 1e-12)
    gap = trace.gap()
    assert gap[-1] < 1e-6 * gap[1]
    assert np.all(gap >= -1e-10)
    objective = trace.objective()
    assert objective[-1] < objective[0]


def test_batch_equals_separate_runs():
    rng = np.random.default_rng(3)
    K = operators.FilterBank(rng.standard_normal((3, 3, 3)) / 3, (6, 5))
    xs = rng.standard_normal((2, 6, 5))
    tau, sigma = default_steps(K)
    G = prox.L2Ball(1.0, axis=(-2, -1))
    batch = chambolle_pock(K, prox.L1(), G, xs, tau=tau, sigma=sigma, L=20)
    for i in range(2):
        single = chambolle_pock(K, prox.L1(), prox.L2Ball(1.0), xs[i], tau=tau, sigma=sigma, L=20)
        np.testing.assert_allclose(batch.x_L[i], single.x_L, atol=1e-13)


def test_solve_reaches_tolerance_and_warns_when_it_cannot():
    rng = np.random.default_rng(4)
    K = operators.Matrix(rng.standard_normal((6, 4)))
    x = rng.standard_normal(4)
    tau, sigma = default_steps(K)
    sol = solve(K, prox.L1(), prox.SquaredL2(), x, tau=tau, sigma=sigma, tol=1e-10)
    assert sol.converged and sol.residual < 1e-10
    long = chambolle_pock(K, prox.L1(), prox.SquaredL2(), x, tau=tau, sigma=sigma, L=sol.iterations)
    np.testing.assert_allclose(sol.x_star, long.x_L, atol=1e-12)
    with pytest.warns(RuntimeWarning, match="did not reach"):
        bad = solve(K, prox.L1(), prox.SquaredL2(), x, tau=tau, sigma=sigma, tol=1e-14, max_iter=3)
    assert not bad.converged


@pytest.mark.parametrize("kind", ["Matrix", "FilterBank"])
def test_bad_input_messages(kind):
    rng = np.random.default_rng(5)
    K = small_operator(kind, rng)
    x = rng.standard_normal(K.shape_in)
    F, G = PROX_FUNCTIONS["L1"](), PROX_FUNCTIONS["SquaredL2"]()
    tau, sigma = default_steps(K)
    with pytest.raises(ValueError, match=r"tau\*sigma\*\|\|K\|\|\^2 = .* >= 1.*tau = sigma = 0.99/\|\|K\|\|"):
        chambolle_pock(K, F, G, x, tau=2 * tau, sigma=sigma, L=3)
    with pytest.raises(ValueError, match="theta must lie in"):
        chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=1.5, L=3)
    with pytest.raises(ValueError, match=r"L \(the number of iterations\) must be an integer >= 0, got -1"):
        chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, L=-1)
    for L in (2.5, True):
        with pytest.raises(TypeError, match=r"L \(the number of iterations\) must be an integer"):
            chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, L=L)
    with pytest.raises(TypeError, match="tau must be a real number"):
        chambolle_pock(K, F, G, x, tau="0.1", sigma=sigma, L=3)
    with pytest.raises(ValueError, match=r"x0 has shape \(2,\) but must have shape"):
        chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, L=3, x0=np.zeros(2))
    with pytest.raises(ValueError, match=r"xi0 has shape \(1,\) but must have shape"):
        solve(K, F, G, x, tau=tau, sigma=sigma, xi0=np.zeros(1))
    bad = x.copy()
    bad.flat[0] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        chambolle_pock(K, F, G, bad, tau=tau, sigma=sigma, L=3)
    with pytest.raises(ValueError, match="last axes"):
        chambolle_pock(K, F, G, np.ones(3), tau=tau, sigma=sigma, L=3)
    with pytest.raises(TypeError, match="operators.Matrix"):
        chambolle_pock(np.eye(3), F, G, x, tau=tau, sigma=sigma, L=3)
    with pytest.raises(ValueError, match="fixed_point_gradient"):
        chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, L=1000, max_trace_bytes=10_000)
    with pytest.raises(IndexError, match=r"\[1, 3\]"):
        chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, L=3).z_P(0)


def test_solve_with_a_fixed_step_count_is_the_unrolled_iteration():
    """tol = 0 runs exactly max_iter steps: the same x as the trace, the residual of its last two iterates."""
    K = operators.FiniteDifference((12, 10))
    x = np.random.default_rng(2).standard_normal((12, 10))
    F, G = prox.L1(0.3), prox.SquaredL2()
    tau, sigma = default_steps(K)
    with pytest.warns(RuntimeWarning, match="did not reach"):
        sol = solve(K, F, G, x, tau=tau, sigma=sigma, tol=0, max_iter=25)
    trace = chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, L=25)
    np.testing.assert_array_equal(sol.x_star, trace.x_L)
    np.testing.assert_array_equal(sol.xi_star, trace.xi(25))
    change = np.sqrt(np.sum((trace.x(25) - trace.x(24)) ** 2) + np.sum((trace.xi(25) - trace.xi(24)) ** 2))
    scale = max(1.0, np.sqrt(np.sum(trace.x(25) ** 2) + np.sum(trace.xi(25) ** 2)))
    assert sol.iterations == 25 and sol.residual == pytest.approx(change / scale, rel=1e-12)


def test_solve_can_stay_silent_and_still_reports_non_convergence():
    K = operators.FiniteDifference(8)
    x = np.linspace(0.0, 1.0, 8)
    tau, sigma = default_steps(K)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # any warning fails the test
        sol = solve(K, prox.L1(0.3), prox.SquaredL2(), x, tau=tau, sigma=sigma, tol=1e-14, max_iter=3, warn=False)
    assert not sol.converged and sol.iterations == 3


def test_solve_closes_the_gap():
    K = operators.FiniteDifference(12)
    x = np.random.default_rng(2).standard_normal(12)
    F, G = prox.L1(0.3), prox.SquaredL2()
    sol = solve(K, F, G, x, tau=0.49, sigma=0.49, tol=1e-13, max_iter=100000)
    assert 0 <= primal_dual_gap(K, F, G, x, sol.x_star, sol.xi_star) < 1e-9


@pytest.mark.parametrize("F", [prox.L1(0.3), prox.L2Ball(0.9)], ids=["entrywise F*", "ball F*"])
def test_trace_blocks_are_the_stacked_iterates(F):
    """xi_block and x_bar_block (what the backward pass reads per block) equal the per-iteration accessors, also
    for the ball's conjugate, whose prox is not entrywise (a stack is not one argument)."""
    rng = np.random.default_rng(4)
    K = small_operator("Matrix", rng)
    tau, sigma = default_steps(K)
    trace = chambolle_pock(K, F, prox.SquaredL2(), rng.standard_normal(5), tau=tau, sigma=sigma, theta=0.5, L=9)
    for first, last in [(1, 9), (3, 5), (4, 4)]:
        np.testing.assert_array_equal(trace.xi_block(first, last),
                                      np.stack([trace.xi(l) for l in range(first, last + 1)]))
    for first, last in [(0, 9), (0, 0), (2, 6)]:
        np.testing.assert_array_equal(trace.x_bar_block(first, last),
                                      np.stack([trace.x_bar(l) for l in range(first, last + 1)]))
    with pytest.raises(IndexError):
        trace.xi_block(0, 3)
    with pytest.raises(IndexError):
        trace.x_bar_block(5, 4)
