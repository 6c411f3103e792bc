"""Kernel asymptotics (docs/theory.md, section 4): masks and l_o, the masked kernel residuals
(4.2), the limit (4.3), the limit formula (4.5) and the non-summable TV-L1 case (4.6)."""
import numpy as np
import pytest

from cpteach import asymptotics, backprop, chambolle_pock, default_steps, implicit_gradient, operators, prox


@pytest.fixture(scope="module")
def tv_l1():
    """1-D TV-L1, min ||D u||_1 + 0.5 ||u - x||_1, with K the dense difference matrix (so it has
    parameters): its linearised backward map has a non-trivial fixed space."""
    rng = np.random.default_rng(0)
    y = np.repeat([0.0, 1.0, 0.4, 0.8], 12)
    x = y + 0.3 * rng.standard_normal(y.size)
    K = operators.Matrix(np.diff(np.eye(y.size), axis=0))
    tau, sigma = default_steps(K)
    F, G = prox.L1(1.0), prox.L1(0.5)
    trace = chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, L=4000)
    return K, F, G, x, y, tau, sigma, trace


def test_masks_settle_and_l_o_is_where_they_stop_changing(tv_l1):
    *_, trace = tv_l1
    m = asymptotics.masks(trace)
    assert m.P.shape == (4000, 48) and m.D.shape == (4000, 47)
    assert 1 < m.l_o < 2000
    assert np.all(m.changes[m.l_o:] == 0) and m.changes[m.l_o - 1] > 0
    # independent oracle: the masks are the derivatives of the (separable) prox maps, here by central
    # differences of the prox values themselves at an iteration before and one after l_o
    h = 1e-7
    for l in (m.l_o - 1, m.l_o + 10):
        v_P, z_D = trace.z_P(l) - trace.data, trace.z_D(l)
        P_fd = (trace.G.prox(v_P + h, trace.tau) - trace.G.prox(v_P - h, trace.tau)) / (2 * h)
        D_fd = (trace.F_conj.prox(z_D + h, trace.sigma) - trace.F_conj.prox(z_D - h, trace.sigma)) / (2 * h)
        off_P, off_D = ~m.P_kink[l - 1], ~m.D_kink[l - 1]
        np.testing.assert_allclose(P_fd[off_P], m.P[l - 1][off_P], atol=1e-6)
        np.testing.assert_allclose(D_fd[off_D], m.D[l - 1][off_D], atol=1e-6)


def test_kink_entries_are_ignored():
    """An entry that sits on the kink of the clipping flips between 0 and 1; it must not delay l_o."""
    K = operators.Matrix(np.eye(2))
    trace = chambolle_pock(K, prox.L1(1.0), prox.Zero(), np.array([0.0, 3.0]), tau=0.5, sigma=0.5, L=5)
    z_D = trace.z_D_all.copy()
    z_D[:, 0] = 1.0 + np.array([1e-12, -1e-12, 1e-12, -1e-12, 1e-12])   # on the kink |z| = 1
    flipped = asymptotics.masks(type(trace)(**{**trace.__dict__, "_z_D": z_D}))
    assert flipped.D_kink[:, 0].all() and flipped.l_o == 1
    strict = asymptotics.masks(type(trace)(**{**trace.__dict__, "_z_D": z_D}), kink_tol=0.0)
    assert strict.l_o == 5


def test_masked_residuals_vanish_unmasked_do_not_and_delta_P_tends_to_the_projection(tv_l1):
    K, F, G, x, y, tau, sigma, trace = tv_l1
    l = asymptotics.masks(trace).l_o
    r = asymptotics.kernel_residuals(trace, y, l, [l, 1000, 2000, 4000])
    assert r.DK_delta_P[0] > 1e-5 and r.DK_delta_P[-1] < 1e-12           # (4.2), masked
    assert np.all(r.K_delta_P > 0.2)                                       # "in ker K" is false
    assert r.PKt_delta_D[-1] < 1e-12 and r.delta_D_norm[-1] < 1e-12        # (4.3): delta_D^l -> 0
    assert r.delta_P_norm[-1] > 0.5                                        # but delta_P^l does not
    limit = asymptotics.projection_limit(K, r.P, r.D, trace.x_L - y)      # (4.3)
    e = np.linalg.norm(trace.x_L - y)
    dist = [np.linalg.norm(d - limit) / e for d in r.delta_P]
    assert dist[0] > 1e-4 and dist[-1] < 1e-10
    # the limit is a fixed point of the masked backward map and lies in range(P) ∩ ker(DK)
    assert np.all(limit[~r.P] == 0)
    assert np.linalg.norm(r.D * K.apply(limit)) < 1e-12 * e


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
    rng = np.random.default_rng(3)
    K = operators.Matrix(rng.standard_normal((30, 20)) / np.sqrt(20))
    y = rng.standard_normal(20)
    x = y + 0.3 * rng.standard_normal(20)
    F, G = prox.L1(0.2), prox.SquaredL2()
    tau, sigma = default_steps(K)
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
    rng = np.random.default_rng(3)
    K = operators.Matrix(rng.standard_normal((30, 20)) / np.sqrt(20))
    y = rng.standard_normal(20)
    x = y + 0.3 * rng.standard_normal(20)
    tau, sigma = default_steps(K)
    s = asymptotics.summability(K, prox.L1(0.2), prox.L1(0.3), x, y, tau=tau, sigma=sigma, Ls=(300, 600))
    assert s.summable and np.all(s.delta_P_limit == 0) and np.all(s.predicted_slope == 0)
    assert np.isnan(s.slope_rel_error)


def test_masks_reject_functions_without_0_1_derivative():
    K = operators.Matrix(np.eye(2))
    trace = chambolle_pock(K, prox.L1(), prox.SquaredL2(), np.ones(2), tau=0.5, sigma=0.5, L=3)
    with pytest.raises(TypeError, match="0/1 mask"):
        asymptotics.masks(trace)
