"""Proximal maps with their derivatives and conjugates (docs/theory.md, sections 2-3: (2.2), (2.4), (2.6), (3.2)-(3.3)).

Every function ``f`` below offers

- ``f(v)``: the function value (``inf`` outside the domain of an indicator),
- ``f.prox(v, step)``: :math:`\\operatorname{prox}_{step\\, f}(v) = \\operatorname{argmin}_u \\tfrac12\\|u - v\\|^2 + step\\, f(u)`,
- ``f.prox_vjp(v, step, w)``: :math:`J_{\\operatorname{prox}_{step f}}(v)^\\top w` (the
  symbol :math:`\\operatorname{prox}'(v) \\odot w` of docs/theory.md, eq. (3.2)-(3.3)),
- ``f.prox_derivative(v, step)``: the derivative prox' at v, or at every row v[l] of a stack at once,
  as a :class:`ProxDerivative` (the Jacobians Gamma^l of (3.7)); ``prox_vjp`` applies it,
- ``f.conjugate()``: the convex conjugate :math:`f^*`, whose prox is obtained from
  ``f.prox`` by Moreau's identity (2.6),
- ``f.mask(v, step)``: the 0/1 derivative of the prox as a boolean array, for maps
  whose derivative is 0/1 (``has_mask``; used by the asymptotic analysis, eq. (4.1)).

Entrywise maps (all but :class:`L2Ball` and its conjugate) have a diagonal derivative: their
``prox_derivative`` holds the diagonal, a boolean mask M or a float array, computed for a whole
stack in one numpy call; the ball's is applied row by row with ``prox_vjp``.

:func:`check_function` is the argument check of every public function that takes F or G.

References
----------
A. Chambolle, T. Pock, J. Math. Imaging Vis. 40 (2011); N. Parikh, S. Boyd,
*Proximal Algorithms* (2014), for the closed forms.
"""
from __future__ import annotations

import numpy as np

from . import _validate

__all__ = ["ProxFunction", "ProxDerivative", "L1", "SquaredL2", "ElasticL1", "L2Ball", "Box", "Zero", "Conjugate",
           "check_function"]


class ProxDerivative:
    """The derivative prox'_{step f} at an argument v, or at every row v[l] of a stack v (leading axis l).

    In the backward pass these are Gamma_P^l = prox'_{tau G}(z_P^l - x) and Gamma_D^l =
    prox'_{sigma F*}(z_D^l) of (3.2)-(3.3), (3.7), for all l at once:
    ``G.prox_derivative(trace.z_P_all - x, tau)``. Get one from :meth:`ProxFunction.prox_derivative`.

    - ``vjp(w)``: J_{prox_{step f}}(v)^T w, and ``vjp(w, l)`` the same at the row v[l] (the symbol
      prox'(v[l]) ⊙ w of docs/theory.md; prox Jacobians are symmetric);
    - ``diagonal``: for an entrywise prox, the array (shape of v) of the Jacobians' diagonals, boolean
      where they are 0/1 (the masks M_P, M_D of (4.1)); None where the Jacobian is not diagonal
      (:class:`L2Ball`), whose ``vjp`` calls ``prox_vjp`` row by row.

    Examples
    --------
    >>> Gamma = L1(1.0).prox_derivative(np.array([[-2.0, 0.5], [0.2, 3.0]]), 1.0)   # rows l = 0, 1
    >>> Gamma.diagonal
    array([[ True, False],
           [False,  True]])
    >>> Gamma.vjp(np.array([5.0, 7.0]), 1)
    array([0., 7.])
    """

    diagonal = None

    def vjp(self, w, l=None):
        raise NotImplementedError

    def complement(self):
        """I - prox', the derivative of Moreau's identity (2.6) (for :class:`Conjugate`)."""
        return _ComplementDerivative(self)


