"""Notebook 05's exercises (theory section 6), student code written from the mathematics: correct answers in
several forms (CORRECT) and typical mistakes with the words their message must contain (MISTAKES);
tests/test_exercises_tally.py runs them against the checkers."""
import numpy as np

from cpteach import exercises, prox



# ---- the projection onto the noise ball ------------------------------------------------------

def _proj(v, x, r, *, norm=np.linalg.norm, centre=True, factor=lambda n, r: min(1.0, r / n)):
    d = v - x if centre else v
    return (x if centre else 0.0) + d * factor(norm(d), r)


def _proj_branches(v, x, radius):
    d = v - x
    n = np.sqrt(np.sum(d ** 2))
    if n <= radius:
        return v
    return x + radius * d / n


def _proj_inplace(v, x, radius):
    v -= x
    v *= min(1.0, radius / np.linalg.norm(v))
    v += x
    return v


def _proj_float32(v, x, radius):
    v, x = v.astype(np.float32), x.astype(np.float32)
    return _proj(v, x, np.float32(radius))


def _proj_missing_else(v, x, radius):  # noqa: RET503 (the student forgot the other branch)
    d = v - x
    if np.linalg.norm(d) > radius:
        return x + radius * d / np.linalg.norm(d)


def _proj_unnormalised(v, x, radius):
    d = v - x
    return x + radius * d if np.linalg.norm(d) > radius else v


BALL_CORRECT = [
    ("min factor", lambda v, x, r: _proj(v, x, r)),
    ("two branches", _proj_branches),
    ("in place", _proj_inplace),
    ("float32", _proj_float32),
    ("max in the denominator", lambda v, x, r: x + (v - x) / max(1.0, np.linalg.norm(v - x) / r)),
    ("library", lambda v, x, r: prox.L2Ball(r).prox(v - x, 1.0) + x),
]
BALL_MISTAKES = [
    ("always scale", lambda v, x, r: _proj(v, x, r, factor=lambda n, r: r / n), "must stay where they are"),
    ("squared norm", lambda v, x, r: _proj(v, x, r, norm=lambda d: np.sum(d ** 2)), "not its square"),
    ("centred at 0", lambda v, x, r: _proj(v, x, r, centre=False), "centred at the data x"),
    ("inverted factor", lambda v, x, r: _proj(v, x, r, factor=lambda n, r: min(1.0, n / r)), "not its inverse"),
    ("not normalised", _proj_unnormalised, "divide d = v - x by its norm"),
    ("spectral norm", lambda v, x, r: _proj(v, x, r, norm=lambda d: np.linalg.norm(d, 2)), "spectral norm"),
    ("row norms", lambda v, x, r: _proj(v, x, r, norm=lambda d: np.linalg.norm(d, axis=1, keepdims=True),
                                        factor=lambda n, r: np.minimum(1.0, r / n)), "each row"),
    ("missing else", _proj_missing_else, "returns None when v lies inside the ball"),
    ("returns x", lambda v, x, r: x.copy(), "centre x"),
    ("clipped to a box", lambda v, x, r: np.clip(v, x - r, x + r), "box"),
]


# ---- its vector-Jacobian product (6.2) ---------------------------------------------------------

def _vjp(v, x, r, w, *, centre=True, inside=True, damp=lambda r, n: r / n, sign=-1, power=2,
         inner=lambda d, w: np.sum(d * w), norm=np.linalg.norm):
    d = v - x if centre else v
    n = norm(d)
    if inside and n <= r:
        return w
    return damp(r, n) * (w + sign * d * inner(d, w) / n ** power)


def _vjp_inplace(v, x, radius, w):
    v -= x
    n = np.linalg.norm(v)
    if n > radius:
        w -= v * np.vdot(v, w) / n ** 2
        w *= radius / n
    return w


def _vjp_matrix(v, x, radius, w):
    d = (v - x).ravel()
    n = np.linalg.norm(d)
    J = np.eye(d.size) if n <= radius else radius / n * (np.eye(d.size) - np.outer(d, d) / n ** 2)
    return (J.T @ w.ravel()).reshape(w.shape)


def _vjp_float32(v, x, radius, w):
    return _vjp(v.astype(np.float32), x.astype(np.float32), np.float32(radius), w.astype(np.float32))


def _vjp_missing_else(v, x, radius, w):  # noqa: RET503 (the student forgot the other branch)
    d = v - x
    n = np.linalg.norm(d)
    if n > radius:
        return radius / n * (w - d * np.sum(d * w) / n ** 2)


VJP_CORRECT = [
    ("formula", lambda *a: _vjp(*a)),
    ("library", lambda v, x, r, w: prox.L2Ball(r).prox_vjp(v - x, 1.0, w)),
    ("in place, vdot", _vjp_inplace),
    ("explicit Jacobian", _vjp_matrix),
    ("float32", _vjp_float32),
]
VJP_MISTAKES = [
    ("no damping", lambda *a: _vjp(*a, damp=lambda r, n: 1.0), "factor radius / ||v - x|| is missing"),
    ("no inside case", lambda *a: _vjp(*a, inside=False), "inside the ball the projection is the identity"),
    ("centred at 0", lambda *a: _vjp(*a, centre=False), "centred at the data x"),
    ("radial kept", lambda *a: _vjp(*a, sign=0), "component of w along d"),
    ("plus sign", lambda *a: _vjp(*a, sign=1), "SUBTRACTS"),
    ("unsquared", lambda *a: _vjp(*a, power=1), "SQUARED norm"),
    ("damping squared", lambda *a: _vjp(*a, damp=lambda r, n: r / n ** 2), "not radius / ||d||^2"),
    ("matrix product", lambda *a: _vjp_matrix_product(*a), "matrix product"),
    ("projection returned", lambda v, x, r, w: x + r * (v - x) / np.linalg.norm(v - x), "projection itself"),
    ("spectral norm", lambda *a: _vjp(*a, norm=lambda d: np.linalg.norm(d, 2)), "spectral norm"),
    ("missing else", _vjp_missing_else, "returns None when v lies inside the ball"),
    ("0 inside", lambda v, x, r, w: _vjp(v, x, r, w) if np.linalg.norm(v - x) > r else np.zeros_like(w),
     "the projection is the identity (J = I)"),
    ("w / 2 inside", lambda v, x, r, w: _vjp(v, x, r, w) if np.linalg.norm(v - x) > r else w / 2,
     "the projection is the identity near v (J = I)"),
]


def _vjp_matrix_product(v, x, radius, w):
    d = v - x
    n = np.linalg.norm(d)
    if n <= radius:
        return w
    return radius / n * (w - d @ (d.T @ w) / n ** 2)


CASES = [(exercises.ball_projection, BALL_CORRECT, BALL_MISTAKES),
         (exercises.BallProjectionVJP(), VJP_CORRECT, VJP_MISTAKES)]
