"""The poster's numerical example: learning 48 filters of 7x7 for denoising (docs/theory.md, 6).

The lower-level problem is the constrained model (6.1)

    y_hat in argmin_u ||K u||_1   s.t.  ||u - x||_2 <= s sqrt(#pixels),

F = ||.||_1 (prox of F* = clipping to [-1, 1]) and G the indicator of the ball (6.2). The
noise level s is the poster's sigma; cpteach calls it ``noise_level`` and keeps ``sigma``
for the dual step size. K is a :class:`cpteach.operators.FilterBank` (learned) or
:class:`cpteach.operators.FiniteDifference` (anisotropic TV, the baseline).

- :func:`denoise` solves (6.1) for one image or a batch,
- :func:`train_filters` solves the bilevel problem (1.2) with Adam and a selectable
  gradient (fixed-point (5.3), unrolled (3.4), implicit (4.5)),
- :func:`pretrained_filters` loads the shipped result of ``python -m cpteach.learning
  --reproduce`` (see :func:`reproduce`).
"""
from __future__ import annotations

import numbers
import time
import warnings
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial

import numpy as np

from . import images, operators, prox
from .backprop import backprop
from .chambolle_pock import chambolle_pock, default_steps, solve
from .fixed_point import fixed_point_gradient, implicit_gradient

__all__ = ["METHODS", "STEP_RATIO", "step_sizes", "constrained_model", "denoise", "Denoised",
           "train_filters", "TrainingResult", "normalize_filters", "pretrained_filters",
           "load_shipped_run", "ShippedRun", "psnr_table", "best_noise_level", "reproduce"]

METHODS = ("fixed_point", "unrolled", "implicit")
STEP_RATIO = 10.0  # sigma / tau = STEP_RATIO**2; balances the primal (image) and dual (48 channels) scales
SHIPPED_FILE = "filters_48x7x7.npz"


def step_sizes(K, ratio=STEP_RATIO):
    """Step sizes tau = 0.99 / (ratio ||K||), sigma = 0.99 ratio / ||K|| from the exact ||K||.

    tau*sigma*||K||^2 = 0.98 < 1 for every ratio. A ratio of 10 makes the iteration (2.1)-(2.5)
    on (6.1) reach a PSNR within 0.01 dB of the limit in about 100 iterations instead of
    thousands for tau = sigma (the dual variable has 48 channels in [-1, 1], the primal
    variable one image in [0, 1]).

    Examples
    --------
    >>> K = operators.FiniteDifference((8, 8))
    >>> tau, sigma = step_sizes(K)
    >>> round(tau * sigma * K.norm() ** 2, 4)
    0.9801
    """
    tau, sigma = default_steps(K)
    return tau / ratio, sigma * ratio


def _check_noise_level(noise_level):
    if isinstance(noise_level, bool) or not isinstance(noise_level, numbers.Real) \
            or not np.isfinite(noise_level) or noise_level <= 0:
        raise ValueError(
            f"noise_level (the radius factor s of (6.1), the poster's sigma) must be a positive number, "
            f"got {noise_level!r}; e.g. noise_level=0.09 for noise of standard deviation 0.1")
    return float(noise_level)


def constrained_model(noise_level, shape):
    """F = ||.||_1 and G = indicator of the ball of radius s sqrt(n1 n2), one ball per image (6.1).

    Examples
    --------
    >>> F, G = constrained_model(0.1, (64, 64))
    >>> G.radius
    6.4
    """
    noise_level = _check_noise_level(noise_level)
    return prox.L1(), prox.L2Ball(noise_level * np.sqrt(shape[-2] * shape[-1]), axis=(-2, -1))


def _operator(filters_or_operator, shape):
    """A FilterBank for an array of filters, or the given operator after a shape check."""
    if isinstance(filters_or_operator, operators.LinearOperator):
        if tuple(filters_or_operator.shape_in) != tuple(shape):
            raise ValueError(
                f"the operator acts on images of shape {tuple(filters_or_operator.shape_in)}, but the images "
                f"have shape {tuple(shape)}; build it for {tuple(shape)}")
        return filters_or_operator
    filters = np.asarray(filters_or_operator)
    if not np.issubdtype(filters.dtype, np.number):
        raise TypeError(
            f"filters_or_operator must be an array of filters (c, k1, k2) or a cpteach.operators operator, "
            f"got {type(filters_or_operator).__name__}")
    return operators.FilterBank(filters, shape)