class _DiagonalDerivative(ProxDerivative):
    """prox' of an entrywise prox: the diagonal, for v or a whole stack, from one numpy expression."""

    def __init__(self, diagonal):
        self.diagonal = diagonal

    def vjp(self, w, l=None):
        return w * (self.diagonal if l is None else self.diagonal[l])       # prox'(v) ⊙ w, (3.2)-(3.3)

    def complement(self):
        d = self.diagonal
        return _DiagonalDerivative(~d if d.dtype == bool else 1.0 - d)     # I - prox' of (2.6), diagonal


class _ComplementDerivative(ProxDerivative):
    """I - J of a non-diagonal derivative J (Moreau's identity (2.6) differentiated), applied as w - J^T w."""

    def __init__(self, inner):
        self.inner = inner

    def vjp(self, w, l=None):
        return w - self.inner.vjp(w, l)                                     # I - prox' of (2.6)


class _RowwiseDerivative(ProxDerivative):
    """prox' of a prox that is not entrywise: ``f.prox_vjp`` at v, or at v[l]."""

    def __init__(self, f, v, step):
        self.f, self.v, self.step = f, v, step

    def vjp(self, w, l=None):
        return self.f.prox_vjp(self.v if l is None else self.v[l], self.step, w)


class ProxFunction:
    """Base class: a closed convex function with a computable proximal map.

    A subclass implements ``prox`` and either ``prox_derivative`` (``entrywise`` maps: the diagonal of
    the Jacobian) or ``prox_vjp`` (the others); each is derived from the other here.
    """

    has_mask = False   # True where the prox derivative is a 0/1 diagonal
    entrywise = False  # True where prox acts entry by entry: on a stack of arguments it is the stack of proxes

    def __call__(self, v):
        raise NotImplementedError

    def prox(self, v, step):
        raise NotImplementedError

    def prox_vjp(self, v, step, w):
        """J_{prox_{step f}}(v)^T w, the symbol prox'(v) ⊙ w of (3.2)-(3.3)."""
        return self.prox_derivative(v, step).vjp(w)

    def prox_derivative(self, v, step):
        """The derivative prox'_{step f} at v as a :class:`ProxDerivative`; also at every row v[l] of a stack.

        For a stack v of shape (L, ...) (e.g. ``trace.z_D_all``) ``prox_derivative(v, step).vjp(w, l)``
        equals ``prox_vjp(v[l], step, w)``; for an ``entrywise`` prox the whole stack's derivative is one
        numpy expression, its ``diagonal``, so that the backward pass multiplies instead of calling
        ``prox_vjp`` L times; for the others ``vjp`` calls ``prox_vjp`` at v[l].
        """
        if type(self).prox_vjp is ProxFunction.prox_vjp:
            raise NotImplementedError(f"{type(self).__name__} implements neither prox_derivative nor prox_vjp")
        return _RowwiseDerivative(self, v, step)

    def conjugate(self):
        """The convex conjugate f*, its prox via Moreau's identity (2.6)."""
        return Conjugate(self)

    def conjugate_value(self, v):
        """Value of the convex conjugate f*(v) in closed form."""
        raise NotImplementedError

    def mask(self, v, step):
        """0/1 derivative of ``prox(., step)`` at ``v`` as a boolean array (the masks M_P, M_D of (4.1))."""
        if not self.has_mask:
            raise TypeError(
                f"{type(self).__name__}'s prox derivative is not a 0/1 mask; "
                "use prox_vjp for its vector-Jacobian product")
        return self.prox_derivative(v, step).diagonal


