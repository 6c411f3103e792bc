"""cpteach.asymptotics.masked (docs/theory.md, 4D: the masked operator K_M = M_D K M_P and the role swap (4.7))."""
import numpy as np
import pytest

from cpteach import asymptotics, backprop, chambolle_pock, operators, prox
from conftest import solution_masks_of


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


def test_l1_l1_problem_has_a_unique_nondegenerate_solution(l1_l1):
    """The masked operator K_M at the solution is square and invertible (unique primal and dual solutions,
    section 4D), and the solution sits off the kinks (4.1)."""
    M_P, M_D = solution_masks_of(l1_l1)
    B = asymptotics.masked_operator(l1_l1.K, M_P, M_D)
    assert B.shape[0] == B.shape[1] == np.linalg.matrix_rank(B) > 0
    assert np.linalg.svd(B, compute_uv=False).min() > 0.1
    assert l1_l1.solution.converged and l1_l1.name == "random 20 x 10 L1-L1 problem"
    assert asymptotics.kink_margin(l1_l1.K, l1_l1.F, l1_l1.G, l1_l1.x, l1_l1.x_star, l1_l1.xi_star,
                                   tau=l1_l1.tau, sigma=l1_l1.sigma) > 1e-4


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
        M_P, M_D = m.M_P[-1], m.M_D[-1]
        B = asymptotics.masked_operator(K, M_P, M_D)
        t_max = trace.L - m.l_o + 1                                     # backward steps t = L + 1 - l after l_o
        swapped = chambolle_pock(operators.Matrix(B.T), prox.Zero().conjugate(), prox.Zero(), np.zeros(B.shape[0]),
                                 tau=tau, sigma=sigma, theta=1.0, L=t_max, xi0=(trace.x_L - y)[M_P])
        q = np.array([swapped.xi(t) for t in range(1, t_max + 1)])     # q^t = delta_P^{L+1-t} on M_P
        np.testing.assert_allclose(q, res.delta_P[::-1][:t_max][:, M_P], rtol=0, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(swapped.x_all[1:], res.delta_D[::-1][:t_max][:, M_D], rtol=0, atol=1e-12,
                                   err_msg=name)                        # p^t = delta_D^{L+1-t} on M_D
        assert np.all(res.delta_P[m.l_o - 1:][:, ~M_P] == 0) and t_max > 500