@dataclass(frozen=True)
class Denoised:
    """A solution of (6.1): ``y_hat`` (shape of x), the dual ``xi``, and how accurate it is.

    ``relative_gap`` is (P(y_hat) - D(xi)) / P(y_hat) with the primal-dual gap (2.7);
    ``iterations``, ``residual`` and ``converged`` come from :func:`cpteach.solve`.
    """

    y_hat: np.ndarray
    xi: np.ndarray
    iterations: int
    residual: float
    converged: bool
    relative_gap: float


def denoise(x, filters_or_operator, noise_level, L=300, tol=1e-5, x0=None, xi0=None):
    """Solve the constrained denoising model (6.1) with Chambolle-Pock.

    y_hat in argmin_u ||K u||_1 s.t. ||u - x||_2 <= noise_level sqrt(n1 n2), per image.

    Parameters
    ----------
    x : float array (n1, n2) or a batch (m, n1, n2), the noisy images
    filters_or_operator : array (c, k1, k2) of odd-sized filters (a FilterBank is built), or a
        cpteach operator acting on (n1, n2), e.g. ``operators.FiniteDifference((n1, n2))`` for TV
    noise_level : float > 0, the factor s of the radius (the poster's sigma)
    L : int, the maximal number of iterations
    tol : float, stop when the relative fixed-point residual of :func:`cpteach.solve` is below it
    x0, xi0 : optional warm start

    Returns
    -------
    Denoised
        ``y_hat``, ``xi``, ``iterations``, ``residual``, ``converged``, ``relative_gap``.
        Not reaching ``tol`` in L iterations is reported in ``converged`` (no warning).

    Notes
    -----
    Step sizes come from :func:`step_sizes` (tau*sigma*||K||^2 = 0.98). The model is invariant
    to scaling K, so the scale of the filters does not matter.

    Examples
    --------
    >>> y = images.held_out_images(32)[0]
    >>> x = images.add_noise(y, 0.1, seed=1)
    >>> tv = denoise(x, operators.FiniteDifference(x.shape), 0.09)
    >>> bool(np.linalg.norm(tv.y_hat - x) <= 0.09 * 32 * (1 + 1e-9))
    True
    >>> bool(images.psnr(y, tv.y_hat) > images.psnr(y, x))
    True
    """
    x = images.check_images(x, "x")
    K = _operator(filters_or_operator, x.shape[-2:])
    F, G = constrained_model(noise_level, x.shape)
    tau, sigma = step_sizes(K)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # non-convergence is reported in the result
        sol = solve(K, F, G, x, tau=tau, sigma=sigma, tol=tol, max_iter=L, x0=x0, xi0=xi0)
    at_solution = chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, L=0, x0=sol.x_star, xi0=sol.xi_star)
    primal = at_solution.objective()[0]
    gap = at_solution.gap()[0]                                                  # (2.7)
    return Denoised(sol.x_star, sol.xi_star, sol.iterations, sol.residual, sol.converged,
                    float(gap / max(primal, 1e-300)))


def normalize_filters(filters, shape):
    """Filters with zero mean each and ||K|| = 1 for the FilterBank K on images of ``shape``.

    Examples
    --------
    >>> w = normalize_filters(images.dct_filters(7), (64, 64))
    >>> round(operators.FilterBank(w, (64, 64)).norm(), 12)
    1.0
    """
    filters = np.asarray(filters, dtype=float)
    filters = filters - filters.mean(axis=(-2, -1), keepdims=True)
    return filters / operators.FilterBank(filters, shape).norm()


