"""Notebook 01's exercises (theory section 2), student code written from the mathematics: correct answers in
several forms (CORRECT) and typical mistakes with the words their message must contain (MISTAKES);
tests/test_exercises_tally.py runs them against the checkers."""
import numpy as np

from cpteach import exercises



# ---- prox_l1: soft thresholding ------------------------------------------------------------

def _pl_inplace(v, step):
    v[np.abs(v) <= step] = 0.0
    v -= step * np.sign(v)
    return v


def _pl_float32(v, step):
    v, step = v.astype(np.float32), np.float32(step)
    return np.sign(v) * np.maximum(np.abs(v) - step, np.float32(0))


def _pl_loop(v, step):
    out = []
    for vi in v:
        if vi > step:
            out.append(vi - step)
        elif vi < -step:
            out.append(vi + step)
        else:
            out.append(0.0)
    return out                                     # a list, not an array


def _pl_no_return(v, step):
    np.sign(v) * np.maximum(np.abs(v) - step, 0.0)


def _pl_scalar_if(v, step):
    if abs(v) > step:
        return v - step * np.sign(v)
    return 0.0


PROX_L1_CORRECT = [
    ("sign-max", lambda v, step: np.sign(v) * np.maximum(np.abs(v) - step, 0.0)),
    ("v minus clip", lambda v, step: v - np.clip(v, -step, step)),
    ("where", lambda v, step: np.where(v > step, v - step, np.where(v < -step, v + step, 0.0))),
    ("two halves", lambda v, step: np.maximum(v - step, 0) + np.minimum(v + step, 0)),
    ("float32", _pl_float32),
    ("in place", _pl_inplace),
    ("loop, list", _pl_loop),
]
PROX_L1_MISTAKES = [
    ("threshold 1", lambda v, step: np.sign(v) * np.maximum(np.abs(v) - 1, 0), "ignores the step size"),
    ("hard", lambda v, step: np.where(np.abs(v) > step, v, 0.0), "hard thresholding"),
    ("no zeroing", lambda v, step: v - step * np.sign(v), "cross zero"),
    ("clip", lambda v, step: np.clip(v, -step, step), "projection onto [-step, step]"),
    ("one-sided", lambda v, step: np.maximum(v - step, 0.0), "symmetric"),
    ("divide by |v|", lambda v, step: v * np.maximum(np.abs(v) - step, 0) / np.abs(v), "NaN"),
    ("away from 0", lambda v, step: np.where(np.abs(v) > step, v + step * np.sign(v), 0.0), "away from 0"),
    ("half step", lambda v, step: np.sign(v) * np.maximum(np.abs(v) - step / 2, 0), "too little"),
    ("1/step", lambda v, step: np.sign(v) * np.maximum(np.abs(v) - 1 / step, 0), "1/step"),
    ("scalar if", _pl_scalar_if, "An `if`"),
    ("no return", _pl_no_return, "returns None"),
    ("+step sign", lambda v, step: v + step * np.sign(v), "away from 0"),
    ("+step inside max", lambda v, step: np.sign(v) * np.maximum(np.abs(v) + step, 0), "away from 0"),
    ("negatives not shrunk", lambda v, step: np.where(v > step, v - step, np.where(v < -step, v, 0.0)),
     "negative entries"),
    ("negatives kept", lambda v, step: np.where(v > step, v - step, np.minimum(v, 0.0)), "negative entries"),
]


# ---- prox of the conjugate by Moreau -------------------------------------------------------

def _soft(v, t):
    return np.sign(v) * np.maximum(np.abs(v) - t, 0.0)


def _pc_inplace(v, sigma):
    v[v > 1] = 1.0
    v[v < -1] = -1.0
    return v


def _pc_float32(v, sigma):
    v, sigma = v.astype(np.float32), np.float32(sigma)
    return v - sigma * _soft(v / sigma, 1 / sigma)


