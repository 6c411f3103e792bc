"""When the sums diverge: TV-L1 (docs/theory.md, section 4C): the plateaus of a 1-D solution on which the
limit (4.3) lives."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate

__all__ = ["Plateaus", "plateaus"]


@dataclass(frozen=True)
class Plateaus:
    """The plateaus of a 1-D solution x* and which of them carry the limit (4.3) (section 4C).

    ``bounds[i] = (start, stop)``: plateau i is x*[start:stop], a maximal run with D x* = 0
    (neighbours within ``tol``); the plateaus cover 0..n in order. ``free[i]`` is True when
    no pixel of plateau i equals the data (|x*_j - x_j| > tol for all its pixels);
    ``free_pixels`` (length n) marks the pixels of free plateaus.
    """

    bounds: tuple
    free: np.ndarray
    free_pixels: np.ndarray


def plateaus(x_star, x, tol=1e-6):
    """The plateaus (maximal runs with D x* = 0) of a 1-D solution x*, and those with no pixel equal to the data x.

    For 1-D TV-L1 the limit (4.3) of delta_P^l lives exactly on the free plateaus (no pixel
    with x*_i = x_i), where it is the plateau's mean of e* = x* - y; each free plateau is one
    dimension of V_P ∩ ker(M_D K) and a direction in which the solution can slide (4C).

    Parameters
    ----------
    x_star : 1-D array, the solution; x : 1-D array of the same length, the data
    tol : float > 0, well above the solver's accuracy and well below the smallest jump:
        neighbours closer than tol lie on one plateau, pixels closer than tol to the data equal it

    Returns
    -------
    Plateaus

    Examples
    --------
    >>> p = plateaus(np.array([0., 0., 1., 1., 1., 0.5]), np.array([0.3, -0.2, 1., 2., 0., 0.]))
    >>> p.bounds, p.free.tolist()
    (((0, 2), (2, 5), (5, 6)), [True, False, True])
    """
    x_star = _validate.finite_array("x_star", x_star)
    if x_star.ndim != 1 or x_star.size == 0:
        raise ValueError(f"plateaus needs a non-empty 1-D x_star (a 1-D signal), got shape {x_star.shape}")
    x = _validate.finite_array("x", x, x_star.shape)
    tol = _validate.positive("tol", tol)
    cuts = np.flatnonzero(np.abs(np.diff(x_star)) > tol) + 1                      # jumps of x*: D x* != 0
    bounds = tuple(zip(np.r_[0, cuts].tolist(), np.r_[cuts, x_star.size].tolist()))  # maximal runs with D x* = 0
    free = np.array([np.all(np.abs(x_star[a:b] - x[a:b]) > tol) for a, b in bounds])
    free_pixels = np.repeat(free, [b - a for a, b in bounds])
    return Plateaus(bounds=bounds, free=free, free_pixels=free_pixels)
