"""Symbolic (sympy) derivation of the backward pass for notebook 02.

The proximal maps are left *abstract*: ``p_G`` stands for prox_{tau G} and ``p_F`` for
prox_{sigma F*}, applied entrywise, and sympy only knows that their derivatives are
``p_G'`` and ``p_F'``. Unrolling L steps of (2.1)-(2.5) for a small symbolic K and
differentiating the loss 0.5||y - x^L||^2 with sympy's own chain rule must then give
exactly the hand-derived recursion (3.0)-(3.4) of docs/theory.md, for *any* entrywise
prox maps.

Examples
--------
>>> check_backprop_formula(L=2, n=2, k=1)
True
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from . import _validate

__all__ = ["entrywise_prox", "SymbolicUnroll", "unroll", "autodiff_gradient", "hand_gradient",
           "gradient_difference", "check_backprop_formula", "one_step_jacobian"]


def entrywise_prox(name):
    """An undefined sympy function ``name`` whose derivative is the function ``name'``.

    Returns ``(prox, prime)``: sympy's chain rule turns d/dt prox(u(t)) into
    prime(u(t)) * u'(t), the symbol prox'(z) of (3.2)-(3.3).

    Examples
    --------
    >>> p, dp = entrywise_prox("p")
    >>> t = sp.Symbol("t")
    >>> sp.diff(p(t**2), t)
    2*t*p'(t**2)
    """
    prime = sp.Function(name + "'")

    def fdiff(self, argindex=1):
        return prime(self.args[0])

    return type(name, (sp.Function,), {"fdiff": fdiff}), prime


@dataclass(frozen=True)
class SymbolicUnroll:
    """L symbolic CP steps (2.0)-(2.5): lists indexed like docs/theory.md.

    ``x[l]``, ``x_bar[l]``, ``xi[l]`` for l = 0..L; ``z_P[l]``, ``z_D[l]`` for l = 1..L
    (index 0 holds None). ``K`` is the k x n matrix of symbols ``K_ij``, ``data`` the
    symbols of x, ``y`` of the ground truth; ``loss`` = 0.5||y - x^L||^2.
    """

    K: sp.Matrix
    data: sp.Matrix
    y: sp.Matrix
    tau: sp.Symbol
    sigma: sp.Symbol
    theta: sp.Symbol
    prox_G: type
    prox_G_prime: type
    prox_F_conj: type
    prox_F_conj_prime: type
    x: list
    x_bar: list
    xi: list
    z_P: list
    z_D: list
    loss: sp.Expr

    @property
    def L(self):
        return len(self.x) - 1


def unroll(L=2, n=2, k=2):
    """Unroll L symbolic CP steps (2.1)-(2.5) for a k x n symbolic K and abstract prox maps.

    Examples
    --------
    >>> u = unroll(L=1, n=1, k=1)
    >>> u.x[1][0]
    x_0 + p_G(-K_00*tau*p_F(K_00*sigma*x_0))
    """
    L, n, k = (_validate.integer(name, value, 1, "keep it small: 1-3") for name, value in (("L", L), ("n", n), ("k", k)))
    K = sp.Matrix(k, n, lambda i, j: sp.Symbol(f"K_{i}{j}"))
    data = sp.Matrix(n, 1, lambda i, j: sp.Symbol(f"x_{i}"))
    y = sp.Matrix(n, 1, lambda i, j: sp.Symbol(f"y_{i}"))
    tau, sigma, theta = sp.symbols("tau sigma theta", positive=True)
    prox_G, prox_G_prime = entrywise_prox("p_G")       # prox_{tau G}
    prox_F, prox_F_prime = entrywise_prox("p_F")       # prox_{sigma F*}
    x, x_bar, xi = [data], [data], [sp.zeros(k, 1)]    # (2.0), erratum: x^0 = x
    z_P, z_D = [None], [None]
    for l in range(L):
        z_D.append(xi[l] + sigma * K * x_bar[l])                        # (2.1)
        xi.append(z_D[l + 1].applyfunc(prox_F))                         # (2.2)
        z_P.append(x[l] - tau * K.T * xi[l + 1])                        # (2.3)
        x.append((z_P[l + 1] - data).applyfunc(prox_G) + data)          # (2.4)
        x_bar.append(x[l + 1] + theta * (x[l + 1] - x[l]))              # (2.5)
    residual = y - x[L]
    loss = sp.Rational(1, 2) * (residual.T * residual)[0, 0]
    return SymbolicUnroll(K, data, y, tau, sigma, theta, prox_G, prox_G_prime, prox_F, prox_F_prime,
                          x, x_bar, xi, z_P, z_D, loss)


def autodiff_gradient(u):
    """d loss / d K by sympy's chain rule (no hand derivation): a k x n Matrix."""
    return u.K.applyfunc(lambda K_ij: sp.diff(u.loss, K_ij))


