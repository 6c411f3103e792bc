"""cpteach.asymptotics.kernel (docs/theory.md, 4A: the masked kernel residuals (4.2) and the limit (4.3))."""
import numpy as np
import pytest

from cpteach import asymptotics, chambolle_pock, default_steps, operators, prox


def test_masked_residuals_vanish_unmasked_do_not_and_delta_P_tends_to_the_projection(tv_l1):
    K, F, G, x, y, tau, sigma, trace = tv_l1
    l = asymptotics.masks(trace).l_o
    r = asymptotics.kernel_residuals(trace, y, l, [l, 1000, 2000, 4000])
    assert r.DK_delta_P[0] > 1e-5 and r.DK_delta_P[-1] < 1e-12           # (4.2), masked
    assert np.all(r.K_delta_P > 0.2)                                       # "in ker K" is false
    assert r.PKt_delta_D[-1] < 1e-12 and r.delta_D_norm[-1] < 1e-12        # (4.3): delta_D^l -> 0
    assert r.delta_P_norm[-1] > 0.5                                        # but delta_P^l does not
    limit = asymptotics.projection_limit(K, r.M_P, r.M_D, trace.x_L - y)      # (4.3)
    e = np.linalg.norm(trace.x_L - y)
    dist = [np.linalg.norm(d - limit) / e for d in r.delta_P]
    assert dist[0] > 1e-4 and dist[-1] < 1e-10
    # the limit is a fixed point of the masked backward map and lies in range(P) ∩ ker(DK)
    assert np.all(limit[~r.M_P] == 0)
    assert np.linalg.norm(r.M_D * K.apply(limit)) < 1e-12 * e


def test_masked_residuals_on_a_2d_tv_l1_problem():
    rng = np.random.default_rng(0)
    y = np.zeros((16, 16))
    y[4:12, 4:12] = 1.0
    x = y + 0.2 * rng.standard_normal(y.shape)
    K = operators.FiniteDifference(y.shape)
    tau, sigma = default_steps(K)
    trace = chambolle_pock(K, prox.L1(1.0), prox.L1(1.5), x, tau=tau, sigma=sigma, L=3000)
    r = asymptotics.kernel_residuals(trace, y, 1000, [1000, 3000])
    assert r.DK_delta_P[0] > 1e-2 and r.DK_delta_P[-1] < 1e-4               # falls by > 2 decades
    assert r.K_delta_P.min() > 0.4                                          # stays


def test_projection_limit_closed_form():
    """P e projected onto vectors supported on P and constant across the D-active edges."""
    K = operators.FiniteDifference(5)
    P = np.array([True, True, True, False, True])
    D = np.array([[True, True, False, False, False]])   # edges 0-1 and 1-2 active
    e = np.array([1.0, 2.0, 6.0, 7.0, 4.0])
    np.testing.assert_allclose(asymptotics.projection_limit(K, P, D, e), [3.0, 3.0, 3.0, 0.0, 4.0])
    with pytest.raises(ValueError, match="unbatched"):
        asymptotics.projection_limit(K, P, D, np.ones((2, 5)))
