"""Bilevel training of the filters of K for the denoising model (docs/theory.md, 1.2 and 6.3).

The lower-level problem is the constrained model (6.1) of :mod:`cpteach.denoising`; this
module learns the filters of its operator K by Adam on the training loss (1.2):

- :data:`GRADIENT_METHODS`: the gradients the training can use, one function per method
  (fixed-point (5.3), unrolled (3.4), implicit (4.5)),
- :class:`AdamState`, :func:`adam_init`, :func:`adam_update`: Adam as a frozen state and a pure
  update function (the shape of optax's transforms),
- :func:`normalize_filters`: the projection (6.3) to zero mean and ||K|| = 1,
- :func:`train_filters`: the training loop (a :class:`TrainingResult`).

The shipped experiment and its command line live in :mod:`cpteach.reproduce`
(``python -m cpteach.reproduce --reproduce``).
"""
from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial

import numpy as np

from . import _validate, images, operators
from .backprop import backprop
from .chambolle_pock import chambolle_pock, solve
from .denoising import analysis_operator, constrained_model, step_sizes
from .fixed_point import fixed_point_gradient, implicit_gradient

__all__ = ["GRADIENT_METHODS", "PatchGradient", "AdamState", "adam_init", "adam_update", "normalize_filters",
           "train_filters", "TrainingResult"]


# --- the gradient methods: one function each, one registry --------------------------------

@dataclass(frozen=True)
class PatchGradient:
    """Loss 0.5 ||x^L - y||^2 of one patch at the iterate x^L, its gradient w.r.t. K.params, and the warm
    start (x^L, xi^L) of the next outer step."""

    loss: float
    grad_K: np.ndarray
    x_L: np.ndarray
    xi_L: np.ndarray


def _unrolled(K, F, G, x, y, *, tau, sigma, L, tol, x0, xi0):
    """Backpropagation (3.4) through the L warm-started iterations (``tol`` is not used)."""
    trace = chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=1.0, L=L, x0=x0, xi0=xi0)
    res = backprop(trace, y)                                                          # (3.4)
    return PatchGradient(res.loss, res.grad_K, trace.x_L, trace.xi(L))


def _inner_solve(K, F, G, x, *, tau, sigma, L, tol, x0, xi0):
    # at most L warm-started iterations by design: stopping early is not a failure
    return solve(K, F, G, x, tau=tau, sigma=sigma, tol=tol, max_iter=L, x0=x0, xi0=xi0, warn=False)


def _at_iterate(sol, y, grad_K):
    """The PatchGradient of an inner solve: the loss at its iterate x^L (the same point for every method)."""
    return PatchGradient(0.5 * float(np.sum((sol.x_star - y) ** 2)), grad_K, sol.x_star, sol.xi_star)


def _fixed_point(K, F, G, x, y, *, tau, sigma, L, tol, x0, xi0):
    """The one-step gradient (5.3) at the iterate after at most L warm-started iterations."""
    sol = _inner_solve(K, F, G, x, tau=tau, sigma=sigma, L=L, tol=tol, x0=x0, xi0=xi0)
    res = fixed_point_gradient(K, F, G, x, y, tau=tau, sigma=sigma, solution=sol)        # (5.3)
    return _at_iterate(sol, y, res.grad_K)


def _implicit(K, F, G, x, y, *, tau, sigma, L, tol, x0, xi0):
    """The formula of the limit (4.5) at the iterate after at most L warm-started iterations, the adjoint
    equation (5.5) solved loosely by GMRES (relative residual 1e-3 or 2 restart cycles of 30).

    The iterate is not the solution and its masks need not have settled, so this is the implicit
    gradient of a nearby point, not the exact hypergradient (docs/theory.md, section 5C)."""
    sol = _inner_solve(K, F, G, x, tau=tau, sigma=sigma, L=L, tol=tol, x0=x0, xi0=xi0)
    res = implicit_gradient(K, F, G, x, y, tau=tau, sigma=sigma, solution=sol, gmres_tol=1e-3, gmres_maxiter=2,
                            warn=False)                   # (4.5); the loose GMRES budget is by design
    return _at_iterate(sol, y, res.grad_K)


GRADIENT_METHODS = {"fixed_point": _fixed_point, "unrolled": _unrolled, "implicit": _implicit}
"""name -> function(K, F, G, x, y, *, tau, sigma, L, tol, x0, xi0) -> PatchGradient for one patch."""


def _check_method(method):
    if method not in GRADIENT_METHODS:
        raise ValueError(f"method must be one of {tuple(GRADIENT_METHODS)}, got {method!r}")
    return GRADIENT_METHODS[method]


def _gradient(gradient, K, F, G, x, y, tau, sigma, L, x0, xi0, tol, map_=map):
    """Loss, gradient and the new warm start (x^L, xi^L) for one outer step, summed over the patches.

    The patches are independent problems (one ball each), so they are processed one at a time:
    the same sums as one batched call, faster because the arrays of one patch (48 channels) stay
    in the cache. ``map_`` may be a process pool's map; the sum runs in patch order either way,
    so the result does not depend on the number of workers.
    """
    xi0 = [None] * x.shape[0] if xi0 is None else xi0
    one_patch = partial(_one_patch, gradient, K, F, G, tau, sigma, L, tol)
    results = list(map_(one_patch, x, y, x0, xi0))
    loss, grad = 0.0, 0.0
    for r in results:
        loss, grad = loss + r.loss, grad + r.grad_K
    return loss, grad, np.stack([r.x_L for r in results]), np.stack([r.xi_L for r in results])


def _one_patch(gradient, K, F, G, tau, sigma, L, tol, x, y, x0, xi0):
    """``gradient`` for one patch, positional in the patch arrays (for a pool's map)."""
    return gradient(K, F, G, x, y, tau=tau, sigma=sigma, L=L, tol=tol, x0=x0, xi0=xi0)