def hand_gradient(u):
    """d loss / d K by the hand-derived recursion (3.0)-(3.4): a k x n Matrix.

    The symbolic twin of :func:`cpteach.backprop`; prox' is the abstract derivative.
    """
    K, tau, sigma, theta, L = u.K, u.tau, u.sigma, u.theta, u.L
    delta_P = u.x[L] - u.y                                             # (3.0)
    delta_D = delta_D_next = sp.zeros(K.rows, 1)                       # (3.0)
    grad = sp.zeros(K.rows, K.cols)
    for l in range(L, 0, -1):
        delta_D_bar = delta_D + theta * (delta_D - delta_D_next)                             # (3.1)
        prime_P = (u.z_P[l] - u.data).applyfunc(u.prox_G_prime)
        delta_P = sp.matrix_multiply_elementwise(prime_P, delta_P + sigma * K.T * delta_D_bar)  # (3.2)
        prime_D = u.z_D[l].applyfunc(u.prox_F_conj_prime)
        delta_D, delta_D_next = sp.matrix_multiply_elementwise(prime_D, delta_D - tau * K * delta_P), delta_D  # (3.3)
        grad += sigma * delta_D * u.x_bar[l - 1].T - tau * u.xi[l] * delta_P.T              # (3.4)
    return grad


def gradient_difference(u):
    """autodiff_gradient(u) - hand_gradient(u), expanded: the zero matrix when (3.0)-(3.4) hold."""
    return (autodiff_gradient(u) - hand_gradient(u)).applyfunc(sp.expand)


def check_backprop_formula(L=2, n=2, k=2):
    """True if sympy's derivative of the unrolled loss equals (3.0)-(3.4) identically.

    The check is symbolic in K, x, y, tau, sigma, theta and in the prox maps. Keep the
    sizes small: (L, n, k) = (3, 1, 1) or (2, 2, 1) take under a second, (2, 2, 2) a
    few seconds, and the cost explodes beyond.
    """
    return gradient_difference(unroll(L, n, k)).is_zero_matrix is True


def one_step_jacobian():
    """Jacobian of one scalar CP step (x^l, x_bar^l, xi^l) -> (x^{l+1}, xi^{l+1}).

    For n = k = 1 (K a scalar symbol ``K``) with abstract prox maps; the entries are
    the local derivatives that the chain rule strings together in (3.1)-(3.3).
    Returns ``(J, inputs, outputs)`` with J a 2 x 3 sympy Matrix.

    Examples
    --------
    >>> J, inputs, outputs = one_step_jacobian()
    >>> J.shape
    (2, 3)
    """
    x_l, x_bar, xi, data, K = sp.symbols("x^l xbar^l xi^l x K")
    tau, sigma = sp.symbols("tau sigma", positive=True)
    prox_G, _ = entrywise_prox("p_G")
    prox_F, _ = entrywise_prox("p_F")
    z_D = xi + sigma * K * x_bar                  # (2.1)
    xi_next = prox_F(z_D)                         # (2.2)
    z_P = x_l - tau * K * xi_next                 # (2.3)
    x_next = prox_G(z_P - data) + data            # (2.4)
    outputs = sp.Matrix([x_next, xi_next])
    inputs = sp.Matrix([x_l, x_bar, xi])
    return outputs.jacobian(inputs), inputs, outputs
