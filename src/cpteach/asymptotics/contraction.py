"""The rate of the backward pass (docs/theory.md, section 4D): one 2x2 block (4.8) per singular value of the
masked operator K_M; the rate is the largest spectral radius of the blocks, at theta = 1 the closed form (4.9)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..chambolle_pock import check_steps
from .masked import _check_masks, _masked_matrix

__all__ = ["ContractionRate", "contraction_rate"]


@dataclass(frozen=True)
class ContractionRate:
    """The rate (4.9) of the backward pass once the masks have settled.

    ``singular_values`` are those of the matrix of K_M = M_D K M_P (:func:`masked_operator`),
    descending, zeros included; ``s_min`` is the smallest non-zero one (relative threshold
    ``rtol``) and ``rank`` how many are non-zero (the rank of K_M); ``rho`` is the largest spectral radius of the 2x2 blocks (4.8) at ``theta``, by
    which the adjoints decay per backward step: sqrt(1 - sigma tau s_min^2) (4.9) at theta = 1.
    """

    singular_values: np.ndarray
    s_min: float
    rank: int
    rho: float
    theta: float


def _block_radius(gamma, theta):
    """Spectral radius of the 2x2 block (4.8), from its trace and determinant, for each gamma_i = sigma tau s_i^2."""
    det, trace = 1 - theta * gamma, 2 - (1 + theta) * gamma                             # (4.8)
    disc = trace**2 - 4 * det
    real = np.abs(trace) / 2 + np.sqrt(np.maximum(disc, 0.0)) / 2                       # real eigenvalues
    return np.where(disc < 0, np.sqrt(det), real)                                       # complex: |w| = sqrt(det)


def contraction_rate(K, M_P, M_D, *, tau, sigma, theta=1.0, rtol=1e-10):
    """The contraction rate of the backward pass with masks M_P, M_D: (4.9) rho = sqrt(1 - sigma tau s_min^2) at theta = 1.

    After l_o the backward pass is Chambolle-Pock on the masked operator K_M = M_D K M_P with
    the roles swapped (4.7); each singular value s_i of K_M gives a 2x2 block (4.8) with
    gamma_i = sigma tau s_i^2, determinant 1 - theta gamma_i and trace 2 - (1 + theta) gamma_i.
    The rate is the largest spectral radius of the blocks. At theta = 1 the eigenvalues are
    complex with modulus sqrt(1 - gamma_i), so the slowest block is the one at the smallest
    non-zero singular value (4.9); for theta < 1 every block is slower (modulus at least
    sqrt(1 - theta gamma_i)), and at theta = 0 the rate is 1. (Directions with s_i = 0 are
    the kernels of (4.3): they do not decay, and do not count here.)

    Parameters
    ----------
    K : operator; M_P, M_D : bool masks (4.1) of shapes K.shape_in, K.shape_out
    tau, sigma : step sizes with tau sigma ||K||^2 < 1
    theta : the extrapolation of the run, in [0, 1] (default 1, the rate (4.9))
    rtol : singular values <= rtol * the largest count as zero

    Returns
    -------
    ContractionRate

    Examples
    --------
    >>> from cpteach import operators
    >>> K = operators.Matrix(np.diag([2.0, 1.0, 0.0]))
    >>> r = contraction_rate(K, np.ones(3, bool), np.ones(3, bool), tau=0.25, sigma=0.25)
    >>> r.s_min, round(r.rho, 6)                       # sqrt(1 - 0.0625)
    (1.0, 0.968246)
    >>> round(contraction_rate(K, np.ones(3, bool), np.ones(3, bool), tau=0.25, sigma=0.25, theta=0.5).rho, 6)
    0.984251
    """
    M_P, M_D = _check_masks(K, M_P, M_D, "contraction_rate")
    tau, sigma, theta = check_steps(K, tau, sigma, theta)
    rtol = _validate.positive("rtol", rtol)
    singular_values = np.linalg.svd(_masked_matrix(K, M_P, M_D), compute_uv=False)
    nonzero = singular_values[singular_values > rtol * singular_values.max()] if singular_values.size else []
    if len(nonzero) == 0:
        raise ValueError("the masked operator M_D K M_P is zero (no non-zero singular value), so (4.9) is undefined; "
                         "check the masks (M_P, M_D should come from asymptotics.masks or solution_masks)")
    rho = float(_block_radius(sigma * tau * nonzero**2, theta).max())                  # (4.8), (4.9) at theta = 1
    return ContractionRate(singular_values=singular_values, s_min=float(nonzero.min()), rank=len(nonzero), rho=rho,
                           theta=theta)
