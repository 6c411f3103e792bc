"""cpteach.asymptotics.contraction (docs/theory.md, 4D: the contraction rate (4.9))."""
import numpy as np
import pytest

from cpteach import asymptotics
from cpteach.fixed_point.gradients import _transposed_step
from conftest import solution_masks_of


def test_contraction_rate_is_the_spectral_radius_of_the_backward_map(l1_l1):
    """(4.9) against an independent oracle: the eigenvalues of the dense Jacobian J^T of one CP step at the
    solution (the backward step (3.1)-(3.3) that backprop and the implicit gradient use), theta = 1."""
    p = l1_l1
    M_P, M_D = solution_masks_of(p)
    rate = asymptotics.contraction_rate(p.K, M_P, M_D, tau=p.tau, sigma=p.sigma)
    v_P = p.x_star - p.tau * p.K.adjoint(p.xi_star) - p.x
    z_D = p.xi_star + p.sigma * p.K.apply(p.x_star)
    n, k = p.x.size, p.xi_star.size
    columns = []
    for b in np.eye(2 * n + k):
        a, _, _ = _transposed_step(p.K, p.F.conjugate(), p.G, v_P, z_D, p.tau, p.sigma, 1.0,
                                   b[:n], b[n:2 * n], b[2 * n:])
        columns.append(np.concatenate(a))
    spectral_radius = np.abs(np.linalg.eigvals(np.array(columns).T)).max()
    assert rate.rho == pytest.approx(spectral_radius, abs=1e-12)
    assert rate.s_min == pytest.approx(rate.singular_values.min()) and 0.9 < rate.rho < 1
    with pytest.raises(ValueError, match="no non-zero singular value"):
        asymptotics.contraction_rate(p.K, np.zeros(n, bool), M_D, tau=p.tau, sigma=p.sigma)
    with pytest.raises(ValueError, match="tau\\*sigma"):
        asymptotics.contraction_rate(p.K, M_P, M_D, tau=1.0, sigma=1.0)