@dataclass(frozen=True)
class TrainingResult:
    """The learned filters and the history of a :func:`train_filters` run.

    ``loss[t]`` is the mean training loss 0.5 ||x^(t) - y||^2 per patch and ``psnr[t]`` the
    mean training PSNR at outer step t (t = 0..steps - 1), measured at the inner iterate
    that the gradient used; ``filters`` are the filters after the last step (zero mean,
    ||K|| = 1); ``seconds`` is the wall-clock time.
    """

    filters: np.ndarray
    loss: np.ndarray
    psnr: np.ndarray
    method: str
    L: int
    learning_rate: float
    noise_level: float
    seconds: float


def _check_method(method):
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method


def _gradient(method, K, F, G, x, y, tau, sigma, L, x0, xi0, tol, map_=map):
    """Loss, gradient and the new warm start (x^L, xi^L) for one outer step, summed over the patches.

    The patches are independent problems (one ball each), so they are processed one at a time:
    the same sums as one batched call, faster because the arrays of one patch (48 channels) stay
    in the cache (unrolled, 12 patches of 40x40, L = 60: 3.6 s per step instead of 5.6 s). ``map_`` may be a process pool's map; the sum runs in
    patch order either way, so the result does not depend on the number of workers.
    """
    xi0 = [None] * x.shape[0] if xi0 is None else xi0
    results = list(map_(partial(_patch_gradient, method, K, F, G, tau, sigma, L, tol), x, y, x0, xi0))
    loss, grad = 0.0, 0.0
    for loss_i, grad_i, _, _ in results:
        loss, grad = loss + loss_i, grad + grad_i
    return loss, grad, np.stack([r[2] for r in results]), np.stack([r[3] for r in results])


def _patch_gradient(method, K, F, G, tau, sigma, L, tol, x, y, x0, xi0):
    """:func:`_gradient` for one patch."""
    if method == "unrolled":
        trace = chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=1.0, L=L, x0=x0, xi0=xi0)
        res = backprop(trace, y)                                                      # (3.4)
        return res.loss, res.grad_K, trace.x_L, trace.xi(L)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # L warm-started iterations, by design
        sol = solve(K, F, G, x, tau=tau, sigma=sigma, tol=tol, max_iter=L, x0=x0, xi0=xi0)
        if method == "fixed_point":
            res = fixed_point_gradient(K, F, G, x, y, tau=tau, sigma=sigma, solution=sol)    # (5.3)
        else:
            res = implicit_gradient(K, F, G, x, y, tau=tau, sigma=sigma, solution=sol,
                                    gmres_tol=1e-3, gmres_maxiter=2)                        # (4.5)
    return res.loss, res.grad_K, sol.x_star, sol.xi_star


def _pool(workers):
    """A process pool of ``workers`` processes, or a context yielding None for one worker."""
    if workers == 1:
        return nullcontext()
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork where the system has it (works from notebooks and stdin scripts alike), else spawn
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method))


