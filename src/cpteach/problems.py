"""Teaching problems min_u F(K u) + G(u - x) of docs/theory.md (1.1), with a lazily computed solution.

A :class:`Problem` holds the operator K, the functions F and G, the data x, the ground truth
y, a name and the step sizes tau, sigma, theta it is shown with. Its primal-dual solution
(x*, xi*) is computed by :func:`cpteach.chambolle_pock.solve` the first time
``problem.solution`` (or ``problem.x_star``) is read, and then kept: building a problem is
cheap, and a problem that only feeds a forward run never solves.

Builders (every notebook, widget, test and benchmark takes its problems from here):

- :func:`tv_denoising_1d`: 1-D TV denoising (F = beta*||.||_1, G = 0.5||.||^2), unique x*;
- :func:`tv_l1_denoising_1d`: 1-D TV-L1 (0/1 prox derivatives, masks (4.1), non-summable);
- :func:`ball_problem`: a random k x n problem with G the indicator of a ball (section 5);
- :func:`l1_l1_problem`: a random problem with F, G both weighted 1-norms (masks (4.1), summable);
- :func:`poster_example`: the poster's example (6.1), 48 DCT filters of 7x7 on a 64x64 crop, built
  from the model's :func:`constrained_model` (F, G) and :func:`step_sizes` (also used by
  :mod:`cpteach.denoising`, which re-exports them);
- ``PRESENTER_PROBLEMS``: name -> builder, the problems of the presenter view.

Naming: ``noise_std`` is the standard deviation of the Gaussian noise; ``noise_level`` means
only the radius factor s of (6.1) (the poster's sigma; cpteach keeps sigma for the dual step).

Examples
--------
>>> p = tv_denoising_1d(n=20)
>>> p.name, p.x.shape
('1-D TV denoising (n = 20)', (20,))
>>> bool(p.solution.converged)
True
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from . import _validate, images, operators, prox
from .chambolle_pock import SolutionParts, check_problem, check_steps, default_steps, solve

__all__ = ["Problem", "tv_denoising_1d", "tv_l1_denoising_1d", "ball_problem", "l1_l1_problem", "poster_example",
           "PRESENTER_PROBLEMS", "STEP_RATIO", "step_sizes", "check_noise_level", "constrained_model"]


@dataclass(frozen=True, eq=False)
class Problem(SolutionParts):
    """A problem min_u F(K u) + G(u - x) (1.1) with ground truth y, shown with steps tau, sigma, theta.

    Attributes
    ----------
    K : cpteach.operators.LinearOperator
    F, G : cpteach.prox functions (G is centred at 0; the problem applies it to u - x)
    x : array (K.shape_in), the noisy data
    y : array (K.shape_in), the ground truth (the target of the loss 0.5||y - x^L||^2)
    name : str, shown in titles and the presenter's chooser
    tau, sigma : float, the step sizes the problem is shown with (tau*sigma*||K||^2 < 1)
    theta : float in [0, 1], the extrapolation (default 1)
    tol : float, relative residual at which :attr:`solution` stops (see :func:`cpteach.solve`)
    max_iter : int, the iteration budget of :attr:`solution`

    ``solution`` (a :class:`cpteach.chambolle_pock.Solution`) is computed on first access
    and cached; ``x_star`` and ``xi_star`` are its primal and dual parts. Problems compare
    by identity (they hold arrays).
    """

    K: operators.LinearOperator
    F: prox.ProxFunction
    G: prox.ProxFunction
    x: np.ndarray
    y: np.ndarray
    name: str
    tau: float
    sigma: float
    theta: float = 1.0
    tol: float = 1e-12
    max_iter: int = 200000

    def __post_init__(self):
        check_problem(self.K, self.F, self.G, self.x, "x")
        check_problem(self.K, self.F, self.G, self.y, "y")
        check_steps(self.K, self.tau, self.sigma, self.theta)
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {type(self.name).__name__}")

    @cached_property
    def solution(self):
        """(x*, xi*) by :func:`cpteach.chambolle_pock.solve` with this problem's steps, computed once.

        Warns (RuntimeWarning) if ``max_iter`` iterations do not reach ``tol``.
        """
        return solve(self.K, self.F, self.G, self.x, tau=self.tau, sigma=self.sigma, theta=self.theta,
                     tol=self.tol, max_iter=self.max_iter)

    def with_steps(self, sigma_over_tau=1.0, theta=None, safety=0.99):
        """The same model shown with other steps: tau*sigma*||K||^2 = safety^2 and sigma/tau = ``sigma_over_tau``.

        The steps are :func:`cpteach.chambolle_pock.default_steps` (K, safety, sigma_over_tau);
        ``theta`` defaults to this problem's. The new problem solves afresh (its own lazily
        computed :attr:`solution`, with this problem's ``tol`` and ``max_iter``).

        Examples
        --------
        >>> p = ball_problem(k=6, n=4).with_steps(sigma_over_tau=100.0)
        >>> round(p.sigma / p.tau), round(p.tau * p.sigma * p.K.norm() ** 2, 4)
        (100, 0.9801)
        """
        tau, sigma = default_steps(self.K, safety, sigma_over_tau)
        return replace(self, tau=tau, sigma=sigma, theta=self.theta if theta is None else theta)


def _piecewise_constant(n):
    """The clean 1-D signal: four plateaus 0, 1, 0.4, 0.8 of (almost) equal length."""
    levels = np.array([0.0, 1.0, 0.4, 0.8])
    return levels[np.minimum(np.arange(n) * len(levels) // n, len(levels) - 1)]


def tv_denoising_1d(n=100, beta=0.2, noise_std=0.15, seed=0, dense=False, boundary_row=True):
    """1-D total-variation denoising: min_u beta*||D u||_1 + 0.5*||u - x||^2.

    The clean signal y is piecewise constant (four plateaus), the data
    x = y + noise_std * N(0, 1). K = D is the forward difference of
    :class:`cpteach.operators.FiniteDifference`, F = beta*||.||_1 and
    G = 0.5*||.||^2, so the primal solution x* is unique; the dual is not: the last row of D
    (the boundary) is zero, and its dual entry may take any value of [-beta, beta].

    Parameters
    ----------
    n : int >= 8, signal length
    beta : float > 0, the TV weight, the weight of F (the prox.L1 ``weight``)
    noise_std : float >= 0, standard deviation of the Gaussian noise (default 0.15)
    seed : int, seed of ``np.random.default_rng``
    dense : bool
        If True, K is a :class:`cpteach.operators.Matrix` holding D (k = n rows, the last
        one zero), so that ``backprop(...).grad_K`` is the full k x n gradient (3.4).
    boundary_row : bool
        If False, K is the (n - 1) x n :class:`cpteach.operators.Matrix` of D without its zero
        boundary row (dense whatever ``dense`` says): then the dual is unique too, and the
        theorem of section 5C applies (checked in the tests with ``theorem_conditions``).

    Returns
    -------
    Problem
        with tau = sigma = 0.99/||K|| and a solution to relative residual 1e-15.

    Examples
    --------
    >>> p = tv_denoising_1d(n=40)
    >>> p.x.shape, p.K.norm() < 2
    ((40,), True)
    >>> tv_denoising_1d(n=40, boundary_row=False).K.shape_out
    (39,)
    """
    n = _validate.integer("n", n, 8)
    beta = _validate.positive("beta", beta)
    noise_std = _validate.nonnegative("noise_std", noise_std)
    seed = _validate.integer("seed", seed, 0)
    y = _piecewise_constant(n)
    x = y + noise_std * np.random.default_rng(seed).standard_normal(n)
    K = operators.FiniteDifference(n)
    if dense or not boundary_row:
        K = operators.Matrix(K.matrix()[: None if boundary_row else -1])    # columns K e_i, the zero row kept or not
    tau, sigma = default_steps(K)
    name = f"1-D TV denoising (n = {n}{'' if boundary_row else ', no boundary row'})"
    return Problem(K, prox.L1(beta), prox.SquaredL2(), x, y, name, tau, sigma,
                   tol=1e-15)


def tv_l1_denoising_1d(n=48, beta=1.0, alpha=0.5, noise_std=0.3, seed=0):
    """1-D TV-L1 denoising: min_u beta*||D u||_1 + alpha*||u - x||_1, with D a learnable matrix.

    The signal y and the data x are those of :func:`tv_denoising_1d` (same n, noise_std,
    seed); K = D is a :class:`cpteach.operators.Matrix` of the n - 1 forward differences, so
    ``backprop(...).grad_K`` is its full gradient. Both F = beta*||.||_1 and
    G = alpha*||.||_1 have 0/1 prox derivatives, so the masks (4.1) exist; the linearised
    backward map has a non-trivial fixed space and the unrolled gradient grows linearly in
    L (4.6). The solution is computed to relative residual 1e-10.

    Parameters
    ----------
    n : int >= 8; beta (weight of F), alpha (weight of G) : float > 0; noise_std : float >= 0 (default 0.3); seed : int

    Examples
    --------
    >>> p = tv_l1_denoising_1d(n=16)
    >>> p.K.params.shape, p.G.has_mask
    ((15, 16), True)
    """
    base = tv_denoising_1d(n=n, beta=beta, noise_std=noise_std, seed=seed)
    alpha = _validate.positive("alpha", alpha)
    K = operators.Matrix(np.diff(np.eye(n), axis=0))
    tau, sigma = default_steps(K)
    return Problem(K, prox.L1(beta), prox.L1(alpha), base.x, base.y, f"1-D TV-L1 denoising (n = {n})",
                   tau, sigma, tol=1e-10)


def ball_problem(k=30, n=20, noise_std=0.3, radius=0.3, seed=3):
    """A small random problem min_u ||K u||_1 s.t. ||u - x|| <= radius*sqrt(n), K a k x n Matrix.

    K has N(0, 1/n) entries, y ~ N(0, I) and x = y + noise_std * N(0, I) (one seeded
    generator); F = ||.||_1, G = the indicator of the ball (the structure of (6.1) at
    teaching size, with a non-elementwise prox derivative). The solution is computed to
    relative residual 1e-12.

    Parameters
    ----------
    k, n : int >= 1, the shape of K; noise_std : float >= 0 (default 0.3);
    radius : float > 0, the radius factor (the ball has radius radius*sqrt(n)); seed : int

    Examples
    --------
    >>> p = ball_problem(k=6, n=4)
    >>> p.K.params.shape, float(np.linalg.norm(p.x_star - p.x)) <= 0.3 * 2 + 1e-9
    ((6, 4), True)
    """
    k, n = _validate.integer("k", k, 1), _validate.integer("n", n, 1)
    noise_std = _validate.nonnegative("noise_std", noise_std)
    radius = _validate.positive("radius", radius)
    rng = np.random.default_rng(_validate.integer("seed", seed, 0))
    K = operators.Matrix(rng.standard_normal((k, n)) / np.sqrt(n))
    y = rng.standard_normal(n)
    x = y + noise_std * rng.standard_normal(n)
    tau, sigma = default_steps(K)
    return Problem(K, prox.L1(1.0), prox.L2Ball(radius * np.sqrt(n)), x, y,
                   f"random {k} x {n} problem with a ball constraint", tau, sigma)


def l1_l1_problem(k=20, n=10, beta=0.2, alpha=0.3, noise_std=0.3, seed=0):
    """A random L1-L1 problem: min_u beta*||K u||_1 + alpha*||u - x||_1, K a random k x n Matrix.

    K, y and x are those of :func:`ball_problem` (same k, n, noise_std, seed: K has
    N(0, 1/n) entries, y ~ N(0, I), x = y + noise_std * N(0, I)); F = beta*||.||_1 and
    G = alpha*||.||_1 both have 0/1 prox derivatives, so the masks (4.1) exist. For the
    defaults (notebooks 03a, 03b and 04) the solution is unique and nondegenerate, the masked
    operator K_M = M_D K M_P is square and invertible, the sums (4.4) converge and the limit
    of the unrolled gradient is (4.11). Steps tau = sigma = 0.99/||K||; the solution is
    computed to relative residual 1e-12.

    Parameters
    ----------
    k, n : int >= 1, the shape of K
    beta : float > 0, the weight of F (the prox.L1 ``weight``)
    alpha : float > 0, the weight of G
    noise_std : float >= 0, standard deviation of the noise (default 0.3)
    seed : int, seed of ``np.random.default_rng``

    Returns
    -------
    Problem

    Examples
    --------
    >>> p = l1_l1_problem()
    >>> p.name, p.K.params.shape, p.F.has_mask and p.G.has_mask
    ('random 20 x 10 L1-L1 problem', (20, 10), True)
    """
    base = ball_problem(k=k, n=n, noise_std=noise_std, seed=seed)
    beta = _validate.positive("beta", beta)
    alpha = _validate.positive("alpha", alpha)
    return Problem(base.K, prox.L1(beta), prox.L1(alpha), base.x, base.y, f"random {k} x {n} L1-L1 problem",
                   base.tau, base.sigma)


def poster_example(size=64, seed=0, noise_std=0.1, noise_level=0.085, filter_size=7, offset=64, tol=1e-5):
    """The poster's numerical example (6.1): 48 DCT filters of 7x7 on a crop of the camera image.

    min_u ||K u||_1  s.t.  ||u - x||_2 <= noise_level * sqrt(size^2), with K the
    :class:`cpteach.operators.FilterBank` of the ``filter_size**2 - 1`` non-constant DCT atoms
    (:func:`cpteach.images.dct_filters`) scaled to ||K|| = 1, y the crop
    ``camera[offset:offset + size, offset:offset + size]`` of scikit-image's camera (full
    resolution, values in [0, 1]) and x = y + noise_std * N(0, I) (:func:`cpteach.images.add_noise`).
    Step sizes as in the denoising model: tau = 0.99/(10 ||K||), sigma = 0.99*10/||K||
    (:func:`step_sizes`, tau*sigma*||K||^2 = 0.98).

    Parameters
    ----------
    size : int >= 8, the side of the crop
    seed : int, the seed of the noise
    noise_std : float >= 0, the standard deviation of the noise
    noise_level : float > 0, the radius factor s of (6.1) (the poster's sigma)
    filter_size : int >= 2, the side of the DCT filters
    offset : int >= 0, the top-left corner of the crop
    tol : float > 0, the relative residual of the lazily computed solution

    Returns
    -------
    Problem

    Examples
    --------
    >>> p = poster_example(size=16)
    >>> p.K.params.shape, p.x.shape, round(p.G.radius, 3)
    ((48, 7, 7), (16, 16), 1.36)
    """
    size = _validate.integer("size", size, 8)
    filter_size = _validate.integer("filter_size", filter_size, 2)
    offset = _validate.integer("offset", offset, 0)
    noise_std = _validate.nonnegative("noise_std", noise_std)
    noise_level = _validate.positive("noise_level", noise_level)
    tol = _validate.positive("tol", tol)
    camera = images.load_image("camera")
    if offset + size > min(camera.shape):
        raise ValueError(f"offset + size = {offset + size} exceeds the camera image {camera.shape}; "
                         f"lower offset or size")
    y = camera[offset:offset + size, offset:offset + size]
    x = images.add_noise(y, noise_std, seed=_validate.integer("seed", seed, 0))
    filters = images.dct_filters(filter_size)
    filters = filters / operators.FilterBank(filters, y.shape).norm()
    K = operators.FilterBank(filters, y.shape)
    F, G = constrained_model(noise_level, y.shape)
    tau, sigma = step_sizes(K)
    return Problem(K, F, G, x, y, f"poster example: {filters.shape[0]} DCT filters "
                   f"{filter_size}x{filter_size}, {size}x{size} camera crop", tau, sigma, tol=tol, max_iter=20000)


# ---- the constrained denoising model (6.1) of the numerical example ----

STEP_RATIO = 10.0  # sigma / tau = STEP_RATIO**2; balances the primal (image) and dual (48 channels) scales


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
    return default_steps(K, sigma_over_tau=ratio**2)                  # sigma/tau = ratio^2


def check_noise_level(noise_level):
    """The radius factor s of (6.1) (``noise_level``, the poster's sigma): a positive float."""
    return _validate.positive("noise_level", noise_level, "the radius factor s of (6.1), the poster's sigma",
                              example=0.09)


def constrained_model(noise_level, shape):
    """F = ||.||_1 and G = indicator of the ball of radius s sqrt(n1 n2), one ball per image (6.1).

    ``noise_level`` is the radius factor s; ``shape`` the shape of the images (the last two
    axes are one image).

    Examples
    --------
    >>> F, G = constrained_model(0.1, (64, 64))
    >>> G.radius
    6.4
    """
    noise_level = check_noise_level(noise_level)
    return prox.L1(), prox.L2Ball(noise_level * np.sqrt(shape[-2] * shape[-1]), axis=(-2, -1))



PRESENTER_PROBLEMS = {
    "1-D TV denoising: F = 0.2 ||.||_1, G = 0.5 ||.||^2": lambda: tv_denoising_1d(boundary_row=False),
    "random 30 x 20 problem: F = ||.||_1, G = ball indicator": ball_problem,
    "random L1-L1 problem (0/1 masks): F = 0.2 ||.||_1, G = 0.3 ||.||_1": l1_l1_problem,
}  # TV-L1 is left out on purpose: its implicit gradient does not exist (section 4, non-summable)
