"""Exercises for the notebooks, with checkers that say what is wrong.

Each exercise is an object (in the style of Kaggle's learntools) with

- ``check(answer)``: returns a :class:`CheckResult` (truthy when correct) whose text
  says *correct*, *not attempted yet* (``None``, ``NotImplemented``, or a function
  that raises ``NotImplementedError``) or *incorrect*, pointing at the mistake
  without giving the answer away;
- ``hint()``: a :class:`Message` with a nudge;
- ``solution()``: a :class:`Message` with a reference solution.

Checkers compare with float tolerances on seeded random inputs and recognise common
mistakes by evaluating known wrong variants on the same inputs.

Examples
--------
>>> result = prox_l1.check(None)
>>> result.status
'not attempted'
>>> bool(prox_l1.check(lambda v, step: v))
False
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from . import operators, prox
from .asymptotics import projection_limit
from .backprop import backprop
from .chambolle_pock import chambolle_pock
from .fixed_point import fixed_point_closed_form

__all__ = ["CheckResult", "Message", "Exercise", "prox_l1", "prox_conjugate_l1", "cp_step",
           "backward_step", "gradient_sum", "delta_P_limit", "one_step_gradient",
           "ball_projection"]

_RTOL, _ATOL = 1e-7, 1e-9


@dataclass(frozen=True)
class Message:
    """A text shown in the notebook as Markdown (hints and solutions)."""

    title: str
    text: str

    def __str__(self):
        return f"{self.title}: {self.text}"

    def _repr_markdown_(self):
        return f"**{self.title}.** {self.text}"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of ``Exercise.check``: ``status`` is 'correct', 'incorrect' or 'not attempted'."""

    status: str
    message: str

    def __bool__(self):
        return self.status == "correct"

    def __str__(self):
        return f"{self.status.upper()}: {self.message}"

    __repr__ = __str__

    def _repr_html_(self):
        colour = {"correct": "#1a7f37", "incorrect": "#c00000"}.get(self.status, "#9a6700")
        return f"<b style='color:{colour}'>{self.status.capitalize()}</b>: {self.message}"


class _NotAttempted(Exception):
    """Raised inside a checker when the student's function is still a stub."""


class Exercise:
    """Base class: subclasses set ``name``, ``hint_text``, ``solution_code`` and ``_diagnose``.

    ``_diagnose(answer)`` returns None if the answer is right, else the message that
    explains the mistake.
    """

    name = "exercise"
    hint_text = ""
    solution_code = ""

    def check(self, answer):
        """Check ``answer``; return a :class:`CheckResult` (truthy when correct)."""
        if answer is None or answer is NotImplemented:
            return CheckResult("not attempted",
                               f"{self.name}: replace the placeholder with your function, then run check again.")
        if not callable(answer):
            return CheckResult("incorrect", f"{self.name}: expected a function, got {type(answer).__name__}.")
        try:
            problem = self._diagnose(answer)
        except _NotAttempted:
            return CheckResult("not attempted",
                               f"{self.name}: your function still raises NotImplementedError; fill in its body.")
        except Exception as err:  # the student's code failed: report, do not raise
            return CheckResult("incorrect", f"{self.name}: your function raised {type(err).__name__}: {err}")
        if problem is None:
            return CheckResult("correct", f"{self.name}: well done.")
        return CheckResult("incorrect", f"{self.name}: {problem}")

    def hint(self):
        """A hint that does not give the answer away."""
        return Message(f"Hint ({self.name})", self.hint_text)

    def solution(self):
        """A reference solution (as code in Markdown)."""
        return Message(f"Solution ({self.name})", f"\n\n```python\n{self.solution_code.strip()}\n```")

    @staticmethod
    def _call(function, *args):
        try:
            return function(*args)
        except NotImplementedError as err:
            raise _NotAttempted from err

    @staticmethod
    def _compare(name, got, expected):
        """None if ``got`` matches ``expected`` (shape and values), else what is wrong."""
        got = np.asarray(got, dtype=float)
        if got.shape != np.shape(expected):
            return f"{name} has shape {got.shape}, expected {np.shape(expected)}."
        if np.allclose(got, expected, rtol=_RTOL, atol=_ATOL):
            return None
        return f"{name} differs from the expected value."

    @staticmethod
    def _matches(got, candidate):
        got = np.asarray(got, dtype=float)
        return got.shape == np.shape(candidate) and np.allclose(got, candidate, rtol=_RTOL, atol=_ATOL)


