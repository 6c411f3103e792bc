"""The shipped result files of the numerical example (docs/theory.md, section 6): what they hold, load and save.

Each file of ``cpteach/data`` (``np.load`` without pickle) holds one frozen dataclass, written by
:mod:`cpteach.reproduce` and read by notebook 05 and the tests: :class:`ShippedRun` (the training run,
``filters_48x7x7.npz``), :class:`HeldOutEvaluation` (``held_out_48x7x7.npz``) and :class:`GradientCurves`
(``gradient_curves_48x7x7.npz``). :mod:`cpteach.reproduce` re-exports every name.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

__all__ = ["SHIPPED_FILE", "HELD_OUT_FILE", "CURVES_FILE", "MODELS", "ShippedRun", "HeldOutEvaluation",
           "GradientCurves", "load_shipped_run", "load_held_out", "load_gradient_curves", "pretrained_filters"]

SHIPPED_FILE = "filters_48x7x7.npz"
HELD_OUT_FILE = "held_out_48x7x7.npz"
CURVES_FILE = "gradient_curves_48x7x7.npz"
MODELS = ("TV", "DCT start", "learned")


@dataclass(frozen=True)
class ShippedRun:
    """The training run of the shipped filters (``cpteach/data/filters_48x7x7.npz``).

    ``filters`` (48, 7, 7), zero mean, ||K|| = 1 on 40x40 patches, trained with the radius
    factor ``noise_level`` (the DCT start's s); ``s_tv``, ``s_dct``, ``s_learned`` are the s of
    each model (best mean training PSNR on ``S_GRID``); ``train_psnr_grid`` (rows TV, DCT start,
    learned; one column per s of ``S_GRID``) the PSNRs that chose them; ``loss``/``psnr`` the
    training history (one entry per outer step); ``settings`` the JSON of ``SETTINGS``
    (times are measured by ``benchmarks/learning.py``, not stored).
    """

    filters: np.ndarray
    noise_level: float
    s_tv: float
    s_dct: float
    s_learned: float
    train_psnr_grid: np.ndarray
    loss: np.ndarray
    psnr: np.ndarray
    settings: str

    @property
    def s_of(self):
        """The radius factor s of each model, a dict over ``("TV", "DCT start", "learned")``."""
        return dict(zip(MODELS, (self.s_tv, self.s_dct, self.s_learned)))


@dataclass(frozen=True)
class HeldOutEvaluation:
    """PSNRs (dB) on the held-out images (``cpteach/data/held_out_48x7x7.npz``).

    ``psnr[i, j, k, l]``: resolution ``scales[i]`` (1 full, 2 downscaled by 2), model
    ``models[j]`` (``"noisy"`` is x itself), noise seed ``seeds[k]``, image ``test_names[l]``
    (central crops of ``test_size``); each model solved with its own s of the shipped run for
    ``eval_L`` iterations, noise of standard deviation ``noise_std``.
    """

    psnr: np.ndarray
    models: tuple
    seeds: np.ndarray
    scales: np.ndarray
    test_names: tuple
    test_size: int
    eval_L: int
    noise_std: float

    def of(self, model, scale=1):
        """The PSNRs of ``model`` at ``scale``, shape (seeds, images)."""
        return self.psnr[list(self.scales).index(scale), self.models.index(model)]


@dataclass(frozen=True)
class GradientCurves:
    """Training curves of each gradient method (``cpteach/data/gradient_curves_48x7x7.npz``).

    Row i of ``loss`` (mean 0.5 ||x - y||^2 per patch) and ``psnr`` (mean training PSNR, dB)
    is the method ``names[i]`` (:func:`curve_name`: ``"unrolled:20"`` is unrolled with L = 20; otherwise
    L = ``SETTINGS.L``), one column per outer step, all on the shipped run's training data
    with its s and learning rate, starting from the DCT atoms (the row of the shipped method
    is the shipped run's history).
    """

    names: tuple
    loss: np.ndarray
    psnr: np.ndarray


def _data_path(name):
    from importlib.resources import files

    return files("cpteach") / "data" / name


def _load(cls, path, tuples=(), floats=(), ints=(), strings=()):
    with np.load(path, allow_pickle=False) as data:
        values = {name: data[name] for name in data.files}
    for name in tuples:
        values[name] = tuple(str(s) for s in values[name])
    for name in floats:
        values[name] = float(values[name])
    for name in ints:
        values[name] = int(values[name])
    for name in strings:
        values[name] = str(values[name])
    return cls(**values)


def _save(path, result):
    arrays = {f.name: getattr(result, f.name) for f in fields(result)}
    for name, value in arrays.items():
        if isinstance(value, tuple):
            arrays[name] = np.array(value, dtype=str)
    np.savez(path, **arrays)


def load_shipped_run(path=None):
    """Load a :class:`ShippedRun` from ``path`` (default: the shipped file) without pickle."""
    return _load(ShippedRun, _data_path(SHIPPED_FILE) if path is None else path,
                 floats=("noise_level", "s_tv", "s_dct", "s_learned"), strings=("settings",))


def load_held_out(path=None):
    """Load a :class:`HeldOutEvaluation` from ``path`` (default: the shipped file) without pickle."""
    return _load(HeldOutEvaluation, _data_path(HELD_OUT_FILE) if path is None else path,
                 tuples=("models", "test_names"), floats=("noise_std",), ints=("test_size", "eval_L"))


def load_gradient_curves(path=None):
    """Load :class:`GradientCurves` from ``path`` (default: the shipped file) without pickle."""
    return _load(GradientCurves, _data_path(CURVES_FILE) if path is None else path, tuples=("names",))


def pretrained_filters():
    """The 48 learned 7x7 filters of the shipped run (zero mean, ||K|| = 1 on 40x40 patches).

    Loaded with ``np.load(allow_pickle=False)`` from ``cpteach/data/filters_48x7x7.npz``;
    ``python -m cpteach.reproduce --reproduce`` regenerates them.

    Examples
    --------
    >>> pretrained_filters().shape
    (48, 7, 7)
    """
    return load_shipped_run().filters
