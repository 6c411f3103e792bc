"""The sympy derivation of notebook 02 against an independent numeric oracle."""
import dataclasses

import numpy as np
import pytest
import sympy as sp

from cpteach import backprop, chambolle_pock, operators, prox, symbolic


@pytest.mark.parametrize("L, n, k", [(1, 1, 1), (3, 1, 1), (2, 2, 1), (2, 1, 2)])
def test_hand_recursion_equals_sympy_chain_rule(L, n, k):
    assert symbolic.check_backprop_formula(L, n, k)


def test_check_detects_a_wrong_recursion():
    # dropping the extrapolation theta in the hand formula must leave a non-zero difference
    u = symbolic.unroll(L=2, n=1, k=1)
    wrong = dataclasses.replace(u, theta=sp.Integer(0))
    difference = (symbolic.autodiff_gradient(u) - symbolic.hand_gradient(wrong)).applyfunc(sp.expand)
    assert not difference.is_zero_matrix


def test_sympy_gradient_matches_numeric_backprop():
    # concrete prox maps: G = 0.5*w_G*||.||^2 -> v/(1 + tau*w_G); F = 0.5*w_F*||.||^2 -> F* prox v/(1 + sigma/w_F)
    rng = np.random.default_rng(0)
    L, n, k, w_G, w_F = 2, 2, 2, 0.7, 1.3
    tau, sigma, theta = 0.4, 0.3, 0.6
    M = rng.standard_normal((k, n))
    x, y = rng.standard_normal((2, n))
    u = symbolic.unroll(L, n, k)
    t = sp.Symbol("t")
    concrete = {u.prox_G: sp.Lambda(t, t / (1 + u.tau * w_G)), u.prox_F_conj: sp.Lambda(t, t / (1 + u.sigma / w_F)),
                u.prox_G_prime: sp.Lambda(t, 1 / (1 + u.tau * w_G)),
                u.prox_F_conj_prime: sp.Lambda(t, 1 / (1 + u.sigma / w_F))}
    values = {u.tau: tau, u.sigma: sigma, u.theta: theta}
    values.update({u.K[i, j]: M[i, j] for i in range(k) for j in range(n)})
    values.update({u.data[i]: x[i] for i in range(n)})
    values.update({u.y[i]: y[i] for i in range(n)})
    symbolic_grad = symbolic.autodiff_gradient(u)
    for function, replacement in concrete.items():
        symbolic_grad = symbolic_grad.replace(function, replacement)
    symbolic_grad = symbolic_grad.subs(values)
    symbolic_grad = np.array(symbolic_grad.evalf(), dtype=float)
    trace = chambolle_pock(operators.Matrix(M), prox.SquaredL2(w_F), prox.SquaredL2(w_G), x,
                           tau=tau, sigma=sigma, theta=theta, L=L)
    np.testing.assert_allclose(symbolic_grad, backprop(trace, y).grad_K, rtol=1e-10, atol=1e-12)


def test_one_step_jacobian_has_chain_rule_entries():
    J, inputs, outputs = symbolic.one_step_jacobian()
    x_l, x_bar, xi = inputs
    # xi^{l+1} = p_F(xi + sigma K x_bar) does not depend on x^l
    assert J[1, 0] == 0
    # d x^{l+1}/d x_bar^l = d x^{l+1}/d xi^l * sigma K  (x_bar enters only through z_D)
    K, sigma = sp.Symbol("K"), sp.Symbol("sigma", positive=True)
    assert sp.simplify(J[0, 1] - J[0, 2] * sigma * K) == 0


def test_unroll_rejects_bad_sizes():
    with pytest.raises(ValueError, match=r"L \(keep it small: 1-3\) must be an integer >= 1"):
        symbolic.unroll(L=0)
