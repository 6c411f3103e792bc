"""The constrained denoising model of the numerical example (docs/theory.md, section 6).

The lower-level problem of the poster's example is (6.1)

    y_hat in argmin_u ||K u||_1   s.t.  ||u - x||_2 <= s sqrt(#pixels),

F = ||.||_1 (prox of F* = clipping to [-1, 1]) and G the indicator of the ball, whose prox is
the projection (6.2). The radius factor s is the poster's sigma; cpteach calls it
``noise_level`` and keeps ``sigma`` for the dual step size (the standard deviation of the
added noise is a different number, ``noise_std``). K is a
:class:`cpteach.operators.FilterBank` (learned filters) or
:class:`cpteach.operators.FiniteDifference` (anisotropic TV, the baseline).

- :func:`step_sizes`: tau and sigma balanced between the image and the dual channels,
- :func:`constrained_model`: F and G of (6.1),
- :func:`denoise`: solve (6.1) for one image or a batch (a :class:`Denoised`),
- :func:`best_noise_level`: the s of a grid with the best mean PSNR on given pairs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import images, operators
from .chambolle_pock import Solution, primal_dual_gap, primal_objective, solve
from .problems import STEP_RATIO, check_noise_level, constrained_model, step_sizes   # the model (6.1), built there

__all__ = ["STEP_RATIO", "step_sizes", "check_noise_level", "constrained_model", "analysis_operator", "denoise", "Denoised",
           "best_noise_level"]


def analysis_operator(filters_or_operator, shape):
    """K for images of ``shape``: a FilterBank for an array of filters (c, k1, k2), or the given operator.

    Examples
    --------
    >>> analysis_operator(images.dct_filters(3), (16, 16)).params.shape
    (8, 3, 3)
    """
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
    """A solution of (6.1): the :class:`cpteach.chambolle_pock.Solution` and its relative gap.

    ``y_hat`` (shape of x) is the denoised image, the poster's name for the solution x* of
    (6.1); ``xi`` is the dual solution xi* (shape of K x). ``solution.iterations``,
    ``solution.residual`` and ``solution.converged`` say how it was reached.
    ``relative_gap`` is (Phi_P(y_hat) - Phi_D(xi)) / Phi_P(y_hat) with the primal-dual gap (2.7).
    """

    solution: Solution
    relative_gap: float

    @property
    def y_hat(self):
        """The denoised image(s) x* of (6.1), the shape of x."""
        return self.solution.x_star

    @property
    def xi(self):
        """The dual solution xi* of (6.1), the shape of K x."""
        return self.solution.xi_star


def denoise(x, filters_or_operator, noise_level, L=300, tol=1e-5, x0=None, xi0=None):
    """Solve the constrained denoising model (6.1) with Chambolle-Pock.

    y_hat in argmin_u ||K u||_1 s.t. ||u - x||_2 <= noise_level sqrt(n1 n2), per image.

    Parameters
    ----------
    x : float array (n1, n2) or a batch (m, n1, n2), the noisy images
    filters_or_operator : array (c, k1, k2) of odd-sized filters (a FilterBank is built), or a
        cpteach operator acting on (n1, n2), e.g. ``operators.FiniteDifference((n1, n2))`` for TV
    noise_level : float > 0, the radius factor s (the poster's sigma; not the noise's
        standard deviation)
    L : int, the maximal number of iterations
    tol : float, stop when the relative fixed-point residual of :func:`cpteach.solve` is below it
    x0, xi0 : optional warm start

    Returns
    -------
    Denoised
        ``y_hat``, ``xi``, the ``solution`` (iterations, residual, converged) and ``relative_gap``.
        Not reaching ``tol`` in L iterations is reported in ``solution.converged`` (no warning).

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
    K = analysis_operator(filters_or_operator, x.shape[-2:])
    F, G = constrained_model(noise_level, x.shape)
    tau, sigma = step_sizes(K)
    sol = solve(K, F, G, x, tau=tau, sigma=sigma, tol=tol, max_iter=L, x0=x0, xi0=xi0,
                warn=False)                     # non-convergence is reported in the result
    primal = primal_objective(K, F, G, x, sol.x_star)                          # Phi_P (2.7)
    gap = primal_dual_gap(K, F, G, x, sol.x_star, sol.xi_star)                 # (2.7)
    return Denoised(solution=sol, relative_gap=float(gap / max(primal, 1e-300)))


def best_noise_level(y, x, filters_or_operator, grid, L=150):
    """The s of ``grid`` with the best mean PSNR of (6.1) on the pairs (y, x), and all mean PSNRs.

    Parameters
    ----------
    y, x : float arrays (m, n1, n2), clean and noisy images
    filters_or_operator : as in :func:`denoise`
    grid : sequence of radius factors s > 0 to try
    L : int, iterations of each solve

    Returns
    -------
    (float, array (len(grid),))
        the best s and the mean PSNR (dB) for every s of ``grid``.

    Examples
    --------
    >>> y = images.training_patches(2, 16)
    >>> x = images.add_noise(y, 0.1, seed=1)
    >>> s, psnrs = best_noise_level(y, x, operators.FiniteDifference((16, 16)), grid=(0.05, 0.09), L=50)
    >>> s in (0.05, 0.09), psnrs.shape
    (True, (2,))
    """
    y, x = images.check_images(y, "y"), images.check_images(x, "x")
    if y.shape != x.shape or y.ndim != 3:
        raise ValueError(f"y and x must be batches (m, n1, n2) of the same shape, got {y.shape} and {x.shape}")
    grid = tuple(check_noise_level(s) for s in grid)
    if not grid:
        raise ValueError("grid must hold at least one radius factor s, got an empty sequence; e.g. grid=(0.09, 0.1)")
    # one image at a time: the arrays of one image (48 channels) stay in the cache
    psnrs = np.array([np.mean([images.psnr(y_i, denoise(x_i, filters_or_operator, s, L=L).y_hat)
                               for y_i, x_i in zip(y, x)]) for s in grid])
    return grid[int(np.argmax(psnrs))], psnrs