PROX_CONJ_CORRECT = [
    ("clip", lambda v, sigma: np.clip(v, -1, 1)),
    ("Moreau", lambda v, sigma: v - sigma * _soft(v / sigma, 1 / sigma)),
    ("Moreau simplified", lambda v, sigma: v - _soft(v, 1.0)),
    ("min-max", lambda v, sigma: np.minimum(np.maximum(v, -1), 1)),
    ("radial", lambda v, sigma: v / np.maximum(1.0, np.abs(v))),
    ("float32", _pc_float32),
    ("in place", _pc_inplace),
]
PROX_CONJ_MISTAKES = [
    ("unscaled", lambda v, sigma: v - _soft(v, sigma), "unscaled prox"),
    ("prox of F", lambda v, sigma: _soft(v, sigma), "prox_{sigma F} itself"),
    ("shrunken part", lambda v, sigma: _soft(v, 1.0), "shrunken part"),
    ("argument v", lambda v, sigma: v - sigma * _soft(v, 1 / sigma), "at v / sigma, not at v"),
    ("no factor", lambda v, sigma: v - _soft(v / sigma, 1 / sigma), "by sigma before"),
    ("plus", lambda v, sigma: v + sigma * _soft(v / sigma, 1 / sigma), "sign in (2.6)"),
    ("threshold sigma", lambda v, sigma: v - sigma * _soft(v / sigma, sigma), "is 1/sigma, not sigma"),
    ("threshold 1", lambda v, sigma: v - sigma * _soft(v / sigma, 1.0), "unscaled prox"),   # = v - soft(v, sigma)
    ("box 1/sigma", lambda v, sigma: np.clip(v, -1 / sigma, 1 / sigma), "depends on sigma"),
    ("v * sigma", lambda v, sigma: v - sigma * _soft(v * sigma, 1 / sigma), "multiplied v by sigma"),
]


# ---- one CP step (2.1)-(2.5), F = ||.||_1, G = 0.5||.||^2 -------------------------------------

def _step(K, x, x_l, x_bar, xi, tau, sigma, theta, *, bar=True, new_xi=True, shift=True, extra=None,
          clip=True, minus=True, order=False, prox_G=lambda v, tau: v / (1 + tau)):
    z_D = xi + sigma * K @ (x_bar if bar else x_l)
    xi_next = np.clip(z_D, -1, 1) if clip else z_D
    z_P = x_l + (-1 if minus else 1) * tau * K.T @ (xi_next if new_xi else xi)
    x_next = prox_G(z_P - x, tau) + x if shift else prox_G(z_P, tau)
    x_bar_next = x_next + theta * (x_next - x_l) if extra is None else extra(x_next, x_l)
    return (x_next, xi_next, x_bar_next) if order else (x_next, x_bar_next, xi_next)


def _step_inplace(K, x, x_l, x_bar, xi, tau, sigma, theta):
    xi += sigma * K @ x_bar
    np.clip(xi, -1, 1, out=xi)
    x_old = x_l.copy()
    x_l -= tau * K.T @ xi
    x_l -= x
    x_l /= 1 + tau
    x_l += x
    x_bar[:] = x_l + theta * (x_l - x_old)
    return x_l, x_bar, xi


def _step_reordered(K, x, x_l, x_bar, xi, tau, sigma, theta):
    xi_next = np.minimum(np.maximum(xi + sigma * (K @ x_bar), -1.0), 1.0)
    x_next = (x_l - tau * (xi_next @ K) + tau * x) / (1 + tau)      # (z_P + tau x) / (1 + tau)
    return [x_next, (1 + theta) * x_next - theta * x_l, xi_next]    # a list


def _step_float32(K, x, x_l, x_bar, xi, tau, sigma, theta):
    args = [a.astype(np.float32) for a in (K, x, x_l, x_bar, xi)]
    return _step(*args, np.float32(tau), np.float32(sigma), np.float32(theta))


def _step_swapped(K, x, x_l, x_bar, xi, tau, sigma, theta):
    return _step(K, x, x_l, x_bar, xi, sigma, tau, theta)


