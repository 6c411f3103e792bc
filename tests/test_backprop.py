"""grad_K of the unrolled loss against central finite differences, for every (F, G) pair."""
import zlib

import numpy as np
import pytest

from cpteach import backprop, chambolle_pock, default_steps, prox
from conftest import PROX_FUNCTIONS, small_operator


def unrolled_loss(K, F, G, x, y, tau, sigma, theta, L):
    trace = chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=theta, L=L)
    return 0.5 * np.sum((trace.x_L - y) ** 2)


@pytest.mark.parametrize("theta", [0.5, 1.0])
@pytest.mark.parametrize("kind", ["Matrix", "FilterBank"])
@pytest.mark.parametrize("G_name", list(PROX_FUNCTIONS))
@pytest.mark.parametrize("F_name", list(PROX_FUNCTIONS))
def test_grad_K_against_finite_differences(F_name, G_name, kind, theta):
    rng = np.random.default_rng(zlib.crc32(f"{F_name}-{G_name}-{kind}-{theta}".encode()))
    K = small_operator(kind, rng)
    F, G = PROX_FUNCTIONS[F_name](), PROX_FUNCTIONS[G_name]()
    x = rng.standard_normal(K.shape_in)
    y = rng.standard_normal(K.shape_in)
    tau, sigma = default_steps(K, safety=0.8)
    L = 6
    res = backprop(chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=theta, L=L), y)
    assert res.grad_K.shape == K.params.shape
    assert res.loss == pytest.approx(unrolled_loss(K, F, G, x, y, tau, sigma, theta, L))
    eps = 1e-6
    for _ in range(2):
        d = rng.standard_normal(K.params.shape)
        plus = unrolled_loss(K.with_params(K.params + eps * d), F, G, x, y, tau, sigma, theta, L)
        minus = unrolled_loss(K.with_params(K.params - eps * d), F, G, x, y, tau, sigma, theta, L)
        fd = (plus - minus) / (2 * eps)
        analytic = np.sum(res.grad_K * d)
        # central differences lose about 1e-16 * loss / eps to rounding (a zero gradient reads ~1e-9)
        assert abs(analytic - fd) <= 1e-6 * abs(fd) + 1e-9 * max(1.0, res.loss), (analytic, fd)


def test_gradient_is_nonzero_on_a_generic_problem():
    """Guards the test above against a trivially zero gradient."""
    rng = np.random.default_rng(0)
    K = small_operator("FilterBank", rng)
    x, y = rng.standard_normal(K.shape_in), rng.standard_normal(K.shape_in)
    tau, sigma = default_steps(K)
    res = backprop(chambolle_pock(K, prox.L1(0.3), prox.L2Ball(0.9), x, tau=tau, sigma=sigma, L=10), y)
    assert np.linalg.norm(res.grad_K) > 1e-3


def test_deltas_are_adjoints_of_pre_prox_variables():
    """delta_P^l is d loss / d z_P^l: perturb z_P^l by restarting the iteration from it."""
    rng = np.random.default_rng(1)
    K = small_operator("Matrix", rng)
    F, G = prox.SquaredL2(0.5), prox.SquaredL2(2.0)   # smooth, so no kinks
    x, y = rng.standard_normal(5), rng.standard_normal(5)
    tau, sigma = default_steps(K)
    L, l = 6, 3
    trace = chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, L=L)
    res = backprop(trace, y)

    def loss_from(z_P):
        # continue (2.4), (2.5) and the remaining steps from a perturbed z_P^l
        x_l = G.prox(z_P - x, tau) + x
        x_bar = x_l + (x_l - trace.x(l - 1))
        xi, x_cur = trace.xi(l), x_l
        for _ in range(l, L):
            xi = F.conjugate().prox(xi + sigma * K.apply(x_bar), sigma)
            x_new = G.prox(x_cur - tau * K.adjoint(xi) - x, tau) + x
            x_bar, x_cur = 2 * x_new - x_cur, x_new
        return 0.5 * np.sum((x_cur - y) ** 2)

    d, eps = rng.standard_normal(5), 1e-6
    fd = (loss_from(trace.z_P(l) + eps * d) - loss_from(trace.z_P(l) - eps * d)) / (2 * eps)
    assert np.sum(res.delta_P[l - 1] * d) == pytest.approx(fd, rel=1e-7)


def test_backprop_bad_input():
    rng = np.random.default_rng(2)
    K = small_operator("Matrix", rng)
    tau, sigma = default_steps(K)
    trace = chambolle_pock(K, prox.L1(), prox.Zero(), rng.standard_normal(5), tau=tau, sigma=sigma, L=2)
    with pytest.raises(ValueError, match="must match"):
        backprop(trace, np.ones(4))
    with pytest.raises(ValueError, match="NaN"):
        backprop(trace, np.full(5, np.inf))
    with pytest.raises(TypeError, match="CPTrace"):
        backprop("trace", np.ones(5))
