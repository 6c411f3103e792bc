"""The Chambolle-Pock step (cpteach.step): one step against a hand-written step from any state, steps from
the start against the trace, the primal-dual gap (2.7) against closed forms, the step sizes."""
import numpy as np
import pytest

from cpteach import chambolle_pock, default_steps, operators, prox
from cpteach.step import CPState, cp_step, primal_dual_gap, primal_objective
from conftest import small_operator


@pytest.mark.parametrize("theta", [0.0, 0.7, 1.0])
def test_cp_step_is_the_hand_written_step_from_any_state(theta):
    rng = np.random.default_rng(5)
    M = rng.standard_normal((6, 5)) / 3
    K, F, G = operators.Matrix(M), prox.L1(0.4), prox.L1(0.3)
    x, x_l, x_bar = rng.standard_normal((3, 5))           # x_bar != x_l: a state in the middle of a run
    xi = rng.uniform(-0.3, 0.3, 6)
    tau, sigma = 0.4, 0.6
    step = cp_step(K, F, G, x, CPState(x=x_l, x_bar=x_bar, xi=xi), tau=tau, sigma=sigma, theta=theta)
    z_D = xi + sigma * M @ x_bar                           # (2.1), written out
    xi_new = np.clip(z_D, -0.4, 0.4)                       # prox of sigma F* for F = 0.4||.||_1: clip to [-0.4, 0.4]
    z_P = x_l - tau * M.T @ xi_new                         # (2.3)
    v = z_P - x
    x_new = np.sign(v) * np.maximum(np.abs(v) - tau * 0.3, 0) + x   # (2.4): soft thresholding at tau * alpha
    np.testing.assert_allclose(step.z_D, z_D, atol=1e-14)
    np.testing.assert_allclose(step.z_P, z_P, atol=1e-14)
    np.testing.assert_allclose(step.state.xi, xi_new, atol=1e-14)
    np.testing.assert_allclose(step.state.x, x_new, atol=1e-14)
    np.testing.assert_allclose(step.state.x_bar, x_new + theta * (x_new - x_l), atol=1e-14)   # (2.5)


def test_cp_steps_from_the_start_are_the_trace():
    rng = np.random.default_rng(1)
    K, F, G, x = small_operator("Matrix", rng), prox.L1(0.5), prox.SquaredL2(), rng.standard_normal(5)
    tau, sigma = default_steps(K)
    trace = chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=0.5, L=4)
    state = CPState.start(K, x)
    for l in range(1, 5):
        step = cp_step(K, F, G, x, state, tau=tau, sigma=sigma, theta=0.5)
        state = step.state
        np.testing.assert_array_equal(state.x, trace.x(l))
        np.testing.assert_array_equal(step.z_D, trace.z_D(l))
    with pytest.raises(TypeError, match="CPState"):
        cp_step(K, F, G, x, (x, x, np.zeros(4)), tau=tau, sigma=sigma)


def test_primal_dual_gap_against_closed_forms():
    # min_u beta |u| + 0.5 (u - x)^2 with K = 1: u* = soft(x, beta), xi* = clip(x, -beta, beta)
    K, beta, x = operators.Matrix(np.eye(3)), 0.5, np.array([2.0, 0.2, -1.0])
    F, G = prox.L1(beta), prox.SquaredL2()
    u_star, xi_star = np.sign(x) * np.maximum(np.abs(x) - beta, 0), np.clip(x, -beta, beta)
    assert primal_dual_gap(K, F, G, x, u_star, xi_star) == pytest.approx(0.0, abs=1e-14)
    u, xi = np.zeros(3), np.zeros(3)                       # P(0) = 0.5||x||^2, D(0) = 0: the gap is 0.5||x||^2
    assert primal_dual_gap(K, F, G, x, u, xi) == pytest.approx(0.5 * np.sum(x**2), rel=1e-14)
    assert primal_objective(K, F, G, x, u_star) == pytest.approx(beta * 2.0 + 0.5 * (0.25 + 0.04 + 0.25))   # u* = (1.5, 0, -0.5)
    assert primal_dual_gap(K, F, G, x, u_star, np.array([1.0, 0, 0])) == np.inf   # |xi| > beta: F*(xi) = inf
    p_gap = primal_dual_gap(K, F, G, x, u_star + 0.1, xi_star)
    d_gap = primal_dual_gap(K, F, G, x, u_star, 0.5 * xi_star)
    assert p_gap > 0 and d_gap > 0


def test_default_steps_with_a_ratio():
    K = small_operator("FilterBank", np.random.default_rng(0))
    tau, sigma = default_steps(K, sigma_over_tau=25.0)
    assert sigma / tau == pytest.approx(25.0) and tau * sigma * K.norm() ** 2 == pytest.approx(0.99**2)
    assert default_steps(K) == (0.99 / K.norm(), 0.99 / K.norm())
    with pytest.raises(ValueError, match="safety"):
        default_steps(K, safety=1.0)
