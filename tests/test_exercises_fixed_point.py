"""Notebook 04's exercises (theory section 5), student code written from the mathematics: correct answers in
several forms (CORRECT) and typical mistakes with the words their message must contain (MISTAKES);
tests/test_exercises_tally.py runs them against the checkers."""
import numpy as np
import pytest
import scipy.sparse.linalg

from cpteach import exercises



# ---- the one-step gradient (5.1)-(5.3), F = ||.||_1, G = 0.5||.||^2 -----------------------------

def _one(K, x, y, xs, xi, tau, sigma, *, e_sign=1, prime=None, mask_at=None, mask=lambda z: np.abs(z) <= 1,
         sign2=-1, steps=None, point=None, from_e=False, sign3=-1, terms=(1, 1), loss_at=None):
    e = e_sign * ((xs if loss_at is None else loss_at(x)) - y)
    dP = e / (1 + tau) if prime is None else e * prime(tau, sigma)                 # (5.1)
    z = xi + sigma * K @ xs if mask_at is None else mask_at(xi)
    dD = mask(z) * (sign2 * tau * K @ (e if from_e else dP))                         # (5.2)
    a, b = (sigma, tau) if steps is None else steps(tau, sigma)
    return terms[0] * a * np.outer(dD, xs if point is None else point(x)) + terms[1] * sign3 * b * np.outer(xi, dP)


def _one_float32(K, x, y, xs, xi, tau, sigma):
    K, x, y, xs, xi = (a.astype(np.float32) for a in (K, x, y, xs, xi))
    return _one(K, x, y, xs, xi, np.float32(tau), np.float32(sigma))


def _one_inplace(K, x, y, xs, xi, tau, sigma):
    y -= xs
    y /= -(1 + tau)                                           # y is now delta_P*
    dD = np.where(np.abs(xi + sigma * K @ xs) <= 1, -tau * K @ y, 0.0)
    return -tau * np.outer(xi, y) + sigma * np.outer(dD, xs)


def _one_einsum(K, x, y, xs, xi, tau, sigma):
    dP = (xs - y) / (1 + tau)
    unclipped = (np.abs(xi + sigma * (K @ xs)) < 1).astype(float)   # strict: no entry sits on the kink
    dD = -tau * unclipped * (K @ dP)
    return sigma * np.einsum("i,j->ij", dD, xs) - tau * np.einsum("i,j->ij", xi, dP)


def _one_where(K, x, y, x_star, xi_star, tau, sigma):
    delta_P = (x_star - y) / (1 + tau)                                       # (5.1)
    z_D = xi_star + sigma * K @ x_star
    delta_D = np.where(np.abs(z_D) <= 1, -tau * (K @ delta_P), 0.0)          # (5.2)
    return -tau * np.outer(xi_star, delta_P) + sigma * np.outer(delta_D, x_star)


def _one_K_T(K, x, y, xs, xi, tau, sigma):
    dP = (xs - y) / (1 + tau)
    dD = (np.abs(xi + sigma * K @ xs) <= 1) * (-tau * K.T @ dP)
    return sigma * np.outer(dD, xs) - tau * np.outer(xi, dP)


def _one_swapped_everywhere(K, x, y, xs, xi, tau, sigma):
    return _one_where(K, x, y, xs, xi, sigma, tau)


