"""When do the masks (4.1) settle? (docs/theory.md, section 4): the distance of the fixed point to a kink."""
from __future__ import annotations

import numpy as np

from .. import prox
from ._checks import _check_masked
from .settled_masks import _checked_fixed_point_arguments

__all__ = ["kink_margin"]


def _kink_distance(f, v, step):
    """Entrywise distance from v to the nearest jump of f.mask(., step) (inf where f.mask has none)."""
    if isinstance(f, prox.L1):
        return np.abs(np.abs(v) - step * f.weight)                   # soft thresholding: |v| = step * weight
    if isinstance(f, prox.ElasticL1):
        return np.abs(np.abs(v) - step * f.alpha)                    # soft thresholding, then shrinking (1.5)
    if isinstance(f, prox.Box):
        return np.minimum(np.abs(v - f.lower), np.abs(v - f.upper))  # clipping: v = lower or upper
    if isinstance(f, (prox.Zero, prox.SquaredL2)):                  # no kink: smooth prox
        return np.full(np.shape(v), np.inf)
    if isinstance(f, prox.L2Ball):                                   # projection (6.2): ||v|| = radius
        return np.broadcast_to(np.abs(f._norm(v) - f.radius), np.shape(v))
    if isinstance(f, prox.Conjugate):                                # mask(v, s) = ~f.mask(v / s, 1 / s)
        return step * _kink_distance(f.f, v / step, 1.0 / step)
    raise TypeError(f"kink_margin knows the kinks of L1, ElasticL1, Box, Zero, SquaredL2, L2Ball and the conjugates of these, "
                    f"got {f!r}")


def kink_margin(K, F, G, x, x_star, xi_star, *, tau, sigma):
    """The smallest distance of (z_P* - x, z_D*) to a kink of the masks (4.1): how nondegenerate the solution is.

    At the fixed point z_P* - x = x* - tau K^T xi* - x (2.3) and z_D* = xi* + sigma K x* (2.1).
    Every entry of z^l keeps its mask once it is closer to z* than this margin, so a positive
    margin (strict complementarity) makes the masks settle after a finite l_o, and a small one
    makes l_o late; a zero margin means a mask may keep flipping (section 4, "When do the
    masks settle?").

    Parameters
    ----------
    K, F, G, x : the problem (1.1); F* and G must have 0/1 prox derivatives (L1, Box, Zero,
        conjugates of these)
    x_star, xi_star : the primal-dual solution; tau, sigma : the step sizes

    Returns
    -------
    float
        min over entries of the distance to the nearest jump of prox'_{tau G} (at
        |z_P* - x| = tau * alpha for G = alpha ||.||_1) and of prox'_{sigma F*} (at
        |z_D*| = beta for F = beta ||.||_1); inf if neither has a kink.

    Examples
    --------
    >>> from cpteach import operators, prox
    >>> K = operators.Matrix(np.eye(2))
    >>> m = kink_margin(K, prox.L1(1.0), prox.L1(0.5), np.zeros(2), np.array([0.2, 0.]), np.array([0.8, 0.]),
    ...                 tau=0.5, sigma=0.5)   # |z_P* - x| = (0.2, 0) vs tau alpha = 0.25; |z_D*| = (0.9, 0) vs 1
    >>> round(m, 12)
    0.05
    """
    v_P, z_D = _checked_fixed_point_arguments(K, F, G, x, x_star, xi_star, tau, sigma)
    F_conj = F.conjugate()
    _check_masked(F_conj, G)
    return float(min(np.min(_kink_distance(G, v_P, tau)), np.min(_kink_distance(F_conj, z_D, sigma))))
