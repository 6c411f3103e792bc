"""cpteach.asymptotics.contraction (docs/theory.md, 4D: the contraction rate (4.9))."""
import numpy as np
import pytest

from cpteach import asymptotics, backprop, chambolle_pock, problems
from cpteach.backprop import _prox_derivatives
from cpteach.fixed_point.gradients import _transposed_step
from conftest import solution_masks_of


@pytest.mark.parametrize("theta", [1.0, 0.7])
def test_contraction_rate_is_the_spectral_radius_of_the_backward_map(l1_l1, theta):
    """(4.8)-(4.9) against an independent oracle: the eigenvalues of the dense Jacobian J^T of one CP step at
    the solution (the backward step (3.1)-(3.3) that backprop and the implicit gradient use)."""
    p = l1_l1
    M_P, M_D = solution_masks_of(p)
    rate = asymptotics.contraction_rate(p.K, M_P, M_D, tau=p.tau, sigma=p.sigma, theta=theta)
    v_P = p.x_star - p.tau * p.K.adjoint(p.xi_star) - p.x
    z_D = p.xi_star + p.sigma * p.K.apply(p.x_star)
    n, k = p.x.size, p.xi_star.size
    Gamma_P, Gamma_D = _prox_derivatives(p.F.conjugate(), p.G, v_P, z_D, p.tau, p.sigma)
    columns = []
    for b in np.eye(2 * n + k):
        a, _, _ = _transposed_step(p.K, Gamma_P, Gamma_D, p.tau, p.sigma, theta, b[:n], b[n:2 * n], b[2 * n:])
        columns.append(np.concatenate(a))
    spectral_radius = np.abs(np.linalg.eigvals(np.array(columns).T)).max()
    assert rate.rho == pytest.approx(spectral_radius, abs=1e-12)
    assert rate.s_min == pytest.approx(rate.singular_values.min()) and 0.9 < rate.rho < 1 and rate.theta == theta
    with pytest.raises(ValueError, match="no non-zero singular value"):
        asymptotics.contraction_rate(p.K, np.zeros(n, bool), M_D, tau=p.tau, sigma=p.sigma)
    with pytest.raises(ValueError, match="tau\\*sigma"):
        asymptotics.contraction_rate(p.K, M_P, M_D, tau=1.0, sigma=1.0)


def test_contraction_rate_at_theta_0_7_is_the_measured_decay():
    """The problem sheet's check (problem 1): a run of l1_l1_problem() at theta = 0.7 and its backward pass decay
    per step at the rate of the slowest block (4.8), about 0.9938, slower than (4.9) at theta = 1."""
    p = problems.l1_l1_problem()
    trace = chambolle_pock(p.K, p.F, p.G, p.x, tau=p.tau, sigma=p.sigma, theta=0.7, L=3000)
    res = backprop(trace, p.y)
    m = asymptotics.masks(trace)
    rate = asymptotics.contraction_rate(p.K, m.M_P[-1], m.M_D[-1], tau=p.tau, sigma=p.sigma, theta=0.7)
    size = np.hypot(np.linalg.norm(res.delta_P, axis=1), np.linalg.norm(res.delta_D, axis=1))[::-1]
    measured = (size[1200] / size[200]) ** (1 / 1000)
    assert rate.rho == pytest.approx(measured, abs=2e-4)
    assert rate.rho > asymptotics.contraction_rate(p.K, m.M_P[-1], m.M_D[-1], tau=p.tau, sigma=p.sigma).rho
    assert asymptotics.contraction_rate(p.K, m.M_P[-1], m.M_D[-1], tau=p.tau, sigma=p.sigma, theta=0.0).rho == 1.0