class L1(ProxFunction):
    """f(v) = weight * ||v||_1; its prox is soft thresholding.

    Examples
    --------
    >>> L1(weight=1.0).prox(np.array([-2.0, 0.5, 3.0]), 1.0)
    array([-1.,  0.,  2.])
    """

    entrywise = True

    has_mask = True

    def __init__(self, weight=1.0):
        self.weight = _validate.positive("weight", weight)

    def __repr__(self):
        return f"L1(weight={self.weight})"

    def __call__(self, v):
        return self.weight * np.abs(v).sum()

    def prox(self, v, step):
        t = step * self.weight
        return v - np.clip(v, -t, t)  # soft thresholding sign(v) max(|v| - t, 0)

    def prox_derivative(self, v, step):
        return _DiagonalDerivative(np.abs(v) > step * self.weight)     # 1 where soft thresholding passes v on

    def conjugate_value(self, v):
        return 0.0 if np.all(np.abs(v) <= self.weight * (1 + 1e-12)) else np.inf

    def conjugate(self):
        """f* = the indicator of the box [-weight, weight]; its prox is one clip instead of Moreau's (2.6)."""
        return Box(-self.weight, self.weight)


class SquaredL2(ProxFunction):
    """f(v) = 0.5 * weight * ||v||^2; its prox is the shrinkage v / (1 + step*weight)."""

    entrywise = True

    def __init__(self, weight=1.0):
        self.weight = _validate.positive("weight", weight)

    def __repr__(self):
        return f"SquaredL2(weight={self.weight})"

    def __call__(self, v):
        return 0.5 * self.weight * np.sum(np.square(v))

    def prox(self, v, step):
        return v / (1.0 + step * self.weight)

    def prox_derivative(self, v, step):
        return _DiagonalDerivative(np.broadcast_to(1.0 / (1.0 + step * self.weight), np.shape(v)))   # constant

    def conjugate_value(self, v):
        return 0.5 / self.weight * np.sum(np.square(v))


class ElasticL1(ProxFunction):
    """f(v) = alpha ||v||_1 + eps/2 ||v||^2, the strongly convex data term of the remedy (1.5).

    Its prox is soft thresholding followed by the shrinkage 1 / (1 + step eps); its derivative,
    M_P / (1 + step eps), is not a 0/1 mask (so ``mask`` is refused).

    Examples
    --------
    >>> ElasticL1(alpha=1.0, eps=1.0).prox(np.array([-3.0, 0.5, 3.0]), 1.0)
    array([-1.,  0.,  1.])
    """

    entrywise = True

    def __init__(self, alpha=1.0, eps=0.01):
        self.alpha = _validate.positive("alpha", alpha)
        self.eps = _validate.positive("eps", eps)

    def __repr__(self):
        return f"ElasticL1(alpha={self.alpha}, eps={self.eps})"

    def __call__(self, v):
        return self.alpha * np.abs(v).sum() + 0.5 * self.eps * np.sum(np.square(v))

    def prox(self, v, step):
        t = step * self.alpha
        return (v - np.clip(v, -t, t)) / (1.0 + step * self.eps)    # soft thresholding, then shrinking

    def prox_derivative(self, v, step):
        return _DiagonalDerivative((np.abs(v) > step * self.alpha) / (1.0 + step * self.eps))  # M_P / (1 + step eps)

    def conjugate_value(self, v):
        return np.sum(np.maximum(np.abs(v) - self.alpha, 0.0) ** 2) / (2.0 * self.eps)


class L2Ball(ProxFunction):
    """Indicator of the ball ||v||_2 <= radius; its prox is the projection (6.2).

    Parameters
    ----------
    radius : float
        Ball radius (in the numerical example ``noise_level * sqrt(#pixels)``).
    axis : None or tuple of int
        Axes over which the norm is taken. ``None`` (default) uses the whole array;
        for a batch of images of shape (m, n1, n2) pass ``axis=(-2, -1)`` so that each
        image gets its own ball.
    """

    def __init__(self, radius, axis=None):
        self.radius = _validate.positive("radius", radius)
        self.axis = axis

    def __repr__(self):
        return f"L2Ball(radius={self.radius}, axis={self.axis})"

    def _norm(self, v):
        return np.sqrt(np.sum(np.square(v), axis=self.axis, keepdims=True))

    def __call__(self, v):
        return 0.0 if np.all(self._norm(v) <= self.radius * (1 + 1e-9)) else np.inf

    def prox(self, v, step):
        nv = self._norm(v)
        return v * np.minimum(1.0, self.radius / np.maximum(nv, 1e-300))  # (6.2)

    def prox_vjp(self, v, step, w):
        nv = self._norm(v)
        outside = nv > self.radius
        nv = np.where(outside, nv, 1.0)  # only the projected samples use the formula
        vw = np.sum(v * w, axis=self.axis, keepdims=True)
        projected = self.radius / nv * (w - v * vw / nv**2)  # (6.2), Jacobian is symmetric
        return np.where(outside, projected, w)

    def conjugate_value(self, v):
        return self.radius * np.sum(self._norm(v))