def _soft(v, t):
    return np.sign(v) * np.maximum(np.abs(v) - t, 0.0)


# ---------------------------------------------------------------------------------------
# notebook 01
# ---------------------------------------------------------------------------------------

class ProxL1(Exercise):
    """Implement prox_{step ||.||_1}(v) (soft thresholding), ``prox_l1(v, step)``."""

    name = "prox of the L1 norm"
    hint_text = ("The problem min_u 0.5*(u - v)^2 + step*|u| separates over the entries. "
                 "Where |v| is large the minimiser moves v towards 0 by a fixed amount; "
                 "where |v| is small it is exactly 0. How does that amount depend on step?")
    solution_code = """
def prox_l1(v, step):
    return np.sign(v) * np.maximum(np.abs(v) - step, 0.0)
"""

    def _diagnose(self, answer):
        rng = np.random.default_rng(1)
        v = rng.uniform(-3, 3, 40)
        mistakes = [
            (lambda v, s: _soft(v, 1.0), "your prox ignores the step size (it thresholds at 1 for every step)."),
            (lambda v, s: v * (np.abs(v) > s), "entries with |v| > step are kept unchanged: that is hard "
                                               "thresholding; the prox also shrinks the large entries."),
            (lambda v, s: v - s * np.sign(v), "entries with |v| <= step cross zero: they must become exactly 0."),
            (lambda v, s: np.clip(v, -s, s), "that is the projection onto [-step, step], the prox of the "
                                             "conjugate; Moreau's identity (2.6) relates "
                                             "it to the prox you want."),
            (lambda v, s: _soft(v, 2 * s), "your prox shrinks by the wrong amount (too much)."),
            (lambda v, s: _soft(v, s / 2), "your prox shrinks by the wrong amount (too little)."),
            (lambda v, s: _soft(v, s * s), "your prox shrinks by the wrong amount (step enters linearly)."),
        ]
        for step in (0.7, 1.7, 0.05):
            got = self._call(answer, v.copy(), step)
            problem = self._compare(f"prox_l1(v, step={step})", got, _soft(v, step))
            if problem is None:
                continue
            for wrong, message in mistakes:
                if self._matches(got, wrong(v, step)):
                    return message
            return problem + " Compare your output with soft thresholding on a few numbers by hand."
        return None


class ProxConjugateL1(Exercise):
    """Implement prox_{sigma F*} for F = ||.||_1 via Moreau's identity (2.6), ``prox_conj(v, sigma)``."""

    name = "prox of the conjugate via Moreau"
    hint_text = ("Moreau's identity (2.6): prox_{sigma F*}(v) = v - sigma * prox_{F/sigma}(v / sigma). "
                 "Use your soft thresholding with the threshold that prox_{F/sigma} needs. "
                 "Sanity check: F* is the indicator of a box, so the result must lie in that box.")
    solution_code = """
def prox_conj(v, sigma):
    soft = np.sign(v / sigma) * np.maximum(np.abs(v / sigma) - 1.0 / sigma, 0.0)  # prox_{F/sigma}(v/sigma)
    return v - sigma * soft                                                       # (2.6), = clip(v, -1, 1)
"""

    def _diagnose(self, answer):
        rng = np.random.default_rng(2)
        v = rng.uniform(-4, 4, 40)
        mistakes = [
            (lambda v, s: np.clip(v, -s, s), "you applied Moreau with the unscaled prox (v - prox_{sigma F}(v)): "
                                             "(2.6) needs prox_{F/sigma} at v/sigma; the result should not "
                                             "depend on sigma for this F."),
            (lambda v, s: _soft(v, s), "you returned prox_{sigma F} itself (soft thresholding), not the prox "
                                       "of the conjugate F*."),
            (lambda v, s: _soft(v, 1.0), "you returned the shrunken part; Moreau's identity subtracts it from v."),
        ]
        for sigma in (0.3, 2.5):
            got = self._call(answer, v.copy(), sigma)
            problem = self._compare(f"prox_conj(v, sigma={sigma})", got, np.clip(v, -1, 1))
            if problem is None:
                continue
            for wrong, message in mistakes:
                if self._matches(got, wrong(v, sigma)):
                    return message
            return problem + " Check each factor sigma in (2.6)."
        return None