def _step_K_not_KT(K, x, x_l, x_bar, xi, tau, sigma, theta):
    xi_next = np.clip(xi + sigma * K @ x_bar, -1, 1)
    x_next = (x_l - tau * K @ xi_next - x) / (1 + tau) + x
    return x_next, x_next + theta * (x_next - x_l), xi_next


def _step_no_return(K, x, x_l, x_bar, xi, tau, sigma, theta):
    _step(K, x, x_l, x_bar, xi, tau, sigma, theta)


def _step_from_data(K, x, x_l, x_bar, xi, tau, sigma, theta):
    xi_next = np.clip(xi + sigma * K @ x_bar, -1, 1)
    x_next = (x - tau * K.T @ xi_next - x) / (1 + tau) + x
    return x_next, x_next + theta * (x_next - x_l), xi_next


CP_STEP_CORRECT = [
    ("tuple", lambda *a: _step(*a)),
    ("list, reordered", _step_reordered),
    ("float32", _step_float32),
    ("in place", _step_inplace),
    ("explicit z", lambda *a: tuple(_step(*a))),
]
CP_STEP_MISTAKES = [
    ("x not x_bar", lambda *a: _step(*a, bar=False), "extrapolated point x_bar^l"),
    ("old xi", lambda *a: _step(*a, new_xi=False), "new dual iterate"),
    ("no shift", lambda *a: _step(*a, shift=False), "forgot the shift by the data x"),
    ("theta ignored (1)", lambda *a: _step(*a, extra=lambda xn, xl: 2 * xn - xl), "theta = 1"),
    ("theta ignored (0)", lambda *a: _step(*a, extra=lambda xn, xl: xn), "no extrapolation"),
    ("tau/sigma swapped", _step_swapped, "tau and sigma are swapped"),
    ("no clip", lambda *a: _step(*a, clip=False), "(2.2) is missing"),
    ("K for K^T", _step_K_not_KT, "did you use K where K^T belongs"),
    ("plus in (2.3)", lambda *a: _step(*a, minus=False), "sign in (2.3)"),
    ("extrapolation sign", lambda *a: _step(*a, extra=lambda xn, xl: xn - a[-1] * (xn - xl)), "sign of the extrapolation"),
    ("order", lambda *a: _step(*a, order=True), "order (x_next, x_bar_next, xi_next)"),
    ("order (xi, x, x_bar)", lambda *a: (lambda r: (r[2], r[0], r[1]))(_step(*a)),
     "you returned (xi_next, x_next, x_bar_next)"),
    ("order (x_bar, x, xi)", lambda *a: (lambda r: [r[1], r[0], r[2]])(_step(*a)),
     "order (x_next, x_bar_next, xi_next)"),
    ("times (1 + tau)", lambda *a: _step(*a, prox_G=lambda v, tau: v * (1 + tau)), "you multiplied"),
    ("prox of tau||.||^2", lambda *a: _step(*a, prox_G=lambda v, tau: v / (1 + 2 * tau)), "factor 1/2"),
    ("starts from the data", _step_from_data, "starts from the current iterate"),
    ("no return", _step_no_return, "returns None"),
]

CASES = [(exercises.prox_l1, PROX_L1_CORRECT, PROX_L1_MISTAKES),
         (exercises.prox_conjugate_l1, PROX_CONJ_CORRECT, PROX_CONJ_MISTAKES),
         (exercises.cp_step, CP_STEP_CORRECT, CP_STEP_MISTAKES)]


def test_checker_data_make_each_part_observable():
    """cp_step's data: the clip acts on some entries and not on others, tau != sigma, theta != 1, x != 0."""
    rng = np.random.default_rng(3)
    K = rng.standard_normal((6, 5)) / 2
    x, x_l, x_bar = rng.standard_normal((3, 5))
    xi = np.array([-0.9, -0.95, 0.2, -0.1, 0.95, 0.5])
    clipped = np.abs(xi + 0.45 * K @ x_bar) > 1
    assert 0 < clipped.sum() < clipped.size and np.linalg.norm(x) > 0.5
    assert 0.3 * 0.45 * np.linalg.norm(K, 2) ** 2 < 1