ONE_STEP_CORRECT = [
    ("solution form", lambda *a: _one(*a)),
    ("float32", _one_float32),
    ("in place", _one_inplace),
    ("einsum, strict mask", _one_einsum),
    ("where mask, reordered", _one_where),
]
ONE_STEP_MISTAKES = [
    ("poster's sign", lambda *a: _one(*a, e_sign=-1), "poster's negative"),
    ("no prox derivative", lambda *a: _one(*a, prime=lambda t, s: 1.0), "missing the derivative"),
    ("1/(1+sigma)", lambda *a: _one(*a, prime=lambda t, s: 1 / (1 + s)), "1 / (1 + tau)"),
    ("no mask", lambda *a: _one(*a, mask=lambda z: 1.0), "missing the mask"),
    ("mask at xi*", lambda *a: _one(*a, mask_at=lambda xi: xi), "not at z_D"),
    ("strict mask at xi*", lambda *a: _one(*a, mask_at=lambda xi: xi, mask=lambda z: np.abs(z) < 1), "not at xi*"),
    ("plus in (5.2)", lambda *a: _one(*a, sign2=1), "sign in (5.2)"),
    ("steps swapped", lambda *a: _one(*a, steps=lambda t, s: (t, s)), "step sizes in (5.3)"),
    ("data x", lambda *a: _one(*a, point=lambda x: x), "not with the data x"),
    # a student review: x for x* elsewhere, and a term of (5.3) dropped, got generic messages
    ("data x in (5.1)", lambda *a: _one(*a, loss_at=lambda x: x), "not from the data x"),
    ("data x in z_D", lambda K, x, y, xs, xi, t, s: _one(K, x, y, xs, xi, t, s, mask_at=lambda xi_: xi_ + s * K @ x),
     "with the solution x* (not the data x)"),
    ("data x everywhere", lambda K, x, y, xs, xi, t, s: _one(K, x, y, x, xi, t, s), "where the solution x* belongs"),
    ("(5.3) without its second term", lambda *a: _one(*a, terms=(1, 0)), "the second is missing"),
    ("(5.3) without its first term", lambda *a: _one(*a, terms=(0, 1)), "the first is missing"),
    ("transposed", lambda *a: _one(*a).T, "transposed"),
    ("mask inverted", lambda *a: _one(*a, mask=lambda z: np.abs(z) > 1), "inverted"),
    ("K^T in (5.2)", _one_K_T, "did you use K where K^T belongs"),
    ("(5.2) from x* - y", lambda *a: _one(*a, from_e=True), "not to x* - y"),
    ("plus in (5.3)", lambda *a: _one(*a, sign3=1), "sign of the second term of (5.3)"),
    ("tau/sigma swapped everywhere", _one_swapped_everywhere, "tau and sigma are swapped everywhere"),
    # a student review: sigma for tau in (5.2) got the generic message, and tau in z_D passed (no mask changed)
    ("sigma in (5.2)", lambda K, x, y, xs, xi, t, s: _one(K, x, y, xs, xi, t, s, sign2=-s / t), "step in (5.2)"),
    ("tau in z_D", lambda K, x, y, xs, xi, t, s: _one(K, x, y, xs, xi, t, s, mask_at=lambda xi_: xi_ + t * K @ xs),
     "the dual step is z_D = xi* + sigma K x*"),
]


# ---- the implicit adjoint (5.5): J^T by (3.7), then the solve ------------------------------------

def _JT_function(K, gP, gD, tau, sigma, theta, *, weight=None, keep=1, prev=-1, use_gP=True,
                 use_gD=True, KT=True, prev_theta=None, readout=None, mask=False):
    k, n = K.shape
    weight = 1 + theta if weight is None else weight(theta)
    readout = tau if readout is None else readout(tau, sigma)     # the factor of K delta_P in the read-out
    gD = (gD > 0).astype(float) if mask else gD
    prev_theta = theta if prev_theta is None else prev_theta(theta)

    def JT(lam):
        lx, lp, lxi = lam[:n], lam[n:2 * n], lam[2 * n:]
        dP = gP * lx if use_gP else lx
        dD = (gD if use_gD else 1.0) * (lxi - readout * K @ dP)
        back = K.T @ dD if KT else K @ dD
        return np.concatenate([dP + keep * lp + weight * sigma * back, prev * prev_theta * sigma * back, dD])
    return JT


def _adjoint(K, gP, gD, e, tau, sigma, theta, *, rows=False, **mistake):
    JT = _JT_function(K, gP, gD, tau, sigma, theta, **mistake)
    N = e.size * 2 + K.shape[0]
    M = np.array([JT(c) for c in np.eye(N)])                 # row i is J^T e_i
    M = M if rows else M.T
    g = np.concatenate([e, np.zeros(N - e.size)])
    return np.linalg.solve(np.eye(N) - M, g)


def _adjoint_gmres(K, gP, gD, e, tau, sigma, theta):
    JT = _JT_function(K, gP, gD, tau, sigma, theta)
    N = e.size * 2 + K.shape[0]
    A = scipy.sparse.linalg.LinearOperator((N, N), matvec=lambda v: v - JT(v))
    g = np.concatenate([e, np.zeros(N - e.size)])
    lam, info = scipy.sparse.linalg.gmres(A, g, rtol=1e-13, atol=0.0, restart=N)
    assert info == 0
    return lam


def _adjoint_blocks(K, gP, gD, e, tau, sigma, theta):
    k, n = K.shape
    A, Dm, I, Z = np.diag(gP), np.diag(gD), np.eye(n), np.zeros
    KtDK_A = K.T @ Dm @ K @ A
    JT = np.block([[A - (1 + theta) * sigma * tau * KtDK_A, I, (1 + theta) * sigma * K.T @ Dm],
                   [theta * sigma * tau * KtDK_A, Z((n, n)), -theta * sigma * K.T @ Dm],
                   [-tau * Dm @ K @ A, Z((k, n)), Dm]])                    # (3.7) as a block matrix
    return np.linalg.solve(np.eye(2 * n + k) - JT, np.concatenate([e, np.zeros(n + k)]))


