"""Notebook 02's exercises (theory section 3), student code written from the mathematics: correct answers in
several forms (CORRECT) and typical mistakes with the words their message must contain (MISTAKES);
tests/test_exercises_tally.py runs them against the checkers."""
import numpy as np

from cpteach import exercises



# ---- one backward step (3.1)-(3.3) ---------------------------------------------------------

def _back(K, pP, pD, dP1, dD1, dD2, tau, sigma, theta, *, bar=None, prime_P=True, prime_D=True, sign=-1,
          new=True, start_bar=False, order=False, step_P=lambda sigma: sigma):
    dD_bar = dD1 + theta * (dD1 - dD2) if bar is None else bar(dD1, dD2, theta)
    dP = (pP if prime_P else 1.0) * (dP1 + step_P(sigma) * K.T @ dD_bar)
    dD = (pD if prime_D else 1.0) * ((dD_bar if start_bar else dD1) + sign * tau * K @ (dP if new else dP1))
    return (dD, dP) if order else (dP, dD)


def _back_inplace(K, pP, pD, dP1, dD1, dD2, tau, sigma, theta):
    dD2 *= -theta
    dD2 += (1 + theta) * dD1                       # now delta_D_bar (3.1)
    dP1 += sigma * K.T @ dD2
    dP1 *= pP                                      # delta_P (3.2)
    dD1 -= tau * K @ dP1
    dD1 *= pD                                      # delta_D (3.3)
    return dP1, dD1


def _back_reordered(K, pP, pD, dP1, dD1, dD2, tau, sigma, theta):
    dP = pP * dP1 + sigma * pP * (((1 + theta) * dD1 - theta * dD2) @ K)
    return [dP, pD * dD1 - tau * pD * (K @ dP)]


def _back_float32(K, pP, pD, dP1, dD1, dD2, tau, sigma, theta):
    arrays = [a.astype(np.float32) for a in (K, pP, pD, dP1, dD1, dD2)]
    return _back(*arrays, np.float32(tau), np.float32(sigma), np.float32(theta))


def _back_K_in_3_2(K, pP, pD, dP1, dD1, dD2, tau, sigma, theta):
    dP = pP * (dP1 + sigma * K @ (dD1 + theta * (dD1 - dD2)))
    return dP, pD * (dD1 - tau * K @ dP)


def _back_prime_first(K, pP, pD, dP1, dD1, dD2, tau, sigma, theta):
    dP = pP * dP1 + sigma * K.T @ (dD1 + theta * (dD1 - dD2))
    return dP, pD * (dD1 - tau * K @ dP)


def _back_prime_D_first(K, pP, pD, dP1, dD1, dD2, tau, sigma, theta):
    dP = pP * (dP1 + sigma * K.T @ (dD1 + theta * (dD1 - dD2)))
    return dP, pD * dD1 - tau * K @ dP


BACKWARD_CORRECT = [
    ("solution form", lambda *a: _back(*a)),
    ("in place", _back_inplace),
    ("list, reordered", _back_reordered),
    ("float32", _back_float32),
    ("bar expanded", lambda *a: _back(*a, bar=lambda d1, d2, t: (1 + t) * d1 - t * d2)),
]
BACKWARD_MISTAKES = [
    ("no extrapolation", lambda *a: _back(*a, bar=lambda d1, d2, t: d1), "extrapolation theta"),
    ("theta ignored", lambda *a: _back(*a, bar=lambda d1, d2, t: 2 * d1 - d2), "theta is ignored"),
    ("extrapolation sign", lambda *a: _back(*a, bar=lambda d1, d2, t: d1 + t * (d2 - d1)), "sign of the extrapolation"),
    ("no prime_P", lambda *a: _back(*a, prime_P=False), "prime_P"),
    ("no prime_D", lambda *a: _back(*a, prime_D=False), "prime_D"),
    ("plus in (3.3)", lambda *a: _back(*a, sign=1), "sign in (3.3)"),
    ("old delta_P", lambda *a: _back(*a, new=False), "just computed"),
    ("tau/sigma swapped", lambda K, pP, pD, a, b, c, tau, sigma, theta: _back(K, pP, pD, a, b, c, sigma, tau, theta),
     "tau and sigma are swapped"),
    ("K for K^T", _back_K_in_3_2, "did you use K where K^T belongs"),
    ("bar in (3.3)", lambda *a: _back(*a, start_bar=True), "not from the extrapolated"),
    ("order", lambda *a: _back(*a, order=True), "order (delta_P, delta_D)"),
    ("prime on one term", _back_prime_first, "whole bracket"),
    ("l+1 and l+2 swapped in (3.1)", lambda *a: _back(*a, bar=lambda d1, d2, t: d2 + t * (d2 - d1)),
     "delta_D^{l+1} and delta_D^{l+2} are swapped"),
    ("prime_D on the first term", _back_prime_D_first, "prime_D multiplies the whole bracket"),
    ("sigma missing", lambda *a: _back(*a, step_P=lambda sigma: 1.0), "missing the step sigma"),
]


