"""Test images, patches, noise, PSNR and the DCT filter bank for the denoising example.

Every image comes from scikit-image's bundled data (``skimage.data``, nothing is
downloaded), converted to grayscale floats in [0, 1] at their full resolution (a
block-mean downscaling is available for comparisons). The images are split once and for all into

- ``TRAINING_IMAGES``: training patches are cut from these only,
- ``TEST_IMAGES``: held-out images; no crop of them is ever used in training.

This is the data of the numerical example, docs/theory.md, section 6.
"""
from __future__ import annotations

import numpy as np

from . import _validate

__all__ = ["TRAINING_IMAGES", "TEST_IMAGES", "load_image", "held_out_images", "extract_patches",
           "training_patches", "add_noise", "psnr", "dct_filters", "check_images"]

TRAINING_IMAGES = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry")
TEST_IMAGES = ("camera", "coins", "moon", "clock", "cell")
_ALL_IMAGES = TRAINING_IMAGES + TEST_IMAGES


def _check_seed(seed):
    return _validate.integer("seed", seed, 0, "of np.random.default_rng")


def check_images(x, name="x"):
    """Validate a grayscale image (n1, n2) or a batch (m, n1, n2) of floats; return float64.

    Raises TypeError for non-float data (e.g. uint8 images: convert with
    ``skimage.img_as_float``) and ValueError for other shapes or non-finite values.
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(
            f"{name} must be a float image with values in [0, 1], got dtype {x.dtype}; "
            "convert it with skimage.img_as_float(image)")
    if x.ndim not in (2, 3) or min(x.shape[-2:]) < 2:
        raise ValueError(
            f"{name} must be a grayscale image (n1, n2) or a batch (m, n1, n2), got shape {x.shape}; "
            "convert colour images with skimage.color.rgb2gray")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf")
    return x.astype(np.float64)


def load_image(name, scale=1):
    """The bundled scikit-image ``name`` as a grayscale float64 image in [0, 1].

    Parameters
    ----------
    name : str, one of ``TRAINING_IMAGES + TEST_IMAGES``
    scale : int >= 1, block-mean downscaling factor (1: full resolution)

    Returns
    -------
    array (n1, n2) with values in [0, 1]

    Examples
    --------
    >>> load_image("camera").shape
    (512, 512)
    >>> load_image("camera", scale=2).shape
    (256, 256)
    """
    if name not in _ALL_IMAGES:
        raise ValueError(f"unknown image {name!r}; choose one of {_ALL_IMAGES}")
    scale = _validate.integer("scale", scale, 1)
    import skimage.data
    from skimage.color import rgb2gray
    from skimage.transform import downscale_local_mean
    from skimage.util import img_as_float

    image = img_as_float(getattr(skimage.data, name)())
    if image.ndim == 3:
        image = rgb2gray(image[..., :3])
    if scale > 1:
        image = downscale_local_mean(image, (scale, scale))
    return np.clip(image, 0.0, 1.0)


def held_out_images(size=128, scale=1):
    """The held-out images ``TEST_IMAGES``: central ``size`` x ``size`` crops, shape (m, size, size).

    ``scale`` > 1 crops the images downscaled by that factor (see :func:`load_image`).

    Examples
    --------
    >>> held_out_images(64).shape
    (5, 64, 64)
    """
    size = _validate.integer("size", size, 8)
    out = []
    for name in TEST_IMAGES:
        image = load_image(name, scale)
        n1, n2 = image.shape
        if min(n1, n2) < size:
            raise ValueError(f"size = {size} exceeds the test image {name!r} of shape {image.shape}")
        i, j = (n1 - size) // 2, (n2 - size) // 2
        out.append(image[i:i + size, j:j + size])
    return np.stack(out)


def extract_patches(image, size, count, seed=0):
    """``count`` square patches of side ``size`` at uniformly random positions of ``image``.

    Parameters
    ----------
    image : array (n1, n2), float
    size : int, the patch side
    count : int, the number of patches
    seed : int, seeds ``np.random.default_rng``

    Returns
    -------
    array (count, size, size)

    Examples
    --------
    >>> extract_patches(np.zeros((10, 12)), 4, 3).shape
    (3, 4, 4)
    """
    image = check_images(image, "image")
    if image.ndim != 2:
        raise ValueError(f"image must be a single 2-D image, got shape {image.shape}")
    size, count = _validate.integer("size", size, 1), _validate.integer("count", count, 1)
    if size > min(image.shape):
        raise ValueError(f"patch size {size} exceeds the image shape {image.shape}")
    rng = np.random.default_rng(_check_seed(seed))
    i = rng.integers(0, image.shape[0] - size + 1, count)
    j = rng.integers(0, image.shape[1] - size + 1, count)
    return np.stack([image[a:a + size, b:b + size] for a, b in zip(i, j)])


def training_patches(count, size=64, seed=0):
    """``count`` patches cut from ``TRAINING_IMAGES`` in turn (image ``k % 6`` for patch k).

    Never touches ``TEST_IMAGES``. Returns an array (count, size, size) in [0, 1].

    Examples
    --------
    >>> training_patches(2, 16).shape
    (2, 16, 16)
    """
    count = _validate.integer("count", count, 1)
    seed = _check_seed(seed)
    patches = []
    for k in range(count):
        name = TRAINING_IMAGES[k % len(TRAINING_IMAGES)]
        patches.append(extract_patches(load_image(name), size, 1, seed=seed + k)[0])
    return np.stack(patches)


def add_noise(y, noise_std, seed=0):
    """x = y + noise_std * n with n standard Gaussian (seeded); not clipped.

    ``noise_std`` is the standard deviation of the noise. It is not the radius factor s of
    (6.1) (``noise_level`` in :mod:`cpteach.denoising`, the poster's sigma), nor the dual step
    size sigma.

    Examples
    --------
    >>> x = add_noise(np.zeros((100, 100)), 0.1, seed=1)
    >>> round(float(x.std()), 2)
    0.1
    """
    y = check_images(y, "y")
    noise_std = _validate.nonnegative("noise_std", noise_std, "a standard deviation", example=0.1)
    rng = np.random.default_rng(_check_seed(seed))
    return y + noise_std * rng.standard_normal(y.shape)


def psnr(y, x_hat):
    """PSNR in dB of ``x_hat`` against the ground truth ``y`` (data range 1).

    Uses ``skimage.metrics.peak_signal_noise_ratio``; for a batch (m, n1, n2) returns one
    value per image (array of length m), for a single image a float.

    Examples
    --------
    >>> round(psnr(np.zeros((4, 4)), np.full((4, 4), 0.1)), 6)
    20.0
    """
    from skimage.metrics import peak_signal_noise_ratio

    y, x_hat = check_images(y, "y"), check_images(x_hat, "x_hat")
    if y.shape != x_hat.shape:
        raise ValueError(f"y has shape {y.shape} but x_hat has shape {x_hat.shape}; they must match")
    if y.ndim == 2:
        return float(peak_signal_noise_ratio(y, x_hat, data_range=1.0))
    return np.array([peak_signal_noise_ratio(a, b, data_range=1.0) for a, b in zip(y, x_hat)])


def dct_filters(size=7):
    """The 2-D DCT-II basis of ``size`` x ``size`` without the constant (DC) atom.

    Atom (p, q) is d_p d_q^T with the orthonormal 1-D DCT-II vectors
    d_p[i] = c_p cos(pi (2 i + 1) p / (2 size)); the result holds the size^2 - 1 atoms
    with (p, q) != (0, 0), ordered by p then q. Every atom has zero mean and unit norm.

    Returns
    -------
    array (size**2 - 1, size, size)

    Examples
    --------
    >>> w = dct_filters(7)
    >>> w.shape
    (48, 7, 7)
    >>> bool(np.allclose(w.sum(axis=(1, 2)), 0))
    True
    """
    size = _validate.integer("size", size, 2)
    i = np.arange(size)
    d = np.cos(np.pi * (2 * i[None, :] + 1) * i[:, None] / (2 * size)) * np.sqrt(2 / size)
    d[0] /= np.sqrt(2)
    atoms = np.einsum("pi,qj->pqij", d, d).reshape(size * size, size, size)
    return atoms[1:]