def _cp_step_reference(K, x, x_l, x_bar, xi, tau, sigma, theta, variant=None):
    """One CP step (2.1)-(2.5) for F = ||.||_1, G = 0.5||.||^2, with optional known mistakes."""
    z_D = xi + sigma * K @ (x_l if variant == "x_not_bar" else x_bar)              # (2.1)
    xi_new = np.clip(z_D, -1, 1)                                                    # (2.2)
    z_P = x_l - tau * K.T @ (xi if variant == "old_xi" else xi_new)                # (2.3)
    if variant == "no_shift":
        x_new = z_P / (1 + tau)
    else:
        x_new = (z_P - x) / (1 + tau) + x                                           # (2.4)
    sign = -1 if variant == "extrapolation_sign" else 1
    x_bar_new = x_new + sign * theta * (x_new - x_l)                                # (2.5)
    return x_new, x_bar_new, xi_new


class CPStep(Exercise):
    """Implement one CP step (2.1)-(2.5): ``cp_step(K, x, x_l, x_bar, xi, tau, sigma, theta)``.

    For F = ||.||_1 (prox_{sigma F*} = clipping to [-1, 1]) and G = 0.5||.||^2
    (prox_{tau G}(v) = v / (1 + tau)); K is a NumPy matrix; return
    ``(x_next, x_bar_next, xi_next)``.
    """

    name = "one Chambolle-Pock step"
    hint_text = ("Follow (2.1)-(2.5) line by line: the dual update uses the extrapolated x_bar, "
                 "the primal update uses the NEW xi and K transposed, G acts on u - x (shift by the "
                 "data x before the prox and back after it), and x_bar moves further in the "
                 "direction x^{l+1} - x^l.")
    solution_code = """
def cp_step(K, x, x_l, x_bar, xi, tau, sigma, theta):
    z_D = xi + sigma * K @ x_bar                 # (2.1)
    xi_next = np.clip(z_D, -1.0, 1.0)            # (2.2)
    z_P = x_l - tau * K.T @ xi_next              # (2.3)
    x_next = (z_P - x) / (1.0 + tau) + x         # (2.4)
    x_bar_next = x_next + theta * (x_next - x_l) # (2.5)
    return x_next, x_bar_next, xi_next
"""

    _messages = {
        "x_not_bar": "(2.1) uses the extrapolated point x_bar^l, not x^l.",
        "old_xi": "(2.3) must use the new dual iterate xi^{l+1}, not xi^l.",
        "no_shift": "G acts on u - x: (2.4) is prox_{tau G}(z_P - x) + x; you forgot the shift by the data x.",
        "extrapolation_sign": "sign of the extrapolation (2.5): x_bar^{l+1} = x^{l+1} + theta (x^{l+1} - x^l).",
    }

    def _diagnose(self, answer):
        rng = np.random.default_rng(3)
        K = rng.standard_normal((6, 5))
        x, x_l, x_bar = rng.standard_normal((3, 5))
        xi = rng.uniform(-1, 1, 6)
        tau, sigma, theta = 0.3, 0.2, 0.7
        got = self._call(answer, K, x.copy(), x_l.copy(), x_bar.copy(), xi.copy(), tau, sigma, theta)
        if not isinstance(got, tuple) or len(got) != 3:
            return "return a tuple (x_next, x_bar_next, xi_next)."
        right = _cp_step_reference(K, x, x_l, x_bar, xi, tau, sigma, theta)
        problems = [self._compare(name, g, r) for name, g, r in zip(("x_next", "x_bar_next", "xi_next"), got, right)]
        if all(p is None for p in problems):
            return None
        for variant, message in self._messages.items():
            wrong = _cp_step_reference(K, x, x_l, x_bar, xi, tau, sigma, theta, variant)
            if all(self._matches(g, w) for g, w in zip(got, wrong)):
                return message
        return " ".join(p for p in problems if p) + " Go through (2.1)-(2.5) in order."