# --- Adam: a frozen state and a pure update ------------------------------------------------

@dataclass(frozen=True)
class AdamState:
    """Adam's state after ``step`` updates: the moving averages ``m`` of the gradient and ``v`` of its square."""

    step: int
    m: np.ndarray
    v: np.ndarray


def adam_init(params):
    """The state before the first update: step 0, m = v = 0 (the shape of ``params``).

    Examples
    --------
    >>> adam_init(np.ones(3)).step
    0
    """
    params = np.asarray(params, dtype=float)
    return AdamState(step=0, m=np.zeros_like(params), v=np.zeros_like(params))


def adam_update(grad, state, learning_rate, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step (Kingma & Ba 2015): the update to ADD to the parameters, and the new state.

    .. math::

        m_t = \\beta_1 m_{t-1} + (1 - \\beta_1) g, \\quad v_t = \\beta_2 v_{t-1} + (1 - \\beta_2) g^2,
        \\quad u = -\\eta \\frac{m_t / (1 - \\beta_1^t)}{\\sqrt{v_t / (1 - \\beta_2^t)} + \\epsilon}

    Parameters
    ----------
    grad : array, the gradient g (shape of the parameters)
    state : AdamState, from :func:`adam_init` or the previous call
    learning_rate : float > 0, eta

    Returns
    -------
    (array, AdamState)
        the update u and the state after step t = state.step + 1.

    Examples
    --------
    >>> update, state = adam_update(np.array([2.0, -3.0]), adam_init(np.zeros(2)), 0.1)
    >>> np.round(update, 6).tolist(), state.step
    ([-0.1, 0.1], 1)
    """
    t = state.step + 1
    m = beta1 * state.m + (1 - beta1) * grad
    v = beta2 * state.v + (1 - beta2) * grad ** 2
    update = -(learning_rate * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps))
    return update, AdamState(step=t, m=m, v=v)


# --- training ------------------------------------------------------------------------------

def normalize_filters(filters, shape):
    """Filters with zero mean each and ||K|| = 1 for the FilterBank K on images of ``shape`` (6.3).

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
    ||K|| = 1); ``noise_level`` is the radius factor s of (6.1); ``seconds`` is the
    wall-clock time.
    """

    filters: np.ndarray
    loss: np.ndarray
    psnr: np.ndarray
    method: str
    L: int
    learning_rate: float
    noise_level: float
    seconds: float


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
    0.5 ||x - y||^2 with ``GRADIENT_METHODS[method]``, removes its filter means, takes an Adam
    step (:func:`adam_update`) and projects the filters back to zero mean and ||K|| = 1, (6.3).
    The model is invariant to scaling K; the step sizes are recomputed from the exact ||K||
    every step, so tau*sigma*||K||^2 < 1 always holds.

    Parameters
    ----------
    y, x : float arrays (m, n1, n2), clean and noisy training patches
    noise_level : float > 0, the radius factor s in (6.1) (not the noise's standard deviation)
    filters : array (c, k1, k2), odd sizes, the initial filters (default: the 48 DCT atoms of
        7x7 without DC, :func:`cpteach.images.dct_filters`)
    method : a key of :data:`GRADIENT_METHODS`: "fixed_point" (one-step gradient (5.3) at the
        warm-started iterate, default), "unrolled" (backprop (3.4) through the L warm-started
        iterations) or "implicit" (the limit (4.5) by GMRES on the adjoint equation (5.5),
        loosely: relative residual 1e-3 or at most 2 restart cycles of 30 iterations per patch)
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
    gradient = _check_method(method)
    steps, L = _validate.integer("steps", steps, 1, example=60), _validate.integer("L", L, 1, example=60)
    workers = _validate.integer("workers", workers, 1, example="os.cpu_count()")
    learning_rate = _validate.positive("learning_rate", learning_rate, example=1e-4)
    shape, m = x.shape[-2:], x.shape[0]
    F, G = constrained_model(noise_level, x.shape)
    w = normalize_filters(images.dct_filters(7) if filters is None else analysis_operator(filters, shape).params,
                          shape)
    adam = adam_init(w)
    x_warm, xi_warm = x, None
    losses, psnrs = [], []
    start = time.perf_counter()
    with _pool(min(workers, m)) as pool:
        bar = tqdm(range(steps), desc=f"train ({method})", disable=not progress)
        for _ in bar:
            K = operators.FilterBank(w, shape)
            tau, sigma = step_sizes(K)                              # exact ||K|| every step
            loss, grad, x_warm, xi_warm = _gradient(gradient, K, F, G, x, y, tau, sigma, L, x_warm, xi_warm, tol,
                                                    map_=map if pool is None else pool.map)
            losses.append(loss / m)
            psnrs.append(float(np.mean(images.psnr(y, x_warm))))
            bar.set_postfix(loss=f"{losses[-1]:.4f}", psnr=f"{psnrs[-1]:.2f}")
            grad = grad / m
            # (6.3) P g: only the zero-mean part counts; left in, the large mean part (removed by the
            # projection anyway) would dominate Adam's per-entry scaling
            grad = grad - grad.mean(axis=(-2, -1), keepdims=True)
            update, adam = adam_update(grad, adam, learning_rate)
            w = normalize_filters(w + update, shape)                # (6.3) N(P(w + update)): zero mean, ||K|| = 1
        bar.close()
    return TrainingResult(filters=w, loss=np.array(losses), psnr=np.array(psnrs), method=method, L=L,
                          learning_rate=float(learning_rate), noise_level=float(noise_level),
                          seconds=time.perf_counter() - start)
