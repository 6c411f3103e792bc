"""The shipped experiment of the numerical example (docs/theory.md, section 6) and its command line.

Three seeded computations, each stored in a small file of ``cpteach/data`` (``np.load`` without
pickle; the files and their dataclasses are :mod:`cpteach.shipped`, re-exported here) that notebook 05
reads and a test checks:

- the training run of the 48 filters of 7x7 (:class:`ShippedRun`, ``filters_48x7x7.npz``),
- the held-out evaluation of TV, the DCT start and the learned filters over several noise
  seeds and two resolutions (:class:`HeldOutEvaluation`, ``held_out_48x7x7.npz``),
- the training curves of every gradient method on the same data (:class:`GradientCurves`,
  ``gradient_curves_48x7x7.npz``).

Command line (each writes to ``--out``, default ``reproduce_output``)::

    python -m cpteach.reproduce --reproduce     # all three (the training and the curves take minutes)
    python -m cpteach.reproduce --evaluate      # only the held-out evaluation of the shipped filters
    python -m cpteach.reproduce --curves        # only the gradient-method curves
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

import numpy as np

from . import images, operators
from .denoising import best_noise_level, denoise
from .learning import train_filters
from .shipped import (CURVES_FILE, HELD_OUT_FILE, MODELS, SHIPPED_FILE, GradientCurves, HeldOutEvaluation, ShippedRun,
                      _data_path, _save, load_gradient_curves, load_held_out, load_shipped_run, pretrained_filters)

__all__ = ["NOISE_STD", "S_GRID", "Settings", "SETTINGS", "curve_name", "training_data", "evaluate_held_out",
           "gradient_curves", "psnr_table", "difference_table", "AcrossImages", "across_images", "reproduce", "main",
           # the shipped files (cpteach.shipped)
           "SHIPPED_FILE", "HELD_OUT_FILE", "CURVES_FILE", "MODELS", "ShippedRun", "HeldOutEvaluation",
           "GradientCurves", "load_shipped_run", "load_held_out", "load_gradient_curves", "pretrained_filters"]

NOISE_STD = 0.1                 # standard deviation of the Gaussian noise, images in [0, 1]
S_GRID = (0.08, 0.085, 0.09, 0.095, 0.1, 0.105)   # each model gets its own s: best training PSNR on this grid
# The training settings were chosen on validation patches cut from the TRAINING images (never the
# held-out ones): with 12 patches the validation PSNR peaked early and fell while the training loss
# still fell; 48 patches of 40x40, learning rate 1e-4 and L = 60 rose steadily; L = 30 trained worse;
# twice the data or larger patches ended at the same validation PSNR (the Settings below).


@dataclass(frozen=True)
class Settings:
    """The settings of the shipped experiment (every field is read by :func:`reproduce` and its parts).

    Training: ``patches`` patches of ``patch_size`` x ``patch_size`` (seeds ``patch_seed`` for the
    patches, ``noise_seed`` for the noise), gradient ``method`` with ``L`` inner iterations, Adam with
    ``learning_rate`` for ``steps`` outer steps. Held-out evaluation: central crops of ``test_size``,
    noise seeds ``test_seeds``, resolutions ``test_scales``, ``eval_L`` iterations per solve.
    Gradient-method curves: ``curve_steps`` outer steps for each (method, L) of ``curve_methods``.
    """

    patches: int = 48
    patch_size: int = 40
    patch_seed: int = 0
    noise_seed: int = 1
    method: str = "unrolled"
    L: int = 60
    learning_rate: float = 1e-4
    steps: int = 60
    test_size: int = 128
    test_seeds: tuple = (2, 3, 4, 5, 6)
    test_scales: tuple = (1, 2)
    eval_L: int = 150
    curve_steps: int = 60
    curve_methods: tuple = (("fixed_point", 60), ("unrolled", 5), ("unrolled", 20), ("unrolled", 60),
                            ("implicit", 60))


SETTINGS = Settings()


def training_data():
    """The training pairs (y, x) of the shipped run: 48 patches of 40x40 and their noisy versions.

    Examples
    --------
    >>> y, x = training_data()
    >>> y.shape, round(float(np.std(x - y)), 2)
    ((48, 40, 40), 0.1)
    """
    y = images.training_patches(SETTINGS.patches, SETTINGS.patch_size, seed=SETTINGS.patch_seed)
    return y, images.add_noise(y, NOISE_STD, seed=SETTINGS.noise_seed)


def _models(filters, shape):
    return {"TV": operators.FiniteDifference(shape), "DCT start": images.dct_filters(7), "learned": filters}


def evaluate_held_out(filters, s_of, seeds=SETTINGS.test_seeds, scales=SETTINGS.test_scales,
                      size=SETTINGS.test_size, L=SETTINGS.eval_L, progress=True):
    """PSNRs of TV, the DCT start and ``filters`` on the held-out images for every noise seed and scale.

    Parameters
    ----------
    filters : array (48, 7, 7), the learned filters
    s_of : dict model name -> radius factor s, for ``"TV"``, ``"DCT start"`` and ``"learned"``
    seeds : noise seeds (noise of standard deviation ``NOISE_STD``)
    scales : resolutions (1 full, 2 downscaled by 2, see :func:`cpteach.images.held_out_images`)
    size : side of the central crops
    L : iterations of each solve

    Returns
    -------
    HeldOutEvaluation
    """
    from tqdm.auto import tqdm

    psnr = np.zeros((len(scales), 1 + len(MODELS), len(seeds), len(images.TEST_IMAGES)))
    for i, scale in enumerate(scales):
        y = images.held_out_images(size, scale=scale)
        models = _models(filters, y.shape[-2:])
        for k, seed in enumerate(tqdm(seeds, desc=f"held-out, scale {scale}", disable=not progress)):
            x = images.add_noise(y, NOISE_STD, seed=seed)
            psnr[i, 0, k] = images.psnr(y, x)
            for j, name in enumerate(MODELS, start=1):
                psnr[i, j, k] = [images.psnr(y_l, denoise(x_l, models[name], s_of[name], L=L).y_hat)
                                 for y_l, x_l in zip(y, x)]
    return HeldOutEvaluation(psnr=psnr, models=("noisy",) + MODELS, seeds=np.array(seeds), scales=np.array(scales),
                             test_names=images.TEST_IMAGES, test_size=int(size), eval_L=int(L),
                             noise_std=NOISE_STD)


def curve_name(method, L):
    """The label of a gradient-method curve: ``"unrolled:20"`` for unrolling (L is the depth), else the method.

    (For ``fixed_point`` and ``implicit``, L is only the inner iteration budget, the shipped run's L.)
    """
    return f"{method}:{L}" if method == "unrolled" else method


def gradient_curves(run, methods=SETTINGS.curve_methods, steps=SETTINGS.curve_steps, workers=1, progress=True):
    """Train from the DCT atoms with each (method, L) of ``methods`` on the data of the shipped ``run``.

    Every method gets the shipped run's training data, s (``run.noise_level``) and learning
    rate; the method of the shipped run itself (``SETTINGS.method`` with ``SETTINGS.L``)
    is not trained again: its row is the first ``steps`` entries of ``run.loss``/``run.psnr``.
    The curves are named by :func:`curve_name`.
    """
    y, x = training_data()
    loss, psnr = [], []
    for method, L in methods:
        if (method, L) == (SETTINGS.method, SETTINGS.L) and len(run.loss) >= steps:
            loss.append(run.loss[:steps])
            psnr.append(run.psnr[:steps])
            continue
        curve = train_filters(y, x, run.noise_level, method=method, steps=steps, L=L,
                              learning_rate=SETTINGS.learning_rate, progress=progress, workers=workers)
        loss.append(curve.loss)
        psnr.append(curve.psnr)
        print(f"{curve_name(method, L)}: {curve.seconds:.0f} s")
    return GradientCurves(names=tuple(curve_name(method, L) for method, L in methods), loss=np.array(loss),
                          psnr=np.array(psnr))


def psnr_table(names, columns):
    """The PSNR table as text: one row per image, one column per method, and the mean.

    Examples
    --------
    >>> print(psnr_table(["a"], {"noisy": np.array([20.0])}))
    image         noisy
    a             20.00
    mean          20.00
    """
    return _table(names, columns, 12, lambda v: f"{v:.2f}")


def difference_table(names, differences):
    """Paired differences (dB) over noise seeds as text: mean, std and [min, max] per image; then the mean.

    ``differences`` maps a label to an array (seeds, images) of per-image differences on the
    same noisy images. The ± and [min, max] of an image row are over the noise seeds (how
    repeatable that image's difference is); the last row is the mean over images and seeds
    and carries no spread, since a spread over seeds of the image mean would be read as an
    uncertainty of the mean: that one comes from the variation across images, :func:`across_images`.

    Examples
    --------
    >>> print(difference_table(["a"], {"b - c": np.array([[0.1], [0.3]])}))
    image                           b - c
    a          +0.20 ±0.10 [+0.10, +0.30]
    mean                            +0.20
    (± std and [min, max] over noise seeds; spread across images: across_images)
    """
    table = _table(names, differences, 30,
                   lambda d: f"{np.mean(d):+.2f} ±{np.std(d):.2f} [{np.min(d):+.2f}, {np.max(d):+.2f}]",
                   mean_cell=lambda d: f"{np.mean(d):+.2f}")
    return table + "\n(± std and [min, max] over noise seeds; spread across images: across_images)"


@dataclass(frozen=True)
class AcrossImages:
    """Paired differences summarised over the images, the unit of replication (not the noise seeds).

    ``per_image``: the difference of each image, averaged over the noise seeds; ``mean`` and
    ``standard_error`` (sample standard deviation / sqrt(m)) over the m images; ``t`` = mean / standard_error
    with ``dof`` = m - 1 degrees of freedom; ``p_sign_flip``: the exact two-sided p-value of the paired
    sign-flip permutation test (the fraction of the 2^m sign patterns of ``per_image`` whose mean is at
    least as far from 0 as the observed one). With m images it is never below 2 / 2^m.
    """

    per_image: np.ndarray
    mean: float
    standard_error: float
    t: float
    dof: int
    p_sign_flip: float

    def __str__(self):
        return (f"{self.mean:+.2f} ± {self.standard_error:.2f} dB (mean ± SE over {self.dof + 1} images), "
                f"t = {self.t:.1f} with {self.dof} degrees of freedom, sign-flip p = {self.p_sign_flip:.2f}")


def across_images(differences):
    """Summarise paired differences (seeds, images) over the images: :class:`AcrossImages`.

    What decides whether one model beats another is the variation between images; the noise seeds
    re-noise the same images, so their spread (:func:`difference_table`) says how repeatable each
    image's difference is, not whether it carries over to other images.

    Examples
    --------
    >>> r = across_images(np.array([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1]]))
    >>> r.per_image, round(r.mean, 3), r.p_sign_flip      # all three positive: 2 of the 8 sign patterns
    (array([0.2, 0.2, 0.2]), 0.2, 0.25)
    """
    d = np.asarray(differences, dtype=float)
    if d.ndim != 2 or d.shape[1] < 2 or not np.all(np.isfinite(d)):
        raise ValueError(f"differences must be a finite array (seeds, images) with at least 2 images, "
                         f"got shape {d.shape}")
    per_image = d.mean(axis=0)
    m = len(per_image)
    mean, se = per_image.mean(), per_image.std(ddof=1) / np.sqrt(m)
    signs = 1 - 2 * ((np.arange(2 ** m)[:, None] >> np.arange(m)) & 1)      # every sign pattern, (2^m, m)
    flipped = np.abs((signs * per_image).mean(axis=1))
    p = np.mean(flipped >= abs(mean) * (1 - 1e-12))
    return AcrossImages(per_image=per_image, mean=float(mean), standard_error=float(se),
                        t=float(mean / se) if se > 0 else float(np.sign(mean) * np.inf), dof=m - 1,
                        p_sign_flip=float(p))


def _table(names, columns, width, cell, mean_cell=None):
    """Rows: one per image (the last axis of each column's array), then the mean over the images (by ``mean_cell``)."""
    mean_cell = mean_cell or cell
    lines = ["image  " + "".join(f"{label:>{width}}" for label in columns)]
    for i, name in enumerate(names):
        lines.append(f"{name:7}" + "".join(f"{cell(v[..., i]):>{width}}" for v in columns.values()))
    lines.append("mean   " + "".join(f"{mean_cell(np.mean(v, axis=-1)):>{width}}" for v in columns.values()))
    return "\n".join(lines)


def _train(workers, progress):
    """Steps 1-3 of :func:`reproduce`: the s of TV and the DCT start, the training, the learned s."""
    cfg = SETTINGS
    y, x = training_data()
    s_of, grid_psnr = {}, {}
    for name, model in (("TV", operators.FiniteDifference(x.shape[-2:])), ("DCT start", images.dct_filters(7))):
        s_of[name], grid_psnr[name] = best_noise_level(y, x, model, S_GRID)
    run = train_filters(y, x, s_of["DCT start"], method=cfg.method, steps=cfg.steps, L=cfg.L,
                        learning_rate=cfg.learning_rate, progress=progress, workers=workers)
    print(f"training: {run.seconds:.0f} s")
    s_of["learned"], grid_psnr["learned"] = best_noise_level(y, x, run.filters, S_GRID)
    for name in MODELS:
        print(f"{name}: s = {s_of[name]} (training PSNR on {S_GRID}: {np.round(grid_psnr[name], 2).tolist()})")
    return ShippedRun(filters=run.filters, noise_level=s_of["DCT start"], s_tv=s_of["TV"], s_dct=s_of["DCT start"],
                      s_learned=s_of["learned"], train_psnr_grid=np.array([grid_psnr[m] for m in MODELS]),
                      loss=run.loss, psnr=run.psnr, settings=json.dumps(dict(asdict(SETTINGS), noise_std=NOISE_STD,
                                                                              s_grid=S_GRID)))


def _figures(out, run, evaluation):
    from .plotting import new_figure, plot_filters, plot_images

    y = images.held_out_images(evaluation.test_size)[0]
    x = images.add_noise(y, NOISE_STD, seed=int(evaluation.seeds[0]))
    y_hat = denoise(x, run.filters, run.s_learned, L=evaluation.eval_L).y_hat
    fig, axes = new_figure(3, width=3.6, height=3.6)
    plot_images(axes, {f"ground truth y ({evaluation.test_names[0]})": y, f"noisy x ({images.psnr(y, x):.2f} dB)": x,
                       f"learned y_hat ({images.psnr(y, y_hat):.2f} dB)": y_hat})
    fig.savefig(out / "poster.png", dpi=100)
    fig, (ax,) = new_figure(1, width=6.0, height=5.0)
    plot_filters(ax, run.filters, title="48 learned 7x7 filters")
    fig.savefig(out / "filters.png", dpi=100)


def _print_evaluation(evaluation):
    for scale in evaluation.scales:
        columns = {m: evaluation.of(m, scale).mean(axis=0) for m in evaluation.models}
        print(f"held-out images, scale {scale}, mean over the noise seeds {evaluation.seeds.tolist()}:")
        print(psnr_table(evaluation.test_names, columns))
        print(difference_table(evaluation.test_names, {
            "learned - TV": evaluation.of("learned", scale) - evaluation.of("TV", scale),
            "learned - DCT start": evaluation.of("learned", scale) - evaluation.of("DCT start", scale)}))


def reproduce(out="reproduce_output", progress=True, compare=True, workers=None, parts=("train", "evaluate",
                                                                                         "curves")):
    """Rerun the documented, seeded experiment of the numerical example and write its files to ``out``.

    ``parts`` (any of them; the others are read from the shipped files):

    - ``"train"``: 48 training patches of 40x40 from ``images.TRAINING_IMAGES`` (seed 0), noise
      ``NOISE_STD`` (seed 1); TV and the DCT start get their own s (best training PSNR on
      ``S_GRID``); ``train_filters`` from the DCT atoms with ``SETTINGS`` and the DCT start's s;
      then the learned filters get their own s the same way (``filters_48x7x7.npz``);
    - ``"evaluate"``: TV, DCT start and learned filters, each with its s, on the held-out images
      (central 128x128 crops, full resolution and downscaled by 2) for every noise seed of
      ``SETTINGS.test_seeds`` (``held_out_48x7x7.npz``, plus ``poster.png`` and ``filters.png``);
    - ``"curves"``: the gradient methods of ``SETTINGS.curve_methods`` for
      ``SETTINGS.curve_steps`` steps (``gradient_curves_48x7x7.npz``); skipped when ``compare``
      is False.

    ``workers`` processes share the training patches (default ``os.cpu_count()``); the result
    does not depend on it. Prints the tables and, for every part that was rerun, the largest
    difference to the shipped file (it should be below 0.05 dB). Returns a dict part -> result.
    """
    import os
    from pathlib import Path

    workers = (os.cpu_count() or 1) if workers is None else workers
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    results = {}
    run = _train(workers, progress) if "train" in parts else load_shipped_run()
    if "train" in parts:
        _save(out / SHIPPED_FILE, run)
        results["train"] = run
    if "evaluate" in parts:
        evaluation = evaluate_held_out(run.filters, run.s_of, progress=progress)
        _save(out / HELD_OUT_FILE, evaluation)
        _figures(out, run, evaluation)
        _print_evaluation(evaluation)
        if _data_path(HELD_OUT_FILE).is_file():
            difference = np.max(np.abs(evaluation.of("learned") - load_held_out().of("learned")))
            print(f"largest held-out PSNR difference to the shipped evaluation: {difference:.4f} dB "
                  f"({'OK' if difference <= 0.05 else 'DIFFERS'})")
        results["evaluate"] = evaluation
    if "curves" in parts and compare:
        curves = gradient_curves(run, workers=workers, progress=progress)
        _save(out / CURVES_FILE, curves)
        for name, psnr in zip(curves.names, curves.psnr):
            print(f"{name:12} training PSNR {psnr[0]:.3f} -> max {psnr.max():.3f} (step {psnr.argmax()}) "
                  f"-> {psnr[-1]:.3f} dB")
        if _data_path(CURVES_FILE).is_file():
            difference = np.max(np.abs(curves.psnr - load_gradient_curves().psnr))
            print(f"largest curve PSNR difference to the shipped curves: {difference:.4f} dB")
        results["curves"] = curves
    print(f"total time {time.perf_counter() - start:.0f} s; written to {out}/")
    return results


def main(argv=None):
    """Command line: ``python -m cpteach.reproduce --reproduce | --evaluate | --curves [--out DIR] ...``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m cpteach.reproduce", description=reproduce.__doc__.split("\n")[0])
    parser.add_argument("--reproduce", action="store_true", help="rerun the training, evaluation and curves")
    parser.add_argument("--evaluate", action="store_true", help="only the held-out evaluation of the shipped filters")
    parser.add_argument("--curves", action="store_true", help="only the gradient-method curves (minutes)")
    parser.add_argument("--out", default="reproduce_output", help="folder for the .npz and PNG files")
    parser.add_argument("--no-compare", action="store_true", help="with --reproduce: skip the gradient-method curves")
    parser.add_argument("--workers", type=int, default=None, help="processes for training (default: all cores)")
    args = parser.parse_args(argv)
    if args.reproduce:
        parts = ("train", "evaluate", "curves")
    else:
        parts = tuple(part for part, wanted in (("evaluate", args.evaluate), ("curves", args.curves)) if wanted)
    if not parts:
        parser.print_help()
        return 0
    reproduce(args.out, compare=not args.no_compare, workers=args.workers, parts=parts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