# ---------------------------------------------------------------------------------------
# notebook 02
# ---------------------------------------------------------------------------------------

def _backward_reference(K, prime_P, prime_D, delta_P_next, delta_D_next, delta_D_next2, tau, sigma, theta,
                        variant=None):
    """One backward step (3.1)-(3.3) with optional known mistakes."""
    delta_D_bar = delta_D_next + (0 if variant == "no_extrapolation" else theta) * (delta_D_next - delta_D_next2)  # (3.1)
    inner = delta_P_next + sigma * K.T @ delta_D_bar
    delta_P = (1 if variant == "no_prime" else prime_P) * inner                                    # (3.2)
    sign = 1 if variant == "sign_3_3" else -1
    delta_D = prime_D * (delta_D_next + sign * tau * K @ (delta_P_next if variant == "old_delta_P" else delta_P))  # (3.3)
    return delta_P, delta_D


class BackwardStep(Exercise):
    """Implement one backward step (3.1)-(3.3).

    ``backward_step(K, prime_P, prime_D, delta_P_next, delta_D_next, delta_D_next2, tau, sigma, theta)``
    returns ``(delta_P, delta_D)`` = (delta_P^l, delta_D^l) from delta_P^{l+1},
    delta_D^{l+1}, delta_D^{l+2}; ``prime_P`` and ``prime_D`` are the elementwise prox
    derivatives prox'_{tau G}(z_P^l - x) and prox'_{sigma F*}(z_D^l) as arrays.
    """

    name = "one backward step"
    hint_text = ("x^l enters z_D^{l+1} through x_bar^l (coefficient (1+theta) sigma K) and z_D^{l+2} "
                 "through x_bar^{l+1} (coefficient -theta sigma K): collect both in delta_D_bar (3.1). "
                 "Then multiply by the prox derivative (3.2). For (3.3): xi^l enters z_D^{l+1} with I "
                 "and z_P^l with -tau K^T; which delta_P does z_P^l belong to?")
    solution_code = """
def backward_step(K, prime_P, prime_D, delta_P_next, delta_D_next, delta_D_next2, tau, sigma, theta):
    delta_D_bar = delta_D_next + theta * (delta_D_next - delta_D_next2)   # (3.1)
    delta_P = prime_P * (delta_P_next + sigma * K.T @ delta_D_bar)        # (3.2)
    delta_D = prime_D * (delta_D_next - tau * K @ delta_P)                # (3.3)
    return delta_P, delta_D
"""

    _messages = {
        "no_extrapolation": "(3.1): the extrapolation theta (delta_D^{l+1} - delta_D^{l+2}) is missing; x^l "
                            "reaches two dual steps through x_bar.",
        "no_prime": "(3.2) is missing the prox derivative prime_P (chain rule through (2.4)).",
        "sign_3_3": "sign in (3.3): z_P^l = x^{l-1} - tau K^T xi^l, so the term is -tau K delta_P^l.",
        "old_delta_P": "(3.3) uses delta_P^l, the adjoint just computed, not delta_P^{l+1}.",
    }

    def _diagnose(self, answer):
        rng = np.random.default_rng(4)
        K = rng.standard_normal((6, 5))
        prime_P = rng.uniform(0.2, 1.0, 5)
        prime_D = (rng.uniform(size=6) > 0.4).astype(float)
        prime_D[:2] = 1.0
        delta_P_next = rng.standard_normal(5)
        delta_D_next, delta_D_next2 = rng.standard_normal((2, 6))
        args = (K, prime_P, prime_D, delta_P_next, delta_D_next, delta_D_next2, 0.3, 0.4, 0.8)
        got = self._call(answer, *(a.copy() if isinstance(a, np.ndarray) else a for a in args))
        if not isinstance(got, tuple) or len(got) != 2:
            return "return a tuple (delta_P, delta_D)."
        right = _backward_reference(*args)
        problems = [self._compare(name, g, r) for name, g, r in zip(("delta_P", "delta_D"), got, right)]
        if all(p is None for p in problems):
            return None
        for variant, message in self._messages.items():
            wrong = _backward_reference(*args, variant=variant)
            if all(self._matches(g, w) for g, w in zip(got, wrong)):
                return message
        return " ".join(p for p in problems if p) + " Derive (3.1)-(3.3) once more from the forward step."


