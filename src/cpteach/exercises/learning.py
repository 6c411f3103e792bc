"""Exercises of notebook 05, docs/theory.md section 6 (the numerical example): the projection onto the noise
ball (6.2) and its vector-Jacobian product.

Examples
--------
>>> ex = BallProjectionVJP()
>>> ex.check(lambda v, x, radius, w: w).outcome
<Outcome.INCORRECT: 'incorrect'>
"""
from __future__ import annotations

import numpy as np

from .. import prox
from ._framework import Exercise, as_array, call_student, compare, first_match

__all__ = ["BallProjection", "BallProjectionVJP", "ball_projection"]


def _project(v, x, radius):
    """The projection onto {u : ||u - x|| <= radius} by :class:`cpteach.prox.L2Ball` (6.2), centred at x."""
    return prox.L2Ball(radius).prox(v - x, 1.0) + x


def _ball_variant(v, x, radius, variant):
    """The projection with one known mistake (the checker's wrong answers)."""
    d = v if variant == "no shift" else v - x
    norm = {"spectral norm": np.linalg.norm(d, 2), "row norms": np.linalg.norm(d, axis=1, keepdims=True),
            "squared norm": np.linalg.norm(d) ** 2}.get(variant, np.linalg.norm(d))
    if variant == "always scale":
        return x + d * radius / norm
    if variant == "inverted factor":
        return x + d * min(1.0, norm / radius)
    if variant == "not normalised":
        return x + radius * d if norm > radius else v
    if variant == "no shift":
        return d * min(1.0, radius / norm)                   # centred at 0
    return x + d * np.minimum(1.0, radius / norm)            # the norm variants


class BallProjection(Exercise):
    """Implement the prox of G(u - x) in (6.1): the projection onto ||u - x|| <= radius,
    ``project(v, x, radius)``; v and x are 2-D arrays (images) and the norm runs over all entries."""

    name = "projection onto the noise ball"
    hint_text = ("Shift to the centre first: d = v - x. If d already lies in the ball, v is its own "
                 "projection; otherwise scale d along the ray from x until it touches the sphere (6.2). "
                 "The norm is over all entries of the image.")
    solution_code = """
def project(v, x, radius):
    d = v - x
    return x + d * min(1.0, radius / np.linalg.norm(d))   # (6.2), shifted to the centre x
"""
    shape_error_hint = ""
    _MESSAGES = {
        "always scale": "points inside the ball must stay where they are (min(1, ...)).",
        "squared norm": "the scaling factor uses ||v - x||, not its square.",
        "no shift": "the ball is centred at the data x, not at 0: project v - x and add x back.",
        "inverted factor": "the factor is radius / ||v - x|| (it shrinks d onto the sphere), not its inverse.",
        "not normalised": "outside the ball, divide d = v - x by its norm before scaling it to the radius.",
        "spectral norm": "np.linalg.norm(d, 2) of a 2-D array is the spectral norm (the largest singular "
                         "value); the ball uses the norm over all entries, np.linalg.norm(d).",
        "row norms": "you scaled each row by its own norm; the ball uses one norm over all entries of the image.",
    }

    def _diagnose(self, answer):
        rng = np.random.default_rng(5)
        x = rng.uniform(0, 1, (6, 6))
        radius = 1.5
        for scale, where in ((3.0, "outside"), (0.2, "inside")):
            v = x + scale * rng.standard_normal((6, 6))
            got = call_student(answer, v, x, radius, when=f"v lies {where} the ball")
            problem = compare(f"project(v, x, radius) for v {where} the ball", got, _project(v, x, radius))
            if problem is None:
                continue
            mistakes = [(_ball_variant(v, x, radius, variant), message) for variant, message in self._MESSAGES.items()]
            mistakes.append((x + 0 * v, "you returned the centre x: only points outside the ball move, and "
                                        "they move to the sphere, not to its centre."))
            mistakes.append((np.clip(v, x - radius, x + radius),
                             "you clipped each entry to [x - radius, x + radius]: that is the projection onto a "
                             "box. The ball {u : ||u - x|| <= radius} uses one norm over all entries: scale the "
                             "whole d = v - x by min(1, radius / ||d||)."))
            message = first_match(got, mistakes)
            if message is not None:
                return message
            got = as_array(got)
            if got is None or got.shape != x.shape:
                return problem
            if np.linalg.norm(got - x) > radius * (1 + 1e-6):
                return problem + " Your result lies outside the ball."
            return problem + " Your result is not the nearest point of the ball: move along v - x only."
        return None


def _vjp_variant(v, x, radius, w, variant):
    """The vector-Jacobian product (6.2) with one known mistake (the checker's wrong answers)."""
    d = v if variant == "wrong centre" else v - x
    norm = np.linalg.norm(d, 2) if variant == "spectral norm" else np.linalg.norm(d)
    if norm <= radius and variant != "no inside case":
        return w
    inner = np.sum(d * w)
    tangential = w - d * inner / norm ** 2                  # (I - d d^T / ||d||^2) w
    return {"no damping": tangential,
            "radial kept": radius / norm * w,
            "plus sign": radius / norm * (w + d * inner / norm ** 2),
            "unsquared": radius / norm * (w - d * inner / norm),
            "damping squared": radius / norm ** 2 * tangential,
            "matrix product": radius / norm * (w - d @ (d.T @ w) / norm ** 2),
            "projection returned": x + radius * d / norm,
            }.get(variant, radius / norm * tangential)      # "no inside case", "wrong centre", "spectral norm"


