"""Kernel asymptotics (docs/theory.md, section 4): masks and l_o, the masked kernel residuals
(4.2), the limit (4.3), the limit formula (4.5) and the non-summable TV-L1 case (4.6)."""
import numpy as np
import pytest

from cpteach import (asymptotics, backprop, chambolle_pock, default_steps, implicit_gradient, operators, problems,
                     prox, solve)
from cpteach.fixed_point.gradients import _transposed_step


@pytest.fixture(scope="module")
def tv_l1():
    """1-D TV-L1 (n = 48), min ||D u||_1 + 0.5 ||u - x||_1, with K the dense difference matrix (so it has
    parameters): its linearised backward map has a non-trivial fixed space."""
    p = problems.tv_l1_denoising_1d(n=48, beta=1.0, alpha=0.5)
    trace = chambolle_pock(p.K, p.F, p.G, p.x, tau=p.tau, sigma=p.sigma, L=4000)
    return p.K, p.F, p.G, p.x, p.y, p.tau, p.sigma, trace


@pytest.fixture(scope="module")
def l1_l1():
    """Notebooks 03a/03b's summable L1-L1 problem (random 20 x 10 K, F = 0.2||.||_1, G = 0.3||.||_1)."""
    return problems.l1_l1_problem()


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
    p = problems.l1_l1_problem(k=30, n=20, seed=3)                     # its random K, x, y; G changed below
    K, x, y, tau, sigma = p.K, p.x, p.y, p.tau, p.sigma
    F, G = prox.L1(0.2), prox.SquaredL2()
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
    p = problems.l1_l1_problem(k=30, n=20, seed=3)
    s = asymptotics.summability(p.K, p.F, p.G, p.x, p.y, tau=p.tau, sigma=p.sigma, Ls=(300, 600))
    assert s.summable and np.all(s.delta_P_limit == 0) and np.all(s.predicted_slope == 0)
    assert np.isnan(s.slope_rel_error)


def test_masks_reject_functions_without_0_1_derivative():
    K = operators.Matrix(np.eye(2))
    trace = chambolle_pock(K, prox.L1(), prox.SquaredL2(), np.ones(2), tau=0.5, sigma=0.5, L=3)
    with pytest.raises(TypeError, match="0/1 mask"):
        asymptotics.masks(trace)


# --- the masked operator, the rate (4.9), the limit (4.11), kinks and plateaus ------------------

def _solution_masks(p):
    return asymptotics.solution_masks(p.K, p.F, p.G, p.x, p.x_star, p.xi_star, tau=p.tau, sigma=p.sigma)


def test_l1_l1_problem_has_a_unique_nondegenerate_solution(l1_l1):
    """The masked operator K_M at the solution is square and invertible (unique primal and dual solutions,
    section 4D), and the solution sits off the kinks (4.1)."""
    M_P, M_D = _solution_masks(l1_l1)
    B = asymptotics.masked_operator(l1_l1.K, M_P, M_D)
    assert B.shape[0] == B.shape[1] == np.linalg.matrix_rank(B) > 0
    assert np.linalg.svd(B, compute_uv=False).min() > 0.1
    assert l1_l1.solution.converged and l1_l1.name == "random 20 x 10 L1-L1 problem"
    assert asymptotics.kink_margin(l1_l1.K, l1_l1.F, l1_l1.G, l1_l1.x, l1_l1.x_star, l1_l1.xi_star,
                                   tau=l1_l1.tau, sigma=l1_l1.sigma) > 1e-4


@pytest.mark.parametrize("K", [operators.FiniteDifference((3, 4)), operators.Matrix(np.arange(12.0).reshape(4, 3))],
                         ids=["FiniteDifference 2-D", "Matrix"])
def test_masked_operator_acts_as_M_D_K_M_P(K):
    rng = np.random.default_rng(1)
    M_P = rng.random(K.shape_in) < 0.6
    M_D = rng.random(K.shape_out) < 0.6
    u = rng.standard_normal(K.shape_in)
    B = asymptotics.masked_operator(K, M_P, M_D)
    assert B.shape == (M_D.sum(), M_P.sum())
    np.testing.assert_allclose(B @ u[M_P], K.apply(M_P * u)[M_D], atol=1e-14)   # K_M u = M_D K M_P u
    with pytest.raises(ValueError, match="unbatched masks"):
        asymptotics.masked_operator(K, M_P[None], M_D)
    with pytest.raises(ValueError, match="only 0 and 1"):
        asymptotics.masked_operator(K, 2.0 * M_P, M_D)
    with pytest.raises(TypeError, match="operators"):
        asymptotics.masked_operator(np.eye(3), M_P, M_D)


