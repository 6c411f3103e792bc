"""Notebook 05's dashboard: held-out images denoised by (6.1) with TV and with learned filters."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import ipywidgets as widgets
import numpy as np

from .. import images, operators
from ..plotting import new_figure, percentile_scale, plot_images
from ._dashboard import Dashboard

__all__ = ["DenoisingRun", "denoising_run", "DenoisingFrame", "denoising_frame", "denoising_render",
           "denoising_dashboard", "NOISE_STDS"]

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


@dataclass(frozen=True)
class DenoisingFrame:
    """What :func:`denoising_dashboard` shows: the ground truth ``y``, the :class:`DenoisingRun` and
    the slider values."""

    y: np.ndarray
    run: DenoisingRun
    noise_std: float
    s_ratio: float


def _run(crops, filters, s_ratio, L, memo, image, noise_std):
    """The :class:`DenoisingRun` of ``image`` at ``noise_std`` from ``memo`` (computed if new)."""
    return memo(("run", image, round(float(noise_std), 4)), denoising_run, crops[image], filters, noise_std,
                s_ratio, L)


def denoising_frame(crops, filters, s_ratio, L, memo, image, noise_std):
    """The :class:`DenoisingFrame` for the chosen image and noise level (the run from ``memo``)."""
    return DenoisingFrame(crops[image], _run(crops, filters, s_ratio, L, memo, image, noise_std), float(noise_std),
                          s_ratio)


def denoising_render(artists, frame):
    """Write a :class:`DenoisingFrame` into the images of :func:`denoising_dashboard`; return the status.

    Every image is shown on the grey scale of its ground truth's range; the two errors on one
    scale (the 99.5th percentile of both, so that they compare and a few outliers do not flatten them).
    """
    y, run = frame.y, frame.run
    low, high = float(y.min()), float(y.max())
    shown, axes = artists["shown"], artists["axes"]
    if not np.array_equal(shown["ground truth y"].get_array(), y):     # static while only the noise moves
        shown["ground truth y"].set_data(y)
    for title, data in (("ground truth y", y), ("noisy x", run.x), ("TV", run.tv), ("learned filters", run.learned)):
        if title != "ground truth y":
            shown[title].set_data(data)
        shown[title].set_clim(low, high)
    error_tv, error_learned = np.abs(run.tv - y), np.abs(run.learned - y)
    scale = percentile_scale(error_tv, error_learned, q=99.5)
    for title, error in (("|TV − y|", error_tv), ("|learned − y|", error_learned)):   # one scale: they compare
        shown[title].set_data(error)
        shown[title].set_clim(0.0, scale)
    for title, psnr in (("noisy x", run.psnr_x), ("TV", run.psnr_tv), ("learned filters", run.psnr_learned)):
        axes[title].title.set_text(f"{title}: {psnr:.2f} dB")
    axes["|learned − y|"].title.set_text(f"|learned − y|: {run.psnr_learned - run.psnr_tv:+.2f} dB")
    return (f"noise std {frame.noise_std:.2f}, s = {frame.s_ratio * frame.noise_std:.3f}; PSNR gain of the learned "
            f"filters over TV: {run.psnr_learned - run.psnr_tv:+.2f} dB (mean error TV {error_tv.mean():.3f}, "
            f"learned {error_learned.mean():.3f})")


def _fill_in_idle_time(board, crops, filters, s_ratio, L, image):
    """Queue the runs of every noise level of ``image`` and their frames (:meth:`Dashboard.prerender`) as the
    board's idle work (the progress bar follows)."""
    progress = board.progress
    progress.max, progress.value, progress.description = len(NOISE_STDS), 0, f"{image}:"
    progress.layout.display = None                 # shown while the grid fills

    def task(i, noise_std):
        _run(crops, filters, s_ratio, L, board.memo, image, noise_std)
        board.prerender(image=image, noise_std=noise_std)
        progress.value = i + 1
        if i + 1 == len(NOISE_STDS):
            progress.layout.display = "none"      # gone when done: no empty row is left

    board.idle.replace([partial(task, i, v) for i, v in enumerate(NOISE_STDS)])


def denoising_dashboard(filters=None, size=64, s_ratio=0.95, L=60, image=None, noise_std=0.1):
    """Dashboard for notebook 05: pick a held-out image and a noise level, see TV and learned filters.

    The dropdown picks one of ``images.TEST_IMAGES`` (central ``size`` x ``size`` crop), the
    slider the noise standard deviation on the grid ``NOISE_STDS``; (6.1) is solved with
    s = s_ratio * noise_std for K = finite differences (TV) and for the filter bank. Top row:
    ground truth, TV, learned filters; bottom row: the noisy image, the errors |TV - y| and
    |learned - y| on one scale (where the learned filters win shows as a darker panel). The
    images share the grey scale of the ground truth's range. The results of every level of
    the chosen image are computed in the kernel's idle time once the image is chosen (a
    progress bar shows it; :class:`IdleWork`, no thread), with their frames, so moving the slider
    only looks them up.
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
                                                    layout=widgets.Layout(width="auto", min_width="26em"))}
    progress = widgets.IntProgress(description="", layout=widgets.Layout(display="none", width="auto"))
    fig, axes = new_figure(3, nrows=2, width=2.3, height=2.35)
    blank = np.zeros((size, size))
    titles = ("ground truth y", "TV", "learned filters", "noisy x", "|TV − y|", "|learned − y|")
    shown = dict(zip(titles, plot_images(axes, dict(zip(titles, [blank] * 6))).values()))
    for ax in axes:
        ax.set(xlabel="", ylabel="", xticks=[], yticks=[])
    for title in titles[4:]:
        shown[title].set_cmap("magma")
    fig.colorbar(shown["|learned − y|"], ax=list(axes[4:]), label="error (one scale)", shrink=0.9)
    artists = {"shown": shown, "axes": dict(zip(titles, axes))}
    board = Dashboard(sliders, fig, partial(denoising_frame, crops, filters, s_ratio, L),
                      partial(denoising_render, artists), memo_size=64, frame_cache=2 * len(NOISE_STDS),
                      animated=[shown[t] for t in titles[1:]] + [ax.title for ax in axes[1:]])
    board.progress = progress
    board.controls.layout.grid_template_columns = "minmax(10em, 1fr) minmax(26em, 3fr)"
    board.controls.children = (*board.controls.children, progress)
    fill = partial(_fill_in_idle_time, board, crops, filters, s_ratio, L)
    sliders["image"].observe(lambda change: fill(change["new"]), names="value")
    fill(image)
    return board