# ---- the gradient sum (3.4) ------------------------------------------------------------------

def _sum(trace, dP, dD, *, point=None, dual=None, last=None, sign=-1, steps=None):
    sigma, tau = (trace.sigma, trace.tau) if steps is None else steps(trace)
    grad = 0.0
    for l in range(1, (trace.L if last is None else last) + 1):
        p = trace.x_bar(l - 1) if point is None else point(trace, l)
        q = trace.xi(l) if dual is None else dual(trace, l)
        grad = grad + sigma * np.outer(dD[l - 1], p) + sign * tau * np.outer(q, dP[l - 1])
    return grad


def _sum_matrix(trace, dP, dD):
    X_bar = np.array([trace.x_bar(l) for l in range(trace.L)])            # rows x_bar^0 .. x_bar^{L-1}
    Xi = np.array([trace.xi(l) for l in range(1, trace.L + 1)])           # rows xi^1 .. xi^L
    return trace.sigma * dD.T @ X_bar - trace.tau * Xi.T @ dP


def _sum_shifted_loop(trace, dP, dD):
    grad = np.zeros((dD.shape[1], dP.shape[1]), dtype=np.float32)
    for j in range(trace.L):                                                # j = l - 1
        grad += np.float32(trace.sigma) * np.outer(dD[j], trace.x_bar(j)).astype(np.float32)
        grad -= np.float32(trace.tau) * np.outer(trace.xi(j + 1), dP[j]).astype(np.float32)
    return grad


def _sum_backwards_einsum(trace, dP, dD):
    total = np.zeros((dD.shape[1], dP.shape[1]))
    for l in range(trace.L, 0, -1):
        total -= trace.tau * np.einsum("i,j->ij", trace.xi(l), dP[l - 1])
        total += trace.sigma * np.einsum("i,j->ij", dD[l - 1], trace.x_bar(l - 1))
    return total


def _sum_inplace(trace, dP, dD):
    dP *= trace.tau
    dD *= trace.sigma
    return sum(np.outer(dD[l - 1], trace.x_bar(l - 1)) - np.outer(trace.xi(l), dP[l - 1])
               for l in range(1, trace.L + 1))


def _sum_index_l(trace, dP, dD):
    return sum(trace.sigma * np.outer(dD[l], trace.x_bar(l - 1)) - trace.tau * np.outer(trace.xi(l), dP[l])
               for l in range(1, trace.L + 1))


def _sum_outer_order(trace, dP, dD):
    return sum(trace.sigma * np.outer(trace.x_bar(l - 1), dD[l - 1]) - trace.tau * np.outer(trace.xi(l), dP[l - 1])
               for l in range(1, trace.L + 1))


GRADIENT_SUM_CORRECT = [
    ("loop", lambda *a: _sum(*a)),
    ("matrix products", _sum_matrix),
    ("j = l - 1, float32", _sum_shifted_loop),
    ("backwards, einsum", _sum_backwards_einsum),
    ("in place", _sum_inplace),
]
GRADIENT_SUM_MISTAKES = [
    ("poster's sign", lambda *a: -_sum(*a), "poster's start"),
    ("plus second term", lambda *a: _sum(*a, sign=1), "sign of the second term"),
    ("first term only", lambda *a: _sum(*a, sign=0), "second term of (3.4)"),
    ("second term only", lambda *a: _sum(*a) - _sum(*a, sign=0), "first term of (3.4)"),
    ("x not x_bar", lambda *a: _sum(*a, point=lambda t, l: t.x(l - 1)), "not x^{l-1}"),
    ("x_bar^l", lambda *a: _sum(*a, point=lambda t, l: t.x_bar(l)), "off-by-one in l: delta_D^l pairs"),
    ("xi^{l-1}", lambda *a: _sum(*a, dual=lambda t, l: t.xi(l - 1)), "not xi^{l-1}"),
    ("range(1, L)", lambda t, p, d: _sum(t, p, d, last=t.L - 1), "last term (l = L) is missing"),
    ("delta[l]", _sum_index_l, "off-by-one in l?"),
    ("tau/sigma swapped", lambda *a: _sum(*a, steps=lambda t: (t.tau, t.sigma)), "tau and sigma are swapped"),
    ("x^L for every term", lambda *a: _sum(*a, point=lambda t, l: t.x_L, dual=lambda t, l: t.xi(t.L)),
     "x^L for x*"),
    ("transposed", lambda *a: _sum(*a).T, "transposed"),
    ("outer in the wrong order", _sum_outer_order, "order of the factors"),
]

CASES = [(exercises.backward_step, BACKWARD_CORRECT, BACKWARD_MISTAKES),
         (exercises.gradient_sum, GRADIENT_SUM_CORRECT, GRADIENT_SUM_MISTAKES)]