def _adjoint_float32(K, gP, gD, e, tau, sigma, theta):
    cast = [a.astype(np.float32) for a in (K, gP, gD, e)]
    return _adjoint(*cast, np.float32(tau), np.float32(sigma), np.float32(theta))


def _adjoint_neumann(K, gP, gD, e, tau, sigma, theta):
    JT = _JT_function(K, gP, gD, tau, sigma, theta)
    g = np.concatenate([e, np.zeros(e.size + K.shape[0])])
    lam, term = g.copy(), g.copy()
    for _ in range(100000):                                   # the whole series, until its terms vanish
        term = JT(term)
        lam += term
        if np.linalg.norm(term) < 1e-15 * np.linalg.norm(lam):
            break
    return lam


def _adjoint_partial(K, gP, gD, e, tau, sigma, theta, L=20):
    JT = _JT_function(K, gP, gD, tau, sigma, theta)
    term = np.concatenate([e, np.zeros(e.size + K.shape[0])])
    total = np.zeros_like(term)
    for _ in range(L):
        total, term = total + term, JT(term)
    return total


def _adjoint_readout(K, gP, gD, e, tau, sigma, theta):
    lam = _adjoint(K, gP, gD, e, tau, sigma, theta)
    n = e.size
    dP = gP * lam[:n]
    return dP, gD * (lam[2 * n:] - tau * K @ dP)


def _adjoint_solve_JT(K, gP, gD, e, tau, sigma, theta):
    JT = _JT_function(K, gP, gD, tau, sigma, theta)
    N = e.size * 2 + K.shape[0]
    M = np.column_stack([JT(c) for c in np.eye(N)])
    return np.linalg.solve(M, np.concatenate([e, np.zeros(N - e.size)]))


def _adjoint_slots(K, gP, gD, e, tau, sigma, theta):
    lam = _adjoint_gmres(K, gP, gD, e, tau, sigma, theta)
    n = e.size
    return lam[:n], lam[n:2 * n], lam[2 * n:]                  # as implicit_gradient(...).adjoint


def _adjoint_forward_J(K, gP, gD, e, tau, sigma, theta):
    k, n = K.shape
    A, Dm, I = np.diag(gP), np.diag(gD), np.eye(n)
    # the forward step linearised at s*: x_bar = (1 + theta) x - theta x_prev, xi' = Dm (xi + sigma K x_bar),
    # x' = A (x - tau K^T xi'); the state (x', x, xi')
    dxi = np.hstack([(1 + theta) * sigma * Dm @ K, -theta * sigma * Dm @ K, Dm])
    dx = A @ (np.hstack([I, np.zeros((n, n + k))]) - tau * K.T @ dxi)
    J = np.vstack([dx, np.hstack([I, np.zeros((n, n + k))]), dxi])
    return np.linalg.solve(np.eye(2 * n + k) - J, np.concatenate([e, np.zeros(n + k)]))   # J^T forgotten


def _adjoint_slot_order(K, gP, gD, e, tau, sigma, theta):
    lam = _adjoint(K, gP, gD, e, tau, sigma, theta)
    n = e.size
    return np.concatenate([lam[:n], lam[2 * n:], lam[n:2 * n]])           # (x, xi, x_prev)


def _adjoint_slots_wrong_format(K, gP, gD, e, tau, sigma, theta):
    lam = _adjoint(K, gP, gD, e, tau, sigma, theta)
    return lam[:e.size], lam[e.size:]                                      # two parts, x and the rest