def test_contraction_rate_is_the_spectral_radius_of_the_backward_map(l1_l1):
    """(4.9) against an independent oracle: the eigenvalues of the dense Jacobian J^T of one CP step at the
    solution (the backward step (3.1)-(3.3) that backprop and the implicit gradient use), theta = 1."""
    p = l1_l1
    M_P, M_D = _solution_masks(p)
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


def test_closed_form_limit_is_the_implicit_gradient_and_the_derivative_of_the_solved_loss(l1_l1):
    """(4.11) against GMRES on the adjoint equation (5.5) and against central differences of
    K -> 0.5 ||x*(K) - y||^2 (solved to 1e-13)."""
    p = l1_l1
    M_P, M_D = _solution_masks(p)
    limit = asymptotics.closed_form_limit(p.K, M_P, M_D, p.x_star, p.y)
    ig = implicit_gradient(p.K, p.F, p.G, p.x, p.y, tau=p.tau, sigma=p.sigma, solution=p.solution, tol=1e-12)
    np.testing.assert_allclose(limit.grad_K, ig.grad_K, atol=1e-8 * np.abs(ig.grad_K).max())
    np.testing.assert_allclose(limit.sigma_Delta_D, p.sigma * ig.Delta_D, atol=1e-8)
    assert np.all(limit.sigma_Delta_D[~M_D] == 0)

    def solved_loss(M):
        sol = solve(p.K.with_params(M), p.F, p.G, p.x, tau=p.tau, sigma=p.sigma, tol=1e-13, max_iter=200000)
        return 0.5 * np.sum((sol.x_star - p.y) ** 2)

    E, h = np.random.default_rng(5).standard_normal(p.K.params.shape), 1e-6    # (seed 0 would give E ~ K)
    fd = (solved_loss(p.K.params + h * E) - solved_loss(p.K.params - h * E)) / (2 * h)
    assert np.sum(limit.grad_K * E) == pytest.approx(fd, rel=1e-5)


def test_closed_form_limit_refuses_a_non_unique_solution(tv_l1):
    K, F, G, x, y, tau, sigma, _ = tv_l1
    sol = solve(K, F, G, x, tau=tau, sigma=sigma, tol=1e-10, max_iter=100000)
    M_P, M_D = asymptotics.solution_masks(K, F, G, x, sol.x_star, sol.xi_star, tau=tau, sigma=sigma)
    with pytest.raises(ValueError, match="square invertible"):
        asymptotics.closed_form_limit(K, M_P, M_D, sol.x_star, y)