class GradientSum(Exercise):
    """Implement the sum (3.4): ``gradient_sum(trace, delta_P, delta_D)`` -> grad_K (k x n).

    ``trace`` is a :class:`cpteach.CPTrace` of a run with a Matrix K on 1-D data,
    ``delta_P[l-1]`` = delta_P^l and ``delta_D[l-1]`` = delta_D^l (as from
    :func:`cpteach.backprop`).
    """

    name = "the gradient sum (3.4)"
    hint_text = ("Sum over l = 1..L of sigma * outer(delta_D^l, x_bar^{l-1}) - tau * outer(xi^l, delta_P^l). "
                 "Use trace.x_bar(l - 1) and trace.xi(l); mind which index each factor carries.")
    solution_code = """
def gradient_sum(trace, delta_P, delta_D):
    grad = np.zeros((delta_D.shape[1], delta_P.shape[1]))
    for l in range(1, trace.L + 1):
        grad += trace.sigma * np.outer(delta_D[l - 1], trace.x_bar(l - 1))   # (3.4)
        grad -= trace.tau * np.outer(trace.xi(l), delta_P[l - 1])            # (3.4)
    return grad
"""

    @staticmethod
    def _terms(trace, delta_P, delta_D, bar_index=-1, use_bar=True):
        first = sum(trace.sigma * np.outer(delta_D[l - 1], (trace.x_bar if use_bar else trace.x)(l + bar_index))
                    for l in range(1, trace.L + 1))
        second = sum(trace.tau * np.outer(trace.xi(l), delta_P[l - 1]) for l in range(1, trace.L + 1))
        return first, second

    def _diagnose(self, answer):
        rng = np.random.default_rng(5)
        K = operators.Matrix(rng.standard_normal((5, 4)) / 2)
        x, y = rng.standard_normal((2, 4))
        tau = sigma = 0.9 / K.norm()
        trace = chambolle_pock(K, prox.L1(0.5), prox.SquaredL2(), x, tau=tau, sigma=sigma, theta=0.7, L=6)
        res = backprop(trace, y)
        got = self._call(answer, trace, res.delta_P.copy(), res.delta_D.copy())
        problem = self._compare("grad_K", got, res.grad_K)
        if problem is None:
            return None
        first, second = self._terms(trace, res.delta_P, res.delta_D)
        candidates = [
            (-res.grad_K, "sign: the poster's start y - x^L gives the negative gradient; (3.4) with the "
                          "true adjoints is the gradient itself, do not flip it."),
            (first + second, "sign of the second term: K enters (2.3) as -tau K^T xi."),
            (first, "the second term of (3.4) (from K^T in (2.3)) is missing."),
            (-second, "the first term of (3.4) (from K in (2.1)) is missing."),
            (sum(self._terms(trace, res.delta_P, res.delta_D, use_bar=False)[:1]) - second,
             "(2.1) applies K to the extrapolated point: use x_bar^{l-1}, not x^{l-1}."),
            (self._terms(trace, res.delta_P, res.delta_D, bar_index=0)[0] - second,
             "index shift: delta_D^l pairs with x_bar^{l-1} (the point K acted on in step l)."),
        ]
        for wrong, message in candidates:
            if self._matches(got, wrong):
                return message
        if np.shape(got) == res.grad_K.T.shape and np.shape(got) != res.grad_K.shape:
            return "your gradient is transposed: grad_K has the shape of K (k x n)."
        return problem + " Write (3.4) term by term."