IMPLICIT_CORRECT = [
    ("dense, rows transposed", _adjoint),
    ("GMRES matrix-free", _adjoint_gmres),
    ("block matrix", _adjoint_blocks),
    ("float32", _adjoint_float32),
    ("Neumann series to the end", _adjoint_neumann),
    ("three slots, as implicit_gradient(...).adjoint", _adjoint_slots),
]
IMPLICIT_MISTAKES = [
    ("J^T e_i stacked as rows", lambda *a: _adjoint(*a, rows=True), "you used J instead of J^T"),
    ("forward J, transpose forgotten", _adjoint_forward_J, "you used J instead of J^T"),
    ("no extrapolation in J", lambda K, gP, gD, e, t, s, th: _adjoint(K, gP, gD, e, t, s, 0.0),
     "no extrapolation"),
    ("slot order (x, xi, x_prev)", _adjoint_slot_order, "slot order"),
    ("slots (x, xi, x_prev) as three arrays", lambda *a: tuple(np.split(_adjoint_slot_order(*a),
                                                                         [a[3].size, a[3].size + a[0].shape[0]])),
     "slot order"),
    ("200 terms", lambda *a: _adjoint_partial(*a, L=200), "truncated the Neumann series"),
    ("theta ignored", lambda K, gP, gD, e, t, s, th: _adjoint(K, gP, gD, e, t, s, 1.0), "theta is ignored"),
    ("tau/sigma swapped", lambda K, gP, gD, e, t, s, th: _adjoint(K, gP, gD, e, s, t, th), "swapped"),
    ("no 1 + theta", lambda *a: _adjoint(*a, weight=lambda th: 1.0), "(1 + theta)"),
    ("2 for 1 + theta", lambda *a: _adjoint(*a, weight=lambda th: 2.0), "not 2 sigma"),
    ("theta dropped in the x_prev slot", lambda *a: _adjoint(*a, prev_theta=lambda th: 1.0), "theta is missing"),
    ("x_prev slot dropped", lambda *a: _adjoint(*a, keep=0), "lambda_xprev"),
    ("x_prev sign", lambda *a: _adjoint(*a, prev=1), "sign of the x_prev slot"),
    ("no Gamma_P", lambda *a: _adjoint(*a, use_gP=False), "missing Gamma_P"),    # I - J^T singular
    ("no Gamma_D", lambda *a: _adjoint(*a, use_gD=False), "missing Gamma_D"),
    # a student review: with 0/1 Gamma_D these three went unseen (the xi slot only asks M_D K delta_P = 0)
    ("read-out sign", lambda *a: _adjoint(*a, readout=lambda t, s: -t), "sign in the read-out"),
    ("read-out without tau", lambda *a: _adjoint(*a, readout=lambda t, s: 1.0), "tau is missing"),
    ("read-out with sigma", lambda *a: _adjoint(*a, readout=lambda t, s: s), "has tau, not sigma"),
    ("Gamma_D as a 0/1 mask", lambda *a: _adjoint(*a, mask=True), "takes it for a 0/1 mask"),
    ("K for K^T", lambda *a: _adjoint(*a, KT=False), "did you use K where K^T belongs"),
    ("g only", lambda K, gP, gD, e, *r: np.concatenate([e, np.zeros(e.size + K.shape[0])]), "first term"),
    ("20 terms", _adjoint_partial, "partial sum"),
    ("wrong sign", lambda *a: -_adjoint(*a), "wrong sign"),
    ("read-out returned", _adjoint_readout, "not the read-out"),
    ("two parts", _adjoint_slots_wrong_format, "not the read-out"),
    ("J^T alone", _adjoint_solve_JT, "I - J^T"),
]

CASES = [(exercises.one_step_gradient, ONE_STEP_CORRECT, ONE_STEP_MISTAKES),
         (exercises.ImplicitAdjoint(), IMPLICIT_CORRECT, IMPLICIT_MISTAKES)]


def test_implicit_adjoint_data_make_each_part_observable():
    """Both instances of ImplicitAdjoint clip some dual rows and not others; the second has tau != sigma, theta != 1."""
    ex = exercises.ImplicitAdjoint()
    for (K, gP, gD, e, tau, sigma, theta), J, g in ex._instances:
        assert 0 < gD.sum() < gD.size and np.linalg.norm(e) > 0.1
    (_, _, _, _, tau, sigma, theta), _, _ = ex._instances[1]
    assert tau != sigma and theta != 1
    (_, _, gD, _, tau, sigma, theta), _, _ = ex._instances[2]          # Gamma_D strictly between 0 and 1
    assert np.allclose(gD, 1 / (1 + sigma)) and 0 < gD.min() and gD.max() < 1 and tau != sigma and theta != 1


def test_implicit_adjoint_random_problems_are_reachable():
    """The random problems that check tries first are ex.data(2) and ex.data(1), and its messages say which."""
    ex = exercises.ImplicitAdjoint()
    K, gP, gD, e, tau, sigma, theta = ex.data(1)
    assert K.shape == (6, 4) and tau != sigma and theta == 0.7
    K, gP, gD, e, tau, sigma, theta = ex.data(2)
    assert K.shape == (5, 4) and tau != sigma and theta == 0.7
    assert "ex.data(2)" in ex.check(lambda *a: -_adjoint(*a)).message
    # a J^T right only where Gamma_D is 0 or 1 passes the first two problems and is named on the third
    only_masks = lambda K, gP, gD, *r: _adjoint(K, gP, gD, *r, readout=lambda t, s: -t) \
        if 0 < gD.min() < 1 else _adjoint(K, gP, gD, *r)                                       # noqa: E731
    assert "ex.data(2)" in ex.check(only_masks).message and "sign in the read-out" in ex.check(only_masks).message
    with pytest.raises(ValueError, match="which must be 0"):
        ex.data(3)
