import numpy as np
import pytest

from cpteach import images, learning, operators
from cpteach.chambolle_pock import chambolle_pock
from cpteach.denoising import constrained_model, denoise, step_sizes
from cpteach.fixed_point import fixed_point_closed_form


# --- Adam ---------------------------------------------------------------------------------

@pytest.mark.parametrize("learning_rate", [1e-3, 0.5])
def test_adam_with_a_constant_gradient_steps_by_the_learning_rate(learning_rate):
    # closed form: for a constant g the bias corrections are exact, m_hat = g and v_hat = g^2 at
    # every step, so every update is -learning_rate * g / (|g| + eps)
    g = np.array([[3.0, -0.25], [1e-3, -40.0]])
    state = learning.adam_init(np.zeros_like(g))
    for t in range(1, 6):
        update, state = learning.adam_update(g, state, learning_rate)
        np.testing.assert_allclose(update, -learning_rate * g / (np.abs(g) + 1e-8), rtol=1e-12)
        assert state.step == t
    with pytest.raises(AttributeError):
        state.step = 0                                    # a frozen state


def test_adam_second_step_from_hand_computed_moments():
    g1, g2 = np.array([2.0]), np.array([-0.5])
    _, state = learning.adam_update(g1, learning.adam_init(g1), 0.1, beta1=0.5, beta2=0.75, eps=0.0)
    update, state = learning.adam_update(g2, state, 0.1, beta1=0.5, beta2=0.75, eps=0.0)
    # m1 = 0.5 * 2 = 1, v1 = 0.25 * 4 = 1; m2 = 0.5 * 1 + 0.5 * (-0.5), v2 = 0.75 * 1 + 0.25 * 0.25
    assert state.m[0] == pytest.approx(0.25) and state.v[0] == pytest.approx(0.8125)
    m_hat, v_hat = 0.25 / (1 - 0.5 ** 2), 0.8125 / (1 - 0.75 ** 2)
    assert update[0] == pytest.approx(-0.1 * m_hat / np.sqrt(v_hat))


# --- the gradient registry ---------------------------------------------------------------

@pytest.fixture
def tiny_patch():
    y = images.training_patches(1, 10, seed=3)[0]
    x = images.add_noise(y, 0.1, seed=4)
    w = learning.normalize_filters(images.dct_filters(3), (10, 10))
    K = operators.FilterBank(w, (10, 10))
    F, G = constrained_model(0.09, x.shape)
    tau, sigma = step_sizes(K)
    return y, x, w, K, F, G, tau, sigma


def test_registry_names_the_three_methods():
    assert tuple(learning.GRADIENT_METHODS) == ("fixed_point", "unrolled", "implicit")
    with pytest.raises(ValueError, match="fixed_point"):
        learning.train_filters(np.zeros((1, 4, 4)), np.zeros((1, 4, 4)), 0.1, method="newton", progress=False)


def _direction(w):
    d = np.random.default_rng(0).standard_normal(w.shape)
    return d / np.linalg.norm(d)


def test_unrolled_gradient_matches_finite_differences_of_the_unrolled_loss(tiny_patch):
    y, x, w, K, F, G, tau, sigma = tiny_patch
    L = 15
    res = learning.GRADIENT_METHODS["unrolled"](K, F, G, x, y, tau=tau, sigma=sigma, L=L, tol=None, x0=None, xi0=None)
    d, h = _direction(w), 1e-6

    def loss(filters):
        x_L = chambolle_pock(K.with_params(filters), F, G, x, tau=tau, sigma=sigma, L=L).x_L
        return 0.5 * np.sum((x_L - y) ** 2)

    assert res.loss == pytest.approx(loss(w), rel=1e-12)
    fd = (loss(w + h * d) - loss(w - h * d)) / (2 * h)
    assert np.sum(res.grad_K * d) == pytest.approx(fd, rel=1e-5)


def test_fixed_point_gradient_is_the_closed_form_at_the_solution(tiny_patch):
    y, x, w, K, F, G, tau, sigma = tiny_patch
    res = learning.GRADIENT_METHODS["fixed_point"](K, F, G, x, y, tau=tau, sigma=sigma, L=20000, tol=1e-12,
                                                   x0=None, xi0=None)
    closed = fixed_point_closed_form(K, F, G, x, y, res.x_L, res.xi_L, tau=tau, sigma=sigma)   # (5.1)-(5.3)
    np.testing.assert_allclose(res.grad_K, closed.grad_K, rtol=1e-6, atol=1e-9 * np.abs(closed.grad_K).max())


# --- training -----------------------------------------------------------------------------

def _true_loss(y, x, filters, s):
    y_hat = denoise(x, filters, s, L=20000, tol=1e-12).y_hat
    return 0.5 * np.sum((y_hat - y) ** 2) / len(y)


@pytest.mark.parametrize("method, L", [("unrolled", 1000), ("implicit", 3000)])
def test_one_training_step_lowers_the_training_loss(method, L):
    # L large enough for the gradient to be that of the solution (with L = 150 the inner solve is
    # still far from it and Adam's first, sign-like step can even cancel in the projection)
    # (patches with structure: on a flat patch the solution is constant and the gradient 0)
    y = images.training_patches(2, 16, seed=3)
    x = images.add_noise(y, 0.1, seed=4)
    w0 = learning.normalize_filters(images.dct_filters(3), (16, 16))
    run = learning.train_filters(y, x, 0.09, w0, method=method, steps=1, L=L, learning_rate=2e-3,
                                 tol=1e-10, progress=False)
    assert np.max(np.abs(run.filters - w0)) > 1e-3                                  # a real step
    assert _true_loss(y, x, run.filters, 0.09) < _true_loss(y, x, w0, 0.09) - 1e-5
    np.testing.assert_allclose(run.filters.mean(axis=(1, 2)), 0, atol=1e-12)      # zero mean kept
    assert operators.FilterBank(run.filters, (16, 16)).norm() == pytest.approx(1.0)  # ||K|| = 1 kept


@pytest.mark.parametrize("method", ["unrolled", "fixed_point"])
def test_training_in_two_processes_gives_the_same_filters(method):
    y = images.training_patches(3, 12, seed=3)
    x = images.add_noise(y, 0.1, seed=4)
    runs = [learning.train_filters(y, x, 0.09, images.dct_filters(3), method=method, steps=2, L=20,
                                   progress=False, workers=workers) for workers in (1, 2)]
    assert not np.array_equal(runs[0].filters, learning.normalize_filters(images.dct_filters(3), (12, 12)))
    np.testing.assert_array_equal(runs[0].filters, runs[1].filters)     # the same sums in the same order
    np.testing.assert_array_equal(runs[0].loss, runs[1].loss)


def test_bad_training_arguments_get_clear_errors():
    x = images.add_noise(images.training_patches(2, 8), 0.1)
    w = images.dct_filters(3)
    with pytest.raises(ValueError, match="same shape"):
        learning.train_filters(x, x[:1], 0.1, w, progress=False)
    with pytest.raises(ValueError, match="workers"):
        learning.train_filters(x, x, 0.1, w, progress=False, workers=0)
    with pytest.raises(TypeError, match="steps"):
        learning.train_filters(x, x, 0.1, w, progress=False, steps=2.5)
    with pytest.raises(ValueError, match="learning_rate"):
        learning.train_filters(x, x, 0.1, w, progress=False, learning_rate=-1.0)