class Box(ProxFunction):
    """Indicator of lower <= v <= upper (elementwise); its prox is clipping."""

    entrywise = True

    has_mask = True

    def __init__(self, lower=-1.0, upper=1.0):
        lower, upper = _validate.real("lower", lower), _validate.real("upper", upper)
        if not lower < upper:
            raise ValueError(f"Box needs lower < upper, got lower={lower}, upper={upper}")
        self.lower, self.upper = lower, upper

    def __repr__(self):
        return f"Box(lower={self.lower}, upper={self.upper})"

    def __call__(self, v):
        tol = 1e-12 * max(1.0, abs(self.lower), abs(self.upper))
        inside = np.all((v >= self.lower - tol) & (v <= self.upper + tol))
        return 0.0 if inside else np.inf

    def prox(self, v, step):
        return np.clip(v, self.lower, self.upper)

    def prox_derivative(self, v, step):
        return _DiagonalDerivative((v >= self.lower) & (v <= self.upper))   # 1 where clipping passes v on

    def conjugate_value(self, v):
        return np.sum(self.upper * np.maximum(v, 0) + self.lower * np.minimum(v, 0))


class Zero(ProxFunction):
    """f(v) = 0; its prox is the identity."""

    entrywise = True

    has_mask = True

    def __repr__(self):
        return "Zero()"

    def __call__(self, v):
        return 0.0

    def prox(self, v, step):
        return np.array(v, dtype=float, copy=True)

    def prox_derivative(self, v, step):
        return _DiagonalDerivative(np.ones(np.shape(v), dtype=bool))        # the identity

    def conjugate_value(self, v):
        return 0.0 if np.all(np.abs(v) <= 1e-12) else np.inf


class Conjugate(ProxFunction):
    """The convex conjugate f* of ``f``; prox by Moreau's identity (2.6).

    .. math:: \\operatorname{prox}_{\\sigma f^*}(v) = v - \\sigma \\operatorname{prox}_{f/\\sigma}(v/\\sigma)

    Example: ``Conjugate(L1()).prox(v, sigma)`` is clipping to [-1, 1] (``L1().conjugate()``
    returns that box directly).
    """

    def __init__(self, f):
        if not isinstance(f, ProxFunction):
            raise TypeError(f"Conjugate expects a cpteach.prox function, got {type(f).__name__}")
        self.f = f
        self.has_mask, self.entrywise = f.has_mask, f.entrywise

    def __repr__(self):
        return f"{self.f!r}.conjugate()"

    def __call__(self, v):
        return self.f.conjugate_value(v)

    def conjugate(self):
        return self.f  # f** = f for closed convex f

    def conjugate_value(self, v):
        return self.f(v)

    def prox(self, v, step):
        return v - step * self.f.prox(v / step, 1.0 / step)  # (2.6)

    def prox_derivative(self, v, step):
        return self.f.prox_derivative(v / step, 1.0 / step).complement()    # derivative of (2.6): I - prox'_{f/step}


def check_function(name, f):
    """f must be one of cpteach.prox (a :class:`ProxFunction`); returns f."""
    if not isinstance(f, ProxFunction):
        raise TypeError(f"{name} must be a cpteach.prox function (e.g. prox.L1()), got {type(f).__name__}")
    return f
