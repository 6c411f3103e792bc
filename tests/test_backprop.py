"""grad_K of the unrolled loss against central finite differences, for every (F, G) pair, and backprop
against a plain per-step transcription of the recursion (3.0)-(3.4)."""
import dataclasses
import zlib

import numpy as np
import pytest

from cpteach import backprop, chambolle_pock, default_steps, problems, prox
from cpteach.backprop import _backprop, _runs
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


# ---- backprop against a plain per-step loop written here from docs/theory.md (3.0)-(3.4) ----

def reference_backprop(trace, y):
    """grad_K, delta_P, delta_D by the recursion (3.0)-(3.4) written out step by step with prox_vjp."""
    K, x, tau, sigma, theta = trace.K, trace.data, trace.tau, trace.sigma, trace.theta
    F_conj = trace.F.conjugate()
    delta_P_next = trace.x_L - y                                                  # (3.0) delta_P^{L+1}
    delta_D_next = delta_D_next2 = np.zeros_like(trace.xi0)                       # (3.0) delta_D^{L+1}, ^{L+2}
    grad = np.zeros_like(K.params, dtype=float)
    delta_P_all, delta_D_all = [], []
    for l in range(trace.L, 0, -1):
        delta_D_bar = delta_D_next + theta * (delta_D_next - delta_D_next2)                          # (3.1)
        delta_P = trace.G.prox_vjp(trace.z_P(l) - x, tau, delta_P_next + sigma * K.adjoint(delta_D_bar))  # (3.2)
        delta_D = F_conj.prox_vjp(trace.z_D(l), sigma, delta_D_next - tau * K.apply(delta_P))           # (3.3)
        grad += sigma * K.param_grad(delta_D, trace.x_bar(l - 1)) - tau * K.param_grad(trace.xi(l), delta_P)  # (3.4)
        delta_P_all.insert(0, delta_P)
        delta_D_all.insert(0, delta_D)
        delta_P_next, delta_D_next, delta_D_next2 = delta_P, delta_D, delta_D_next
    return grad, np.array(delta_P_all), np.array(delta_D_all)


@pytest.mark.parametrize("name, taken", [("tv", True), ("tv_l1", True), ("l1_l1", True), ("elastic", True),
                                         ("ball", False), ("ball_dual", False)])
def test_transition_matrices_run_where_the_masks_settle(name, taken):
    """The problems whose backward pass the transition matrices take, so that the test above checks them:
    entrywise derivatives that stay equal over runs of steps (the 0/1 masks of L1 and of a box settle after a
    few dozen changes); a ball's derivative is not entrywise. The runs cover l = 1..L in order."""
    p = PROBLEMS[name]()
    trace = chambolle_pock(p.K, p.F, p.G, p.x, tau=p.tau, sigma=p.sigma, theta=1.0, L=300)
    found = _runs(trace, 10**9)
    assert (found is not None) == taken
    if taken:
        runs = found[2]
        assert runs[0][0] == 0 and runs[-1][1] == 300 and all(a[1] == b[0] for a, b in zip(runs, runs[1:]))
        assert 2 <= len(runs) <= 300 / 4


def _elastic_tv():
    p = problems.tv_denoising_1d(n=40, beta=0.1, dense=True)
    return dataclasses.replace(p, G=prox.ElasticL1(alpha=0.1, eps=0.3), name="TV with ElasticL1 data term")


PROBLEMS = {
    "tv": lambda: problems.tv_denoising_1d(n=40, dense=True),
    "tv_l1": lambda: problems.tv_l1_denoising_1d(n=48, beta=1.0, alpha=0.5),
    "ball": lambda: problems.ball_problem(),
    "l1_l1": lambda: problems.l1_l1_problem(),
    "elastic": _elastic_tv,
    "ball_dual": lambda: dataclasses.replace(problems.ball_problem(), F=prox.L2Ball(2.0), name="ball as F"),
}


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_backprop_of_no_steps_is_zero(name):
    """L = 0: x^0 does not depend on K, so grad_K = 0, with empty stacks of adjoints."""
    p = PROBLEMS[name]()
    trace = chambolle_pock(p.K, p.F, p.G, p.x, tau=p.tau, sigma=p.sigma, L=0)
    res = backprop(trace, p.y)
    assert not np.any(res.grad_K) and res.grad_K.shape == p.K.params.shape
    assert res.delta_P.shape == (0,) + p.x.shape and res.loss == pytest.approx(0.5 * np.sum((trace.x(0) - p.y) ** 2))


@pytest.mark.parametrize("batch", [False, True])
@pytest.mark.parametrize("theta", [0.5, 1.0])
@pytest.mark.parametrize("name", list(PROBLEMS))
def test_backprop_equals_the_per_step_recursion(name, theta, batch):
    """backprop against the plain loop above, to 1e-12 relative in norm (the two sum in different orders): by
    transition matrices where the problem is small and its derivatives entrywise (one matrix per run of equal
    masks), and step by step with blocks of one step, of 97 steps (three and a shorter last one) and one block
    for all."""
    p = PROBLEMS[name]()
    x, y = p.x, p.y
    if batch:     # three data sets at once (leading axis)
        noise = np.random.default_rng(8).standard_normal((2,) + x.shape)
        x, y = np.concatenate([x[None], x + 0.2 * noise]), np.stack([y] * 3)
    trace = chambolle_pock(p.K, p.F, p.G, x, tau=p.tau, sigma=p.sigma, theta=theta, L=300)
    reference = reference_backprop(trace, y)
    norms = [np.linalg.norm(r) for r in reference]
    assert min(norms) > 0                                          # grad_K, delta_P, delta_D all take part
    # delta_D^l (3.3) is a difference of terms of the size tau ||K|| ||delta_P^l||, which may nearly cancel
    # (TV with a smooth data term: ||delta_D|| ~ 1e-9 ||delta_P||): its error is relative to that size
    norms[2] += p.tau * p.K.norm() * norms[1]
    step_entries = trace.data.size + trace.xi0.size
    by_steps = [_backprop(trace, y, block_entries=b, transition_entries=0) for b in (1, 97 * step_entries, 10**9)]
    for res in [backprop(trace, y), _backprop(trace, y, transition_entries=10**9)] + by_steps:
        for value, expected, norm in zip((res.grad_K, res.delta_P, res.delta_D), reference, norms):
            assert value.shape == expected.shape
            assert np.linalg.norm(value - expected) <= 1e-12 * norm
