"""cpteach.asymptotics.settled_masks (docs/theory.md, (4.1): the masks per iteration, l_o, the kinks, functions without 0/1 derivatives)."""
import numpy as np
import pytest

from cpteach import asymptotics, chambolle_pock, operators, prox


def test_masks_settle_and_l_o_is_where_they_stop_changing(tv_l1):
    *_, trace = tv_l1
    m = asymptotics.masks(trace)
    assert m.M_P.shape == (4000, 48) and m.M_D.shape == (4000, 47)
    assert 1 < m.l_o < 2000
    assert np.all(m.changes[m.l_o:] == 0) and m.changes[m.l_o - 1] > 0
    # independent oracle: the masks are the derivatives of the (separable) prox maps, here by central
    # differences of the prox values themselves at an iteration before and one after l_o
    h = 1e-7
    for l in (m.l_o - 1, m.l_o + 10):
        v_P, z_D = trace.z_P(l) - trace.data, trace.z_D(l)
        P_fd = (trace.G.prox(v_P + h, trace.tau) - trace.G.prox(v_P - h, trace.tau)) / (2 * h)
        D_fd = (trace.F_conj.prox(z_D + h, trace.sigma) - trace.F_conj.prox(z_D - h, trace.sigma)) / (2 * h)
        off_P, off_D = ~m.M_P_kink[l - 1], ~m.M_D_kink[l - 1]
        np.testing.assert_allclose(P_fd[off_P], m.M_P[l - 1][off_P], atol=1e-6)
        np.testing.assert_allclose(D_fd[off_D], m.M_D[l - 1][off_D], atol=1e-6)


def test_kink_entries_are_ignored():
    """An entry that sits on the kink of the clipping flips between 0 and 1; it must not delay l_o."""
    K = operators.Matrix(np.eye(2))
    trace = chambolle_pock(K, prox.L1(1.0), prox.Zero(), np.array([0.0, 3.0]), tau=0.5, sigma=0.5, L=5)
    z_D = trace.z_D_all.copy()
    z_D[:, 0] = 1.0 + np.array([1e-12, -1e-12, 1e-12, -1e-12, 1e-12])   # on the kink |z| = 1
    flipped = asymptotics.masks(type(trace)(**{**trace.__dict__, "_z_D": z_D}))
    assert flipped.M_D_kink[:, 0].all() and flipped.l_o == 1
    strict = asymptotics.masks(type(trace)(**{**trace.__dict__, "_z_D": z_D}), kink_tol=0.0)
    assert strict.l_o == 5


def test_masks_reject_functions_without_0_1_derivative():
    K = operators.Matrix(np.eye(2))
    trace = chambolle_pock(K, prox.L1(), prox.SquaredL2(), np.ones(2), tau=0.5, sigma=0.5, L=3)
    with pytest.raises(TypeError, match="0/1 mask"):
        asymptotics.masks(trace)


@pytest.mark.parametrize("L, settled", [(1500, False), (3000, True)])
def test_unsettled_entries_sees_a_mask_change_after_L(L, settled):
    """At tau/2 the first 1500 steps of TV-L1 end on a last change at l = 324, yet the masks change again at
    l = 1664: the masks at l = L differ from those at the end of a run of 20000 steps, and from the solution's."""
    from cpteach import problems
    p = problems.tv_l1_denoising_1d(n=48, beta=1.0, alpha=0.5)
    long = asymptotics.masks(chambolle_pock(p.K, p.F, p.G, p.x, tau=p.tau / 2, sigma=p.sigma, L=20000))
    short = asymptotics.masks(chambolle_pock(p.K, p.F, p.G, p.x, tau=p.tau / 2, sigma=p.sigma, L=L))
    assert (long.l_o <= L) == settled and (short.l_o < 1000) != settled         # the case, from the long run
    count = asymptotics.unsettled_entries(short, p.K, p.F, p.G, p.x, p.solution.x_star, p.solution.xi_star,
                                          tau=p.tau / 2, sigma=p.sigma)
    differ = np.sum(short.M_P[-1] != long.M_P[-1]) + np.sum(short.M_D[-1] != long.M_D[-1])   # oracle: the long run
    assert count == differ and (count == 0) == settled