def test_backward_pass_after_l_o_is_chambolle_pock_with_the_roles_swapped(l1_l1, tv_l1):
    """(4.7): after l_o the adjoints are the iterates of CP on (B^T, F = iota_{0}, G = 0) with data 0 and
    xi^0 = e[M_P] (dual q = delta_P, primal p = delta_D), B the matrix of K_M, to 1e-12."""
    p = l1_l1
    runs = {"L1-L1": (p.K, p.y, p.tau, p.sigma, chambolle_pock(p.K, p.F, p.G, p.x, tau=p.tau, sigma=p.sigma, L=1000))}
    K, F, G, x, y, tau, sigma, trace = tv_l1
    runs["TV-L1"] = (K, y, tau, sigma, trace.prefix(2000))
    for name, (K, y, tau, sigma, trace) in runs.items():
        m = asymptotics.masks(trace)
        res = backprop(trace, y)
        M_P, M_D = m.P[-1], m.D[-1]
        B = asymptotics.masked_operator(K, M_P, M_D)
        t_max = trace.L - m.l_o + 1                                     # backward steps t = L + 1 - l after l_o
        swapped = chambolle_pock(operators.Matrix(B.T), prox.Zero().conjugate(), prox.Zero(), np.zeros(B.shape[0]),
                                 tau=tau, sigma=sigma, theta=1.0, L=t_max, xi0=(trace.x_L - y)[M_P])
        q = np.array([swapped.xi(t) for t in range(1, t_max + 1)])     # q^t = delta_P^{L+1-t} on M_P
        np.testing.assert_allclose(q, res.delta_P[::-1][:t_max][:, M_P], rtol=0, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(swapped.x_all[1:], res.delta_D[::-1][:t_max][:, M_D], rtol=0, atol=1e-12,
                                   err_msg=name)                        # p^t = delta_D^{L+1-t} on M_D
        assert np.all(res.delta_P[m.l_o - 1:][:, ~M_P] == 0) and t_max > 500


def test_kink_margin_is_the_distance_at_which_a_mask_first_changes(l1_l1):
    """Oracle: the masks (4.1) themselves. Shifting every argument by less than the margin changes no mask;
    shifting by a bit more changes one. G given as the conjugate of a box takes the Conjugate path."""
    p = l1_l1
    margin = asymptotics.kink_margin(p.K, p.F, p.G, p.x, p.x_star, p.xi_star, tau=p.tau, sigma=p.sigma)
    v_P = p.x_star - p.tau * p.K.adjoint(p.xi_star) - p.x
    z_D = p.xi_star + p.sigma * p.K.apply(p.x_star)
    F_conj = p.F.conjugate()

    def changed(shift):
        return (np.any(p.G.mask(v_P + shift, p.tau) != p.G.mask(v_P, p.tau))
                or np.any(F_conj.mask(z_D + shift, p.sigma) != F_conj.mask(z_D, p.sigma)))

    assert 0 < margin < np.inf
    assert not changed(0.99 * margin) and not changed(-0.99 * margin)
    assert changed(1.01 * margin) or changed(-1.01 * margin)
    G_conj_box = prox.Box(-p.G.weight, p.G.weight).conjugate()          # alpha ||.||_1 via Moreau (2.6)
    assert asymptotics.kink_margin(p.K, p.F, G_conj_box, p.x, p.x_star, p.xi_star, tau=p.tau,
                                   sigma=p.sigma) == pytest.approx(margin, rel=1e-12)
    with pytest.raises(TypeError, match="0/1 mask"):
        asymptotics.kink_margin(p.K, p.F, prox.SquaredL2(), p.x, p.x_star, p.xi_star, tau=p.tau, sigma=p.sigma)


def test_plateaus_of_a_hand_made_signal():
    x_star = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, -1.0])
    x = np.array([0.5, -0.5, 0.1, 1.0, 3.0, 2.5, 1.0, 2.2, 1.9, 0.0])   # pixel 3 equals its data
    p = asymptotics.plateaus(x_star + 1e-9, x + 1e-9)                     # below tol: still plateaus
    assert p.bounds == ((0, 3), (3, 5), (5, 9), (9, 10))
    assert p.free.tolist() == [True, False, True, True]
    assert p.free_pixels.tolist() == [True] * 3 + [False] * 2 + [True] * 5
    assert asymptotics.plateaus(np.ones(4), np.ones(4)).bounds == ((0, 4),)
    with pytest.raises(ValueError, match="1-D"):
        asymptotics.plateaus(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="shape"):
        asymptotics.plateaus(x_star, x[:-1])


def test_tv_l1_limit_lives_on_the_free_plateaus(tv_l1):
    """Section 4C: the limit (4.3) is supported on the plateaus with no pixel equal to the data, where it is
    the plateau's mean of e*; one kernel dimension per free plateau."""
    K, F, G, x, y, tau, sigma, _ = tv_l1
    sol = solve(K, F, G, x, tau=tau, sigma=sigma, tol=1e-10, max_iter=100000)
    pl = asymptotics.plateaus(sol.x_star, x)
    M_P, M_D = asymptotics.solution_masks(K, F, G, x, sol.x_star, sol.xi_star, tau=tau, sigma=sigma)
    limit = asymptotics.projection_limit(K, M_P, M_D, sol.x_star - y)
    expected = np.concatenate([np.full(b - a, np.mean((sol.x_star - y)[a:b]) if free else 0.0)
                               for (a, b), free in zip(pl.bounds, pl.free)])
    np.testing.assert_allclose(limit, expected, atol=1e-10)
    B = asymptotics.masked_operator(K, M_P, M_D)
    assert B.shape[1] - np.linalg.matrix_rank(B) == pl.free.sum() > 0
