"""Notebook 05's dashboard: held-out images denoised by (6.1) with TV and with learned filters."""
from __future__ import annotations

import threading
from dataclasses import dataclass

import ipywidgets as widgets
import numpy as np

from .. import images, operators
from ..plotting import new_figure, plot_images
from ._dashboard import Dashboard

__all__ = ["DenoisingRun", "denoising_run", "denoising_dashboard", "NOISE_STDS"]

NOISE_STDS = tuple(np.round(np.arange(0.02, 0.201, 0.02), 2))   # the slider's grid of noise levels


@dataclass(frozen=True)
class DenoisingRun:
    """Noisy image and the TV and filter-bank solutions of (6.1), with their PSNRs (dB)."""

    x: np.ndarray
    tv: np.ndarray
    learned: np.ndarray
    psnr_x: float
    psnr_tv: float
    psnr_learned: float


def denoising_run(y, filters, noise_std, s_ratio=0.95, L=60, seed=2):
    """Add noise of standard deviation ``noise_std`` to ``y`` (seeded) and solve (6.1) with
    s = s_ratio * noise_std for TV and for the filter bank ``filters`` (L iterations at most each).

    Examples
    --------
    >>> y = images.held_out_images(16)[0]
    >>> run = denoising_run(y, images.dct_filters(3), 0.1, L=20)
    >>> run.tv.shape, bool(run.psnr_tv > run.psnr_x)
    ((16, 16), True)
    """
    from ..denoising import denoise     # the denoising model (6.1)

    x = images.add_noise(y, noise_std, seed=seed)
    s = s_ratio * noise_std
    tv = denoise(x, operators.FiniteDifference(y.shape), s, L=L).y_hat
    learned = denoise(x, filters, s, L=L).y_hat
    return DenoisingRun(x, tv, learned, images.psnr(y, x), images.psnr(y, tv), images.psnr(y, learned))


class _Grid:
    """Results per (image, noise level), filled for one image at a time by a background thread.

    A slider move to a level already computed only looks it up; a level not yet there is
    computed at once (the frame then waits for at most two solves). ``progress`` shows the filling.
    """

    def __init__(self, crops, filters, s_ratio, L, progress):
        self._crops, self._filters, self._s_ratio, self._L = crops, filters, s_ratio, L
        self._results = {}
        self._lock = threading.Lock()
        self._progress = progress
        self._wanted = None

    def get(self, image, noise_std):
        key = (image, round(float(noise_std), 4))
        with self._lock:      # one solve at a time: the background fill never competes with a slider for the CPU
            if key not in self._results:
                self._results[key] = denoising_run(self._crops[image], self._filters, noise_std, self._s_ratio,
                                                   self._L)
        return self._results[key]

    def fill(self, image):
        """Compute every level of ``image`` in a background thread (stops when another image is wanted)."""
        self._wanted = image
        threading.Thread(target=self._fill, args=(image,), daemon=True).start()

    def _fill(self, image):
        progress = self._progress
        progress.max, progress.value = len(NOISE_STDS), 0
        progress.description = f"{image}:"
        progress.layout.visibility = "visible"
        for i, noise_std in enumerate(NOISE_STDS):
            if self._wanted != image:
                return
            self.get(image, noise_std)
            progress.value = i + 1
        progress.layout.visibility = "hidden"


def denoising_dashboard(filters=None, size=64, s_ratio=0.95, L=60, image=None, noise_std=0.1):
    """Dashboard for notebook 05: pick a held-out image and a noise level, see TV and learned filters.

    The dropdown picks one of ``images.TEST_IMAGES`` (central ``size`` x ``size`` crop), the
    slider the noise standard deviation on the grid ``NOISE_STDS``; (6.1) is solved with
    s = s_ratio * noise_std for K = finite differences (TV) and for the filter bank. The
    results of every level of the chosen image are computed in the background when the
    image is chosen (a progress bar shows it), so moving the slider only looks them up.
    Step sizes come from the denoising model (tau*sigma*||K||^2 = 0.98 < 1 always).

    Parameters
    ----------
    filters : array (c, k1, k2) or None (default: the shipped ``pretrained_filters()``)
    size : int, the crop size (64 keeps one solve below a second)
    s_ratio : float, s / noise_std (the shipped run's ratio by default)
    L : int, maximal iterations per solve
    image : one of ``images.TEST_IMAGES`` to open on (default: the first, camera)
    noise_std : one of ``NOISE_STDS`` to open on (default 0.1)

    Returns
    -------
    Dashboard
        with ``.sliders`` (image, noise_std), ``.figure``, ``.update()`` and ``.progress``.

    Examples
    --------
    >>> board = denoising_dashboard(filters=images.dct_filters(3), size=16, L=5)
    >>> sorted(board.sliders)
    ['image', 'noise_std']
    """
    from ..reproduce import pretrained_filters

    filters = pretrained_filters() if filters is None else filters
    image = images.TEST_IMAGES[0] if image is None else image
    if image not in images.TEST_IMAGES:
        raise ValueError(f"image must be one of the held-out images {images.TEST_IMAGES}, got {image!r}")
    if noise_std not in NOISE_STDS:
        raise ValueError(f"noise_std must be one of the slider's levels {[float(v) for v in NOISE_STDS]}, got {noise_std!r}")
    crops = dict(zip(images.TEST_IMAGES, images.held_out_images(size)))
    sliders = {"image": widgets.Dropdown(options=list(images.TEST_IMAGES), value=image,
                                         description="image", layout=widgets.Layout(width="auto")),
               "noise_std": widgets.SelectionSlider(options=list(NOISE_STDS), value=noise_std, continuous_update=True,
                                                    description="noise std", style={"description_width": "5em"},
                                                    layout=widgets.Layout(width="auto", min_width="17em"))}
    progress = widgets.IntProgress(description="", layout=widgets.Layout(visibility="hidden", width="auto"))
    grid = _Grid(crops, filters, s_ratio, L, progress)
    fig, axes = new_figure(4, width=2.45, height=2.75)
    blank = np.zeros((size, size))
    shown = plot_images(axes, {"ground truth y": blank, "x": blank, "tv": blank, "learned": blank})
    y_shown, x_shown, tv_shown, learned_shown = shown.values()
    for ax in axes[1:]:
        ax.set_ylabel("")
    previous = {}

    def redraw(image, noise_std):
        run = grid.get(image, noise_std)
        if previous.get("image") != image:                 # the ground truth is static while only the noise moves
            y_shown.set_data(crops[image])
        for ax, artist, label, data, psnr in zip(axes[1:], (x_shown, tv_shown, learned_shown),
                                                 ("noisy x", "TV", "learned filters"), (run.x, run.tv, run.learned),
                                                 (run.psnr_x, run.psnr_tv, run.psnr_learned)):
            artist.set_data(data)
            ax.title.set_text(f"{label}: {psnr:.2f} dB")
        if previous.get("image") != image:
            previous["image"] = image
            grid.fill(image)
        return (f"noise std {noise_std:.2f}, s = {s_ratio * noise_std:.3f}; PSNR gain of the learned filters "
                f"over TV: {run.psnr_learned - run.psnr_tv:+.2f} dB")

    board = Dashboard(sliders, fig, redraw,
                      animated=(x_shown, tv_shown, learned_shown, *(ax.title for ax in axes[1:])))
    board.progress = progress
    board.controls.children = (*board.controls.children, progress)
    return board