prox_l1 = ProxL1()
prox_conjugate_l1 = ProxConjugateL1()
cp_step = CPStep()
backward_step = BackwardStep()
gradient_sum = GradientSum()


# ---------------------------------------------------------------------------------------
# notebook 03
# ---------------------------------------------------------------------------------------

def _null_space_projection(A, e):
    """Orthogonal projection of e onto ker(A) (dense SVD)."""
    N = scipy.linalg.null_space(A)
    return N @ (N.T @ e)


class DeltaPLimit(Exercise):
    """Implement the limit (4.3) of delta_P^l: ``delta_P_limit(K, P, D, e)``, the orthogonal
    projection of P e onto range(P) ∩ ker(D K).

    ``K`` is a NumPy matrix (k x n), ``P`` a bool array of length n (primal mask),
    ``D`` a bool array of length k (dual mask), ``e`` an array of length n.
    """

    name = "the limit (4.3) of delta_P"
    hint_text = ("A vector in range(P) is zero where P is False, so only the columns K[:, P] matter; "
                 "ker(D K) only constrains the rows where D is True. Restrict K to those rows and "
                 "columns, find an orthonormal basis N of its null space (scipy.linalg.null_space), "
                 "project e restricted to P onto it (N N^T e_P) and put the result back into a "
                 "length-n vector.")
    solution_code = """
def delta_P_limit(K, P, D, e):
    import scipy.linalg
    A = K[np.ix_(D, P)]                       # D K P on the active rows and columns
    N = scipy.linalg.null_space(A)            # orthonormal basis of its kernel
    out = np.zeros(K.shape[1])
    out[P] = N @ (N.T @ e[P])                 # (4.3): projection of P e
    return out
"""

    def _diagnose(self, answer):
        rng = np.random.default_rng(6)
        K = rng.standard_normal((4, 7))
        P = np.array([True, True, False, True, True, False, True])     # |P| = 5
        D = np.array([True, False, True, True])                         # |D| = 3: kernel of dimension 2
        e = rng.standard_normal(7)
        right = projection_limit(operators.Matrix(K), P, D, e)
        got = self._call(answer, K.copy(), P.copy(), D.copy(), e.copy())
        problem = self._compare("delta_P_limit(K, P, D, e)", got, right)
        if problem is None:
            return None
        got = np.asarray(got, dtype=float)
        unmasked = np.zeros(7)
        unmasked[P] = _null_space_projection(K[:, P], e[P])
        candidates = [
            (np.zeros(7), "your result is 0, but here range(P) ∩ ker(D K) is not {0} (D K P has more "
                          "columns than rows): the limit is 0 only when that intersection is trivial."),
            (P * e, "you returned P e itself; (4.3) projects it onto range(P) ∩ ker(D K)."),
            (unmasked, "you used ker(K): (4.2)-(4.3) only need D K delta_P = 0, the rows where D is False "
                       "do not constrain the limit (this is the erratum to the poster's 'in ker K')."),
            (_null_space_projection(K[D], e), "your projection onto ker(D K) ignores the primal mask: the "
                                              "limit also lies in range(P) (zero where P is False)."),
        ]
        for wrong, message in candidates:
            if self._matches(got, wrong):
                return message
        if got.shape == right.shape:
            if np.any(np.abs(got[~P]) > _ATOL):
                return "your result is non-zero where P is False; the limit lies in range(P)."
            if np.linalg.norm(K[D] @ got) > 1e-7 * max(1.0, np.linalg.norm(got)):
                return "D K (your result) is not 0, so your result is not in ker(D K)."
            return ("your result lies in range(P) ∩ ker(D K) but is not the orthogonal projection: "
                    "e - result must be orthogonal to that subspace.")
        return problem


