import numpy as np
import pytest

from cpteach import images, learning, operators


@pytest.fixture
def noisy_pair():
    y = images.held_out_images(32)[:2, 4:28, 4:28]   # two 24x24 images
    return y, images.add_noise(y, 0.1, seed=5)


@pytest.mark.parametrize("kind", ["TV", "filters"])
def test_denoise_is_feasible_and_optimal(noisy_pair, kind):
    y, x = noisy_pair
    K = operators.FiniteDifference((24, 24)) if kind == "TV" else images.dct_filters(3)
    s = 0.09
    res = learning.denoise(x, K, s, L=3000, tol=1e-9)
    norms = np.linalg.norm((res.y_hat - x).reshape(2, -1), axis=1)
    assert np.all(norms <= s * 24 * (1 + 1e-9))                  # the constraint of (6.1), per image
    assert np.allclose(norms, s * 24, rtol=1e-6)                   # active: the noise exceeds the ball
    assert 0 <= res.relative_gap < 1e-4                            # primal-dual gap (2.7); 1 at the start
    assert np.all(np.abs(res.xi) <= 1 + 1e-12)                     # dual feasibility for F = ||.||_1


def test_denoise_batch_solves_each_image_separately(noisy_pair):
    _, x = noisy_pair
    w = images.dct_filters(3)
    batch = learning.denoise(x, w, 0.09, L=3000, tol=1e-10).y_hat
    single = learning.denoise(x[1], w, 0.09, L=3000, tol=1e-10).y_hat
    np.testing.assert_allclose(batch[1], single, atol=1e-5)


def test_denoise_is_invariant_to_scaling_the_filters(noisy_pair):
    _, x = noisy_pair
    w = images.dct_filters(3)
    a = learning.denoise(x, w, 0.09, L=3000, tol=1e-10).y_hat
    b = learning.denoise(x, 5.0 * w, 0.09, L=3000, tol=1e-10).y_hat
    np.testing.assert_allclose(a, b, atol=1e-5)


def _true_loss(y, x, filters, s):
    y_hat = learning.denoise(x, filters, s, L=20000, tol=1e-12).y_hat
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


def test_pretrained_filters_load_without_pickle():
    path = learning._shipped_path()
    with np.load(path, allow_pickle=False) as data:
        assert all(data[name].dtype != object for name in data.files)
    w = learning.pretrained_filters()
    assert w.shape == (48, 7, 7)
    np.testing.assert_allclose(w.mean(axis=(1, 2)), 0, atol=1e-12)
    run = learning.load_shipped_run()
    assert len(run.psnr_learned) == len(run.test_names) == len(images.TEST_IMAGES)
    assert {run.s_tv, run.s_dct, run.s_learned, run.noise_level} <= set(learning.S_GRID)   # s from the grid


def test_best_noise_level_picks_the_grid_point_with_the_best_psnr(noisy_pair):
    y, x = noisy_pair
    tv = operators.FiniteDifference((24, 24))
    grid = (0.02, 0.09, 0.3)              # far too small, about right, far too large for noise 0.1
    s, psnrs = learning.best_noise_level(y, x, tv, grid=grid, L=200)
    expected = [np.mean(images.psnr(y, learning.denoise(x, tv, r, L=200).y_hat)) for r in grid]
    np.testing.assert_allclose(psnrs, expected)
    assert s == 0.09 and psnrs[1] == psnrs.max()


def test_bad_input_gets_clear_errors(noisy_pair):
    _, x = noisy_pair
    w = images.dct_filters(3)
    with pytest.raises(TypeError, match="img_as_float"):
        learning.denoise((x * 255).astype(np.uint8), w, 0.1)
    with pytest.raises(ValueError, match="shape"):
        learning.denoise(x[None, None], w, 0.1)
    with pytest.raises(ValueError, match="noise_level"):
        learning.denoise(x, w, -0.1)
    with pytest.raises(ValueError, match="odd"):
        learning.denoise(x, np.ones((4, 6, 6)), 0.1)
    with pytest.raises(ValueError, match="shape"):
        learning.denoise(x, operators.FiniteDifference((10, 10)), 0.1)
    with pytest.raises(ValueError, match="method"):
        learning.train_filters(x, x, 0.1, w, method="newton", progress=False)
    with pytest.raises(ValueError, match="same shape"):
        learning.train_filters(x, x[:1], 0.1, w, progress=False)
    with pytest.raises(ValueError, match="workers"):
        learning.train_filters(x, x, 0.1, w, progress=False, workers=0)


def test_ball_projection_checker_distinguishes_answers():
    from cpteach.exercises import ball_projection

    def right(v, x, radius):
        d = v - x
        return x + d * min(1.0, radius / np.linalg.norm(d))

    def no_shift(v, x, radius):
        return v * min(1.0, radius / np.linalg.norm(v))

    def stub(v, x, radius):
        raise NotImplementedError

    assert ball_projection.check(right)
    result = ball_projection.check(no_shift)
    assert result.status == "incorrect" and "centred" in result.message
    assert ball_projection.check(stub).status == "not attempted"
