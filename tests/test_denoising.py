import numpy as np
import pytest

from cpteach import denoising, images, operators
from cpteach.chambolle_pock import Solution


@pytest.fixture
def noisy_pair():
    y = images.held_out_images(32)[:2, 4:28, 4:28]   # two 24x24 images
    return y, images.add_noise(y, 0.1, seed=5)


@pytest.mark.parametrize("kind", ["TV", "filters"])
def test_denoise_is_feasible_and_optimal(noisy_pair, kind):
    y, x = noisy_pair
    K = operators.FiniteDifference((24, 24)) if kind == "TV" else images.dct_filters(3)
    s = 0.09
    res = denoising.denoise(x, K, s, L=3000, tol=1e-9)
    norms = np.linalg.norm((res.y_hat - x).reshape(2, -1), axis=1)
    assert np.all(norms <= s * 24 * (1 + 1e-9))                  # the constraint of (6.1), per image
    assert np.allclose(norms, s * 24, rtol=1e-6)                   # active: the noise exceeds the ball
    assert 0 <= res.relative_gap < 1e-4                            # primal-dual gap (2.7); 1 at the start
    assert np.all(np.abs(res.xi) <= 1 + 1e-12)                     # dual feasibility for F = ||.||_1
    assert isinstance(res.solution, Solution) and res.solution.iterations <= 3000
    assert res.y_hat is res.solution.x_star and res.xi is res.solution.xi_star


def test_denoise_batch_solves_each_image_separately(noisy_pair):
    _, x = noisy_pair
    w = images.dct_filters(3)
    batch = denoising.denoise(x, w, 0.09, L=3000, tol=1e-10).y_hat
    single = denoising.denoise(x[1], w, 0.09, L=3000, tol=1e-10).y_hat
    np.testing.assert_allclose(batch[1], single, atol=1e-5)


def test_denoise_is_invariant_to_scaling_the_filters(noisy_pair):
    _, x = noisy_pair
    w = images.dct_filters(3)
    a = denoising.denoise(x, w, 0.09, L=3000, tol=1e-10).y_hat
    b = denoising.denoise(x, 5.0 * w, 0.09, L=3000, tol=1e-10).y_hat
    np.testing.assert_allclose(a, b, atol=1e-5)


def _psnr_bounds(y, x, radius):
    """PSNR interval of any u with ||u - x|| <= radius (triangle inequality), data range 1."""
    error, n = np.linalg.norm(x - y), y.size
    return 10 * np.log10(n / (error + radius) ** 2), 10 * np.log10(n / max(error - radius, 1e-300) ** 2)


@pytest.mark.parametrize("truth", ["flat", "checkerboard"])
def test_best_noise_level_against_closed_forms(truth):
    # Two grid points whose solutions of (6.1) are known in closed form for TV (K u = 0 only for
    # constant u): s -> 0 keeps y_hat within s*n of x, and s just above ||x - mean(x)|| / n admits
    # (essentially) only the constant mean(x). A flat truth is recovered by the constant, a
    # high-contrast checkerboard with little noise by keeping x.
    n = 16
    if truth == "flat":
        y, noise_std = np.full((1, n, n), 0.5), 0.1
    else:
        y, noise_std = (np.indices((n, n)).sum(axis=0) % 2 * 0.8 + 0.1)[None], 0.01
    x = images.add_noise(y, noise_std, seed=3)
    s_tiny, s_constant = 1e-4, np.linalg.norm(x - x.mean()) / n * (1 + 1e-6)
    s, psnrs = denoising.best_noise_level(y, x, operators.FiniteDifference((n, n)), grid=(s_tiny, s_constant),
                                          L=1000)
    low, high = _psnr_bounds(y[0], x[0], s_tiny * n)
    assert low <= psnrs[0] <= high
    constant = 10 * np.log10(1 / np.mean((y - x.mean()) ** 2))
    assert psnrs[1] == pytest.approx(constant, abs=1e-3)
    assert s == (s_constant if truth == "flat" else s_tiny)


def test_bad_input_gets_clear_errors(noisy_pair):
    y, x = noisy_pair
    w = images.dct_filters(3)
    with pytest.raises(TypeError, match="img_as_float"):
        denoising.denoise((x * 255).astype(np.uint8), w, 0.1)
    with pytest.raises(ValueError, match="shape"):
        denoising.denoise(x[None, None], w, 0.1)
    with pytest.raises(ValueError, match="noise_level"):
        denoising.denoise(x, w, -0.1)
    with pytest.raises(TypeError, match="noise_level"):
        denoising.denoise(x, w, "0.1")
    with pytest.raises(ValueError, match="odd"):
        denoising.denoise(x, np.ones((4, 6, 6)), 0.1)
    with pytest.raises(ValueError, match="shape"):
        denoising.denoise(x, operators.FiniteDifference((10, 10)), 0.1)
    with pytest.raises(TypeError, match="filters_or_operator"):
        denoising.denoise(x, "tv", 0.1)
    with pytest.raises(ValueError, match="grid"):
        denoising.best_noise_level(y, x, w, grid=())
    with pytest.raises(ValueError, match="same shape"):
        denoising.best_noise_level(y, x[:1], w, grid=(0.1,))