delta_P_limit = DeltaPLimit()


# ---------------------------------------------------------------------------------------
# notebook 04
# ---------------------------------------------------------------------------------------

def _one_step_reference(K, x, y, x_star, xi_star, tau, sigma, variant=None):
    """(5.1)-(5.3) for F = ||.||_1, G = 0.5||.||^2 and a matrix K, with optional known mistakes."""
    prime_G = {"no_prime_G": 1.0, "prime_G_sigma": 1 / (1 + sigma)}.get(variant, 1 / (1 + tau))
    residual = y - x_star if variant == "poster_sign" else x_star - y
    delta_P = prime_G * residual                                                  # (5.1)
    z_D = xi_star if variant == "mask_at_xi" else xi_star + sigma * K @ x_star
    D = np.ones_like(z_D) if variant == "no_D" else (np.abs(z_D) < 1).astype(float)
    sign = 1 if variant == "sign_5_2" else -1
    delta_D = D * (sign * tau * K @ delta_P)                                      # (5.2)
    a, b = (tau, sigma) if variant == "swap_steps" else (sigma, tau)
    point = x if variant == "x_data" else x_star
    return a * np.outer(delta_D, point) - b * np.outer(xi_star, delta_P)         # (5.3)


class OneStepGradient(Exercise):
    """Implement the fixed-point gradient (5.1)-(5.3) for F = ||.||_1, G = 0.5||.||^2 and a matrix K:
    ``one_step_gradient(K, x, y, x_star, xi_star, tau, sigma)`` -> grad_K (k x n).

    prox_{tau G}(v) = v / (1 + tau) has derivative 1 / (1 + tau); prox_{sigma F*} is clipping
    to [-1, 1], with derivative 1 where |z| < 1 and 0 elsewhere.
    """

    name = "the fixed-point gradient (5.1)-(5.3)"
    hint_text = ("Three lines. (5.1): the prox derivative of G times the loss gradient x* - y. "
                 "(5.2): the clipping derivative, evaluated at z_D = xi* + sigma K x*, times "
                 "-tau K delta_P*. (5.3): sigma outer(delta_D*, x*) - tau outer(xi*, delta_P*), "
                 "which has the shape of K.")
    solution_code = """
def one_step_gradient(K, x, y, x_star, xi_star, tau, sigma):
    delta_P = (x_star - y) / (1 + tau)                                      # (5.1)
    D = np.abs(xi_star + sigma * K @ x_star) < 1                            # prox'_{sigma F*}
    delta_D = D * (-tau * K @ delta_P)                                      # (5.2)
    return sigma * np.outer(delta_D, x_star) - tau * np.outer(xi_star, delta_P)   # (5.3)
"""

    _messages = {
        "poster_sign": "sign: (5.1) starts from x* - y, the derivative of 0.5||y - x||^2; with y - x* you "
                       "get the poster's negative gradient.",
        "no_prime_G": "(5.1) is missing the derivative of prox_{tau G}, 1 / (1 + tau) for this G.",
        "prime_G_sigma": "(5.1): the primal prox uses the step tau, so its derivative is 1 / (1 + tau).",
        "no_D": "(5.2) is missing the mask: the clipping derivative is 0 where |z_D| >= 1.",
        "mask_at_xi": "(5.2): evaluate the clipping derivative at z_D = xi* + sigma K x*, not at xi*.",
        "sign_5_2": "sign in (5.2): xi enters z_P = x - tau K^T xi, so the term is -tau K delta_P*.",
        "swap_steps": "step sizes in (5.3): sigma goes with delta_D* x*^T and tau with xi* delta_P*^T.",
        "x_data": "(5.3) pairs delta_D* with x*^T (the point K acts on in the step), not with the data x.",
    }

    def _diagnose(self, answer):
        rng = np.random.default_rng(7)
        K = rng.standard_normal((6, 5)) / 3                # tau*sigma*||K||^2 < 1 for the steps below
        x, y, x_star = rng.standard_normal((3, 5))
        xi_star = np.array([1.0, -1.0, 0.3, -0.6, 1.0, 0.1])
        tau, sigma = 0.3, 0.45
        got = self._call(answer, K.copy(), x.copy(), y.copy(), x_star.copy(), xi_star.copy(), tau, sigma)
        right = fixed_point_closed_form(operators.Matrix(K), prox.L1(), prox.SquaredL2(), x, y, x_star, xi_star,
                                        tau=tau, sigma=sigma).grad_K
        problem = self._compare("grad_K", got, right)
        if problem is None:
            return None
        if np.shape(got) == right.T.shape:
            return "your gradient is transposed: grad_K has the shape of K (k x n)."
        for variant, message in self._messages.items():
            if self._matches(got, _one_step_reference(K, x, y, x_star, xi_star, tau, sigma, variant)):
                return message
        return problem + " Write (5.1), (5.2) and (5.3) one line each."