class BallProjectionVJP(Exercise):
    """Implement the vector-Jacobian product of the projection onto {u : ||u - x|| <= radius} (6.2):
    ``ball_vjp(v, x, radius, w)`` -> J(v)^T w, an array of the shape of v.

    With d = v - x: inside the ball (||d|| <= radius) the projection is the identity near v,
    so J^T w = w; outside it is x + radius d / ||d||, whose Jacobian
    (radius / ||d||)(I - d d^T / ||d||^2) is symmetric, so J^T w = J w. Norms and inner
    products run over all entries (v, x, w may be images). The checker's reference is
    independent of the formula: central finite differences of the projection
    (:class:`cpteach.prox.L2Ball`) along w.

    Use in a notebook::

        ex = exercises.BallProjectionVJP()
        def ball_vjp(v, x, radius, w):
            raise NotImplementedError     # your J(v)^T w
        ex.check(ball_vjp)
    """

    name = "the derivative of the ball projection (6.2)"
    hint_text = ("Two cases. Inside the ball the projection does not move v: what is its Jacobian? Outside it "
                 "maps v to x + radius d / ||d|| with d = v - x: differentiate d / ||d|| (the quotient rule "
                 "gives a factor 1/||d|| and removes the component of w along d). The Jacobian is symmetric.")
    solution_code = """
def ball_vjp(v, x, radius, w):
    d = v - x
    norm = np.linalg.norm(d)
    if norm <= radius:
        return w                                                     # inside: the identity
    return radius / norm * (w - d * np.sum(d * w) / norm**2)         # (6.2), J symmetric
"""
    _MESSAGES = {
        "no damping": "outside the ball the factor radius / ||v - x|| is missing: the projection shrinks "
                      "d = v - x onto the sphere, so its derivative shrinks by the same factor.",
        "no inside case": "inside the ball the projection is the identity (J^T w = w); your function applies "
                          "the outside formula there too.",
        "wrong centre": "the ball is centred at the data x: use d = v - x (for the inside test and the "
                        "formula), not v.",
        "radial kept": "outside the ball the component of w along d = v - x must be removed: moving v along d "
                       "does not move its projection.",
        "plus sign": "sign: the projector I - d d^T / ||d||^2 SUBTRACTS the component of w along d.",
        "unsquared": "the projector removes d <d, w> / ||d||^2: divide by the SQUARED norm.",
        "damping squared": "the damping factor is radius / ||d||, not radius / ||d||^2.",
        "matrix product": "d @ (d.T @ w) is a matrix product of images; the inner product <d, w> runs over all "
                          "entries: np.sum(d * w) (or np.vdot).",
        "projection returned": "you returned the projection itself; the exercise asks for its vector-Jacobian "
                               "product J(v)^T w.",
        "spectral norm": "np.linalg.norm(d, 2) of a 2-D array is the spectral norm (the largest singular "
                         "value); the ball uses the norm over all entries, np.linalg.norm(d).",
    }
    shape_error_hint = ""

    def _diagnose(self, answer):
        rng = np.random.default_rng(8)
        x = rng.uniform(0, 1, (5, 5))
        radius = 1.2
        for scale in (2.0, 0.1):                 # v outside (||v - x|| about 10), then inside (about 0.5)
            v = x + scale * rng.standard_normal((5, 5))
            w = rng.standard_normal((5, 5))
            where = "outside" if np.linalg.norm(v - x) > radius else "inside"
            got = call_student(answer, v, x, radius, w, when=f"v lies {where} the ball")
            h = 1e-6
            reference = (_project(v + h * w, x, radius) - _project(v - h * w, x, radius)) / (2 * h)
            problem = compare(f"ball_vjp for v {where} the ball", got, reference, rtol=1e-6, atol=1e-8)
            if problem is None:
                continue
            mistakes = [(_vjp_variant(v, x, radius, w, variant), message)
                        for variant, message in self._MESSAGES.items()]
            if where == "inside":
                mistakes.append((np.zeros_like(w), "inside the ball the projection is the identity (J = I), so "
                                                   "J^T w = w; your function returns 0 there."))
            message = first_match(got, mistakes, rtol=1e-6, atol=1e-8)
            if message is not None:
                return message
            got = as_array(got)
            if got is None or got.shape != v.shape:
                return problem
            if where == "inside":
                return (problem + " Inside the ball the projection is the identity near v (J = I): return w "
                                  "unchanged there.")
            return problem + " Differentiate x + radius d / ||d|| once more, entry by entry."
        return None


ball_projection = BallProjection()
