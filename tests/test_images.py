import numpy as np
import pytest
from skimage.metrics import mean_squared_error

from cpteach import images


def test_split_is_disjoint_and_images_lie_in_unit_interval():
    assert not set(images.TRAINING_IMAGES) & set(images.TEST_IMAGES)
    for name in images.TRAINING_IMAGES + images.TEST_IMAGES:
        image = images.load_image(name)
        assert image.ndim == 2 and image.dtype == np.float64
        assert 0.0 <= image.min() and image.max() <= 1.0


def test_training_patches_are_crops_of_training_images_only():
    patches = images.training_patches(3, 16, seed=4)
    for k, patch in enumerate(patches):
        source = images.load_image(images.TRAINING_IMAGES[k])
        windows = np.lib.stride_tricks.sliding_window_view(source, patch.shape)
        assert np.any(np.all(windows == patch, axis=(-2, -1)))


def test_held_out_images_are_central_crops():
    crops = images.held_out_images(32)
    camera = images.load_image("camera")
    assert camera.shape == (512, 512)
    np.testing.assert_array_equal(crops[0], camera[240:272, 240:272])
    half = images.held_out_images(32, scale=2)[0]
    np.testing.assert_allclose(half, camera[224:288, 224:288].reshape(32, 2, 32, 2).mean(axis=(1, 3)))


def test_noise_is_seeded_with_the_requested_standard_deviation():
    y = np.zeros((200, 200))
    a, b = images.add_noise(y, 0.1, seed=3), images.add_noise(y, 0.1, seed=3)
    np.testing.assert_array_equal(a, b)
    assert abs(a.std() - 0.1) < 0.002
    assert not np.array_equal(a, images.add_noise(y, 0.1, seed=4))


def test_psnr_matches_the_definition():
    rng = np.random.default_rng(0)
    y, x = rng.random((2, 8, 8)), rng.random((2, 8, 8))
    expected = [10 * np.log10(1.0 / mean_squared_error(a, b)) for a, b in zip(y, x)]
    np.testing.assert_allclose(images.psnr(y, x), expected)
    assert images.psnr(y[0], x[0]) == pytest.approx(expected[0])


def test_dct_filters_are_an_orthonormal_basis_without_dc():
    w = images.dct_filters(7).reshape(48, 49)
    np.testing.assert_allclose(w @ w.T, np.eye(48), atol=1e-12)
    np.testing.assert_allclose(w.sum(axis=1), 0, atol=1e-12)
    full = np.vstack([np.full(49, 1 / 7), w])      # with DC: the full 49 x 49 orthogonal basis
    np.testing.assert_allclose(full.T @ full, np.eye(49), atol=1e-12)


@pytest.mark.parametrize("bad, error", [(np.zeros((4, 4), dtype=np.uint8), TypeError),
                                        (np.zeros((4, 4, 3, 2)), ValueError),
                                        (np.zeros(5), ValueError),
                                        (np.full((4, 4), np.nan), ValueError)])
def test_bad_images_are_rejected(bad, error):
    with pytest.raises(error, match="x"):
        images.check_images(bad)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="noise_std"):
        images.add_noise(np.zeros((4, 4)), -0.1)
    with pytest.raises(TypeError, match="noise_std"):
        images.add_noise(np.zeros((4, 4)), "0.1")
    with pytest.raises(ValueError, match="unknown image"):
        images.load_image("lena")
    with pytest.raises(ValueError, match="exceeds"):
        images.extract_patches(np.zeros((4, 4)), 5, 1)