one_step_gradient = OneStepGradient()


# ---------------------------------------------------------------------------------------
# notebook 05
# ---------------------------------------------------------------------------------------

def _ball_reference(v, x, radius, variant=None):
    d = v - x if variant != "no shift" else v
    norm = np.linalg.norm(d)
    if variant == "always scale":
        return x + d * radius / norm
    if variant == "squared norm":
        return x + d * min(1.0, radius / norm ** 2)
    if variant == "no shift":
        return d * min(1.0, radius / norm)
    return x + d * min(1.0, radius / norm)        # (6.2) around x


class BallProjection(Exercise):
    """Implement the prox of G(u - x) in (6.1): the projection onto ||u - x|| <= radius,
    ``project(v, x, radius)``."""

    name = "projection onto the noise ball"
    hint_text = ("Shift to the centre first: d = v - x. If d already lies in the ball, v is its own "
                 "projection; otherwise scale d along the ray from x until it touches the sphere (6.2).")
    solution_code = """
def project(v, x, radius):
    d = v - x
    return x + d * min(1.0, radius / np.linalg.norm(d))   # (6.2), shifted to the centre x
"""

    def _diagnose(self, answer):
        rng = np.random.default_rng(5)
        x = rng.uniform(0, 1, (6, 6))
        for scale in (3.0, 0.2):       # v outside, then inside the ball
            v = x + scale * rng.standard_normal((6, 6))
            radius = 1.5
            got = self._call(answer, v.copy(), x.copy(), radius)
            problem = self._compare(f"project(v, x, radius) with ||v - x|| = {np.linalg.norm(v - x):.2f}",
                                    got, _ball_reference(v, x, radius))
            if problem is None:
                continue
            hints = {"always scale": "points inside the ball must stay where they are (min(1, ...)).",
                     "squared norm": "the scaling factor uses ||v - x||, not its square.",
                     "no shift": "the ball is centred at the data x, not at 0: project v - x and add x back."}
            for variant, message in hints.items():
                if self._matches(got, _ball_reference(v, x, radius, variant)):
                    return message
            if np.linalg.norm(np.asarray(got, float) - x) > radius * (1 + 1e-9):
                return problem + " Your result lies outside the ball."
            return problem + " Your result is feasible but not the nearest point: move along v - x only."
        return None


ball_projection = BallProjection()