def train_filters(y, x, noise_level, filters=None, *, method="fixed_point", steps=100, learning_rate=1e-3,
                  L=30, tol=1e-6, progress=True, workers=1):
    """Learn the filters of K for (6.1) by Adam on the bilevel loss (1.2).

    Each outer step solves (6.1) for all training patches by L Chambolle-Pock iterations
    warm-started at the previous step's (x^L, xi^L), computes the gradient of the mean loss
    0.5 ||x - y||^2 with the chosen ``method``, removes its filter means, takes an Adam step and
    projects the filters back to zero mean and ||K|| = 1, (6.3). The model is invariant to
    scaling K; the step sizes are recomputed from the exact ||K|| every step, so
    tau*sigma*||K||^2 < 1 always holds.

    Parameters
    ----------
    y, x : float arrays (m, n1, n2), clean and noisy training patches
    noise_level : float > 0, the factor s of the radius in (6.1)
    filters : array (c, k1, k2), odd sizes, the initial filters (default: the 48 DCT atoms of
        7x7 without DC, :func:`cpteach.images.dct_filters`)
    method : "fixed_point" (one-step gradient (5.3) at the warm-started iterate, default),
        "unrolled" (backprop (3.4) through the L warm-started iterations) or "implicit"
        (the limit (4.5) by GMRES on the adjoint equation (5.5), loosely: relative residual
        1e-3 or at most 2 restart cycles of 30 iterations per patch)
    steps : int, outer (Adam) steps
    learning_rate : float, Adam's step (the filters have ||K|| = 1, entries about 0.02)
    L : int, inner iterations per outer step (for "unrolled" also the backprop depth)
    tol : float, early stop of the inner solve for "fixed_point" and "implicit"
    progress : bool, show a tqdm progress bar with the current loss
    workers : int, processes that share the patches (``os.cpu_count()`` uses every core); the
        result is the same for any number of workers, only the time changes

    Returns
    -------
    TrainingResult

    Examples
    --------
    >>> y = images.training_patches(2, 16)
    >>> x = images.add_noise(y, 0.1, seed=1)
    >>> run = train_filters(y, x, 0.09, images.dct_filters(3), steps=2, L=5, progress=False)
    >>> run.filters.shape, run.loss.shape
    ((8, 3, 3), (2,))
    """
    from tqdm.auto import tqdm

    y, x = images.check_images(y, "y"), images.check_images(x, "x")
    if y.shape != x.shape or y.ndim != 3:
        raise ValueError(f"y and x must be batches (m, n1, n2) of the same shape, got {y.shape} and {x.shape}")
    method = _check_method(method)
    for name, value in (("steps", steps), ("L", L)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers < 1:
        raise ValueError(f"workers must be a positive integer (e.g. os.cpu_count()), got {workers!r}")
    if not isinstance(learning_rate, numbers.Real) or not learning_rate > 0:
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
    shape, m = x.shape[-2:], x.shape[0]
    F, G = constrained_model(noise_level, x.shape)
    w = normalize_filters(images.dct_filters(7) if filters is None else _operator(filters, shape).params, shape)
    adam_m, adam_v = np.zeros_like(w), np.zeros_like(w)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    x_warm, xi_warm = x, None
    losses, psnrs = [], []
    start = time.perf_counter()
    with _pool(min(workers, m)) as pool:
        bar = tqdm(range(1, steps + 1), desc=f"train ({method})", disable=not progress)
        for t in bar:
            K = operators.FilterBank(w, shape)
            tau, sigma = step_sizes(K)                              # exact ||K|| every step
            loss, grad, x_warm, xi_warm = _gradient(method, K, F, G, x, y, tau, sigma, L, x_warm, xi_warm, tol,
                                                    map_=map if pool is None else pool.map)
            losses.append(loss / m)
            psnrs.append(float(np.mean(images.psnr(y, x_warm))))
            bar.set_postfix(loss=f"{losses[-1]:.4f}", psnr=f"{psnrs[-1]:.2f}")
            grad = grad / m
            # (6.3) P g: only the zero-mean part counts; left in, the large mean part (removed by the
            # projection anyway) would dominate Adam's per-entry scaling
            grad = grad - grad.mean(axis=(-2, -1), keepdims=True)
            adam_m = beta1 * adam_m + (1 - beta1) * grad           # Adam (Kingma & Ba 2015)
            adam_v = beta2 * adam_v + (1 - beta2) * grad ** 2
            step = learning_rate * (adam_m / (1 - beta1 ** t)) / (np.sqrt(adam_v / (1 - beta2 ** t)) + eps)
            w = normalize_filters(w - step, shape)                  # (6.3) N(P(w - step)): zero mean, ||K|| = 1
        bar.close()
    return TrainingResult(w, np.array(losses), np.array(psnrs), method, int(L), float(learning_rate),
                          float(noise_level), time.perf_counter() - start)


# --- the shipped run: settings, loading, reproduction -------------------------------------

NOISE = 0.1                     # standard deviation of the Gaussian noise, images in [0, 1]
S_GRID = (0.08, 0.085, 0.09, 0.095, 0.1, 0.105)   # each model gets its own s: best training PSNR on this grid
# Chosen on validation patches cut from the TRAINING images (8 of 48x48, seed 1000; never the
# test images), full resolution, s = 0.095: with 12 patches the validation PSNR peaked after
# about 20 steps and fell while the training loss still fell (too little data for 2352 filter
# entries); with 48 patches, learning rate 1e-4 and L = 60 it rose steadily (29.52 -> 29.69 dB
# in 40 steps, TV 29.44 dB at its best s), 3e-4 peaked at step 20. L = 30 trained worse.
# More data does not help beyond this: after 60 steps 96 patches of 40x40 and 36 of 64x64 reached
# 29.72 dB (48 patches: 29.71), and 28.85 dB on 6 crops of 128x128 (48 patches: 28.84; TV 28.54).
SETTINGS = {"patches": 48, "patch_size": 40, "patch_seed": 0, "noise_seed": 1, "test_seed": 2,
            "test_size": 128, "method": "unrolled", "L": 60, "learning_rate": 1e-4, "steps": 60,
            "eval_L": 150, "curve_steps": 30,
            "curve_methods": ("fixed_point", "unrolled:5", "unrolled:20", "unrolled:60", "implicit")}


@dataclass(frozen=True)
class ShippedRun:
    """The result of :func:`reproduce`, as stored in ``cpteach/data/filters_48x7x7.npz``.

    ``psnr_*`` hold one PSNR (dB) per held-out image in ``test_names`` (noise level
    ``NOISE``), each model solved with its own ``s_*`` (best training PSNR on ``S_GRID``);
    ``noise_level`` is the s the filters were trained with; ``train_psnr_grid`` (rows TV,
    DCT init, learned; one column per s of ``S_GRID``) the mean training PSNRs that chose
    them; ``psnr_half`` (rows noisy, TV, DCT init, learned) repeats the held-out evaluation on
    the images downscaled by 2 (a check of how much the ranking depends on the resolution);
    ``loss``/``psnr`` are the training history of the shipped run;
    ``curve_names``, ``curve_loss`` and ``curve_psnr`` (one row per gradient method, all with
    the same learning rate) compare the gradient methods on the same training set.
    """

    filters: np.ndarray
    noise_level: float
    s_tv: float
    s_dct: float
    s_learned: float
    train_psnr_grid: np.ndarray
    settings: str
    test_names: tuple
    psnr_noisy: np.ndarray
    psnr_tv: np.ndarray
    psnr_dct: np.ndarray
    psnr_learned: np.ndarray
    psnr_half: np.ndarray
    loss: np.ndarray
    psnr: np.ndarray
    curve_names: tuple
    curve_loss: np.ndarray
    curve_psnr: np.ndarray
    seconds: float


def _shipped_path():
    from importlib.resources import files

    return files("cpteach") / "data" / SHIPPED_FILE


def load_shipped_run(path=None):
    """Load a :class:`ShippedRun` from ``path`` (default: the shipped file) without pickle."""
    path = _shipped_path() if path is None else path
    with np.load(path, allow_pickle=False) as data:
        fields = {name: data[name] for name in data.files}
    for name in ("test_names", "curve_names"):
        fields[name] = tuple(str(s) for s in fields[name])
    for name in ("noise_level", "s_tv", "s_dct", "s_learned", "seconds"):
        fields[name] = float(fields[name])
    fields["settings"] = str(fields["settings"])
    return ShippedRun(**fields)


def pretrained_filters():
    """The 48 learned 7x7 filters of the shipped run (zero mean, ||K|| = 1 on 40x40 patches).

    Loaded with ``np.load(allow_pickle=False)`` from ``cpteach/data/filters_48x7x7.npz``;
    ``python -m cpteach.learning --reproduce`` regenerates them.

    Examples
    --------
    >>> pretrained_filters().shape
    (48, 7, 7)
    """
    return load_shipped_run().filters


def _save_run(path, run):
    arrays = {name: getattr(run, name) for name in run.__dataclass_fields__}
    for name in ("test_names", "curve_names"):
        arrays[name] = np.array(arrays[name], dtype=str)
    np.savez(path, **arrays)


def _figures(out, y, x, y_hat, name, filters, psnr_x, psnr_y_hat):
    from .plotting import new_figure, plot_filters, plot_images

    fig, axes = new_figure(3, width=3.6, height=3.6)
    plot_images(axes, {f"ground truth y ({name})": y, f"noisy x ({psnr_x:.2f} dB)": x,
                       f"learned y_hat ({psnr_y_hat:.2f} dB)": y_hat})
    fig.savefig(out / "poster.png", dpi=100)
    fig, (ax,) = new_figure(1, width=6.0, height=5.0)
    plot_filters(ax, filters, title="48 learned 7x7 filters")
    fig.savefig(out / "filters.png", dpi=100)


def psnr_table(names, columns):
    """The PSNR table as text: one row per image, one column per method, and the mean.

    Examples
    --------
    >>> print(psnr_table(["a"], {"noisy": np.array([20.0])}))
    image         noisy
    a             20.00
    mean          20.00
    """
    lines = ["image  " + "".join(f"{c:>12}" for c in columns)]
    for i, name in enumerate(names):
        lines.append(f"{name:7}" + "".join(f"{v[i]:12.2f}" for v in columns.values()))
    lines.append("mean   " + "".join(f"{np.mean(v):12.2f}" for v in columns.values()))
    return "\n".join(lines)


def best_noise_level(y, x, filters_or_operator, grid=S_GRID, L=150):
    """The s of ``grid`` with the best mean PSNR of (6.1) on the pairs (y, x), and all PSNRs.

    This is how every model of the shipped run gets its own s, on TRAINING patches only.

    Examples
    --------
    >>> y = images.training_patches(2, 16)
    >>> x = images.add_noise(y, 0.1, seed=1)
    >>> s, psnrs = best_noise_level(y, x, operators.FiniteDifference((16, 16)), grid=(0.05, 0.09), L=50)
    >>> s in (0.05, 0.09), psnrs.shape
    (True, (2,))
    """
    # one patch at a time, as in _gradient: the arrays of one patch stay in the cache
    psnrs = np.array([np.mean([images.psnr(y_i, denoise(x_i, filters_or_operator, s, L=L).y_hat)
                               for y_i, x_i in zip(y, x)]) for s in grid])
    return float(grid[int(np.argmax(psnrs))]), psnrs


def reproduce(out="reproduce_output", progress=True, compare=True, workers=None):
    """Rerun the documented, seeded training of the shipped filters and evaluate them.

    1. 48 training patches of 40x40 from ``images.TRAINING_IMAGES`` (seed 0), noise 0.1 (seed 1);
    2. each model (TV, the DCT start) gets its own s: the best training PSNR on ``S_GRID``;
    3. ``train_filters`` from the DCT atoms with the settings ``SETTINGS`` and the DCT's s;
       then the learned filters get their own s the same way;
    4. the gradient methods of ``SETTINGS["curve_methods"]`` on the same data for the first
       ``SETTINGS["curve_steps"]`` steps (curves);
    5. TV, DCT and learned filters, each with its s, on the held-out images (128x128, noise seed 2),
       and the same on the held-out images downscaled by 2.

    ``workers`` processes share the training patches (default ``os.cpu_count()``); the result
    does not depend on it.

    Writes ``filters_48x7x7.npz``, ``poster.png`` (y, x, y_hat) and ``filters.png`` to ``out``,
    prints the PSNR table and, when the package ships filters, the largest difference of the
    held-out PSNRs to the shipped run (it should be below 0.05 dB). Returns the ShippedRun.
    """
    import json
    import os
    from pathlib import Path

    workers = (os.cpu_count() or 1) if workers is None else workers
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = SETTINGS
    start = time.perf_counter()
    y = images.training_patches(cfg["patches"], cfg["patch_size"], seed=cfg["patch_seed"])
    x = images.add_noise(y, NOISE, seed=cfg["noise_seed"])
    tv_op = operators.FiniteDifference(x.shape[-2:])
    s_of, train_psnr = {}, {}
    for name, model in (("TV", tv_op), ("DCT init", images.dct_filters(7)), ("learned", None)):
        if model is None:
            s = s_of["DCT init"]                                  # train with the s of the start
            run = train_filters(y, x, s, method=cfg["method"], steps=cfg["steps"], L=cfg["L"],
                                learning_rate=cfg["learning_rate"], progress=progress, workers=workers)
            print(f"training: {run.seconds:.0f} s")
            model = run.filters
        s_of[name], train_psnr[name] = best_noise_level(y, x, model)
        print(f"{name}: s = {s_of[name]} (training PSNR on {S_GRID}: {np.round(train_psnr[name], 2).tolist()})")
    curves, n = [], cfg["curve_steps"]
    for spec in cfg["curve_methods"] if compare else ():
        method, _, L = spec.partition(":")
        if method == cfg["method"] and int(L or cfg["L"]) == cfg["L"]:
            curves.append((run.loss[:n], run.psnr[:n]))     # the first n steps of the shipped run
            continue
        curve = train_filters(y, x, s, method=method, steps=n, L=int(L or cfg["L"]),
                              learning_rate=cfg["learning_rate"], progress=progress, workers=workers)
        curves.append((curve.loss, curve.psnr))
    tables = []
    for scale in (1, 2):                                          # full resolution, then downscaled by 2
        y_test = images.held_out_images(cfg["test_size"], scale=scale)
        x_test = images.add_noise(y_test, NOISE, seed=cfg["test_seed"])
        models = {"TV": operators.FiniteDifference(x_test.shape[-2:]), "DCT init": images.dct_filters(7),
                  "learned": run.filters}
        columns = {"noisy": images.psnr(y_test, x_test)}
        for name, model in models.items():
            columns[name] = images.psnr(y_test, denoise(x_test, model, s_of[name], L=cfg["eval_L"]).y_hat)
        tables.append((y_test, x_test, columns))
    (y_test, x_test, columns), (_, _, half) = tables
    learned = denoise(x_test[0], run.filters, s_of["learned"], L=cfg["eval_L"])
    shipped = ShippedRun(
        run.filters, s, s_of["TV"], s_of["DCT init"], s_of["learned"], np.array(list(train_psnr.values())),
        json.dumps(dict(cfg, noise=NOISE, s_grid=S_GRID)), images.TEST_IMAGES,
        columns["noisy"], columns["TV"], columns["DCT init"], columns["learned"], np.array(list(half.values())),
        run.loss, run.psnr,
        tuple(cfg["curve_methods"]) if compare else (),
        np.array([c[0] for c in curves]).reshape(len(curves), n),
        np.array([c[1] for c in curves]).reshape(len(curves), n), time.perf_counter() - start)
    _save_run(out / SHIPPED_FILE, shipped)
    _figures(out, y_test[0], x_test[0], learned.y_hat, images.TEST_IMAGES[0], run.filters,
             columns["noisy"][0], columns["learned"][0])
    print(psnr_table(images.TEST_IMAGES, columns))
    print("the same, held-out images downscaled by 2:")
    print(psnr_table(images.TEST_IMAGES, half))
    print("s: " + ", ".join(f"{name} {value}" for name, value in s_of.items()))
    print(f"total time {shipped.seconds:.0f} s; written to {out}/")
    if _shipped_path().is_file():
        difference = np.max(np.abs(load_shipped_run().psnr_learned - shipped.psnr_learned))
        verdict = "OK" if difference <= 0.05 else "DIFFERS"
        print(f"largest held-out PSNR difference to the shipped filters: {difference:.4f} dB ({verdict})")
    return shipped


def main(argv=None):
    """Command line: ``python -m cpteach.learning --reproduce [--out DIR] [--no-compare]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m cpteach.learning", description=reproduce.__doc__.split("\n")[0])
    parser.add_argument("--reproduce", action="store_true", help="rerun the shipped training and evaluation")
    parser.add_argument("--out", default="reproduce_output", help="folder for the .npz and PNG files")
    parser.add_argument("--no-compare", action="store_true", help="skip the gradient-method curves (faster)")
    parser.add_argument("--workers", type=int, default=None, help="processes for training (default: all cores)")
    args = parser.parse_args(argv)
    if not args.reproduce:
        parser.print_help()
        return 0
    reproduce(args.out, compare=not args.no_compare, workers=args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
