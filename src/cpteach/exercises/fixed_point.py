"""Exercises of notebook 04, docs/theory.md section 5 (three gradients as truncations of one series): the
one-step gradient (5.1)-(5.3) and the implicit adjoint (5.5) as the sum of the unrolled series (the questions on
the one-step gradient's bias are in :mod:`.one_step_bias`).

Examples
--------
>>> ex = ImplicitAdjoint()
>>> K, gamma_P, gamma_D, e, tau, sigma, theta = ex.data()
>>> K.shape, gamma_D.tolist()
((4, 5), [1.0, 0.0, 1.0, 1.0])
>>> ex.check(lambda K, gamma_P, gamma_D, e, tau, sigma, theta: np.zeros(14)).outcome
<Outcome.INCORRECT: 'incorrect'>
"""
from __future__ import annotations

import copy
from functools import cached_property

import numpy as np

from .. import operators, prox
from ..fixed_point import fixed_point_closed_form
from ..problems import Problem
from ..step import _fixed_point_arguments
from ._framework import Exercise, as_array, call_student, compare, first_match, matches
from .chambolle_pock import library_step

__all__ = ["OneStepGradient", "ImplicitAdjoint", "one_step_gradient"]


def _one_step_variant(K, x, y, x_star, xi_star, tau, sigma, variant):
    """(5.1)-(5.3) for F = ||.||_1, G = 0.5||.||^2 and a matrix K with one known mistake."""
    if variant == "swap_all":
        tau, sigma = sigma, tau
    prime_G = {"no_prime_G": 1.0, "prime_G_sigma": 1 / (1 + sigma)}.get(variant, 1 / (1 + tau))
    data_for_solution = variant == "x_everywhere"                                # the data x where x* belongs
    residual = {"poster_sign": y - x_star, "x_in_loss": x - y}.get(variant, x - y if data_for_solution else x_star - y)
    delta_P = prime_G * residual                                                  # (5.1)
    at = x if data_for_solution else x_star
    z_D = xi_star if variant == "mask_at_xi" else xi_star + (tau if variant == "tau_in_z_D" else sigma) * K @ at
    M_D = (np.abs(z_D) < 1 if variant == "mask_at_xi" else np.abs(z_D) <= 1).astype(float)   # prox.Box.mask
    M_D = {"no_D": np.ones_like(z_D), "mask_inverted": 1 - M_D}.get(variant, M_D)
    sign = 1 if variant == "sign_5_2" else -1
    step = sigma if variant == "sigma_in_5_2" else tau
    delta_D = M_D * (sign * step * K @ (residual if variant == "no_prime_in_5_2" else delta_P))   # (5.2)
    a, b = (tau, sigma) if variant == "swap_steps" else (sigma, tau)
    b = -b if variant == "sign_5_3" else b
    a, b = {"only_first_term": (a, 0.0), "only_second_term": (0.0, b)}.get(variant, (a, b))
    point = x if variant == "x_data" or data_for_solution else x_star
    return a * np.outer(delta_D, point) - b * np.outer(xi_star, delta_P)         # (5.3)


class OneStepGradient(Exercise):
    """Implement the fixed-point gradient (5.1)-(5.3) for F = ||.||_1, G = 0.5||.||^2 and a matrix K:
    ``one_step_gradient(K, x, y, x_star, xi_star, tau, sigma)`` -> grad_K (k x n).

    The model is min_u ||K u||_1 + 0.5||u - x||^2. prox_{tau G}(v) = v / (1 + tau) has
    derivative 1 / (1 + tau); prox_{sigma F*} is clipping to [-1, 1], with derivative 1
    where |z| <= 1 and 0 elsewhere (the mask of :class:`cpteach.prox.Box`).
    """

    name = "the fixed-point gradient (5.1)-(5.3)"
    hint_text = ("Three lines. (5.1): the prox derivative of G times the loss gradient x* - y. "
                 "(5.2): the clipping derivative, evaluated at z_D = xi* + sigma K x*, times "
                 "-tau K delta_P*. (5.3): sigma outer(delta_D*, x*) - tau outer(xi*, delta_P*), "
                 "which has the shape of K.")
    solution_code = """
def one_step_gradient(K, x, y, x_star, xi_star, tau, sigma):
    delta_P = (x_star - y) / (1 + tau)                                      # (5.1)
    M_D = np.abs(xi_star + sigma * K @ x_star) <= 1                         # prox'_{sigma F*}
    delta_D = M_D * (-tau * K @ delta_P)                                    # (5.2)
    return sigma * np.outer(delta_D, x_star) - tau * np.outer(xi_star, delta_P)   # (5.3)
"""

    _messages = {
        "poster_sign": "sign: (5.1) starts from x* - y, the derivative of 0.5||y - x||^2; with y - x* you "
                       "get the poster's negative gradient.",
        "no_prime_G": "(5.1) is missing the derivative of prox_{tau G}, 1 / (1 + tau) for this G.",
        "prime_G_sigma": "(5.1): the primal prox uses the step tau, so its derivative is 1 / (1 + tau).",
        "no_D": "(5.2) is missing the mask, or evaluates it at xi* (where |xi*| <= 1 always), not at z_D: the "
                "clipping derivative at z_D = xi* + sigma K x* is 0 where |z_D| > 1.",
        "mask_inverted": "(5.2): your mask is inverted; the clipping derivative is 1 where |z_D| <= 1 (the "
                         "unclipped entries) and 0 where the entry is clipped.",
        "no_prime_in_5_2": "(5.2) applies -tau K to delta_P* (already multiplied by the derivative of "
                           "prox_{tau G}), not to x* - y.",
        "sign_5_3": "sign of the second term of (5.3): K enters (2.3) as -tau K^T xi, so the term is "
                    "-tau xi* delta_P*^T.",
        "x_everywhere": "you used the data x where the solution x* belongs: (5.1)-(5.3) are one CP step "
                        "differentiated AT the solution, so x* - y, z_D = xi* + sigma K x* and delta_D* x*^T.",
        "x_in_loss": "(5.1) starts from x* - y, the loss gradient at the solution x*, not from the data x.",
        "only_first_term": "(5.3) has two terms: sigma delta_D* x*^T - tau xi* delta_P*^T; the second is missing.",
        "only_second_term": "(5.3) has two terms: sigma delta_D* x*^T - tau xi* delta_P*^T; the first is missing.",
        "mask_at_xi": "(5.2): evaluate the clipping derivative at z_D = xi* + sigma K x*, with the solution x* "
                      "(not the data x), not at xi*.",
        "sign_5_2": "sign in (5.2): xi enters the primal step (2.3) as x^l - tau K^T xi, so the term is "
                    "-tau K delta_P*.",
        "sigma_in_5_2": "step in (5.2): xi enters the primal step (2.3) as x^l - tau K^T xi, with the primal step, so "
                        "the term is -tau K delta_P* (sigma belongs to z_D = xi* + sigma K x*).",
        "tau_in_z_D": "step in the mask of (5.2): the dual step is z_D = xi* + sigma K x*, with sigma (tau is the "
                      "primal step).",
        "swap_steps": "step sizes in (5.3): sigma goes with delta_D* x*^T and tau with xi* delta_P*^T.",
        "x_data": "(5.3) pairs delta_D* with x*^T (the point K acts on in the step), not with the data x.",
        "swap_all": "tau and sigma are swapped everywhere: tau is the primal step (prox_{tau G}, its derivative "
                    "1 / (1 + tau), -tau K delta_P* and -tau xi* delta_P*^T), sigma the dual step "
                    "(z_D = xi* + sigma K x* and sigma delta_D* x*^T).",
    }

    def _diagnose(self, answer):
        rng = np.random.default_rng(7)
        K = rng.standard_normal((6, 5)) / 3                # tau*sigma*||K||^2 < 1 for the steps below
        x, y, x_star = rng.standard_normal((3, 5))
        # |z_D| > 1 in some entries, not in all; entry 3 is clipped with sigma and not with tau (a mask taken with
        # the wrong step shows)
        xi_star = np.array([1.0, -1.0, 0.3, -0.83, 1.0, 0.1])
        tau, sigma = 0.3, 0.45
        got = call_student(answer, K, x, y, x_star, xi_star, tau, sigma)
        right = fixed_point_closed_form(operators.Matrix(K), prox.L1(), prox.SquaredL2(), x, y, x_star, xi_star,
                                        tau=tau, sigma=sigma).grad_K
        problem = compare("grad_K", got, right)
        if problem is None:
            return None
        arr = as_array(got)
        if arr is not None and arr.shape == right.T.shape:
            return "your gradient is transposed: grad_K has the shape of K (k x n)."
        message = first_match(got, [(_one_step_variant(K, x, y, x_star, xi_star, tau, sigma, variant), message)
                                    for variant, message in self._messages.items()])
        return message or problem + " Write (5.1), (5.2) and (5.3) one line each."


def _tiny_problem():
    """1-D TV-L2 denoising with n = 5 (min_u 0.3||D u||_1 + 0.5||u - x||^2), theta = 1.

    At its solution one dual entry is clipped and three are not (strictly: |z_D| differs
    from 0.3 by at least 0.08), so one CP step is affine near s* and its Jacobian J is
    exact by central differences.
    """
    K = operators.Matrix(np.diff(np.eye(5), axis=0))              # forward differences, 4 x 5
    x = np.array([0.1, -0.05, 1.0, 0.85, 1.1])
    y = np.array([0.0, 0.0, 1.0, 1.0, 1.0])
    return Problem(K, prox.L1(0.3), prox.SquaredL2(), x, y, "tiny 1-D TV-L2 (n = 5)", tau=0.45, sigma=0.45,
                   theta=1.0, tol=1e-14)


def _step_jacobian(p, h=1e-6):
    """J = dT/ds at s* = (x*, x*, xi*) for one CP step T(x, x_prev, xi) of ``p``, by central differences."""
    n = p.x.size

    def T(s):
        x_l, x_prev, xi = s[:n], s[n:2 * n], s[2 * n:]
        x_bar = x_l + p.theta * (x_l - x_prev)                      # (2.5) of the previous step
        x_next, _, xi_next = library_step(p.K, p.F, p.G, p.x, x_l, x_bar, xi, p.tau, p.sigma, p.theta)
        return np.concatenate([x_next, x_l, xi_next])               # the new state (x^{l+1}, x^l, xi^{l+1})

    s_star = np.concatenate([p.x_star, p.x_star, p.xi_star])
    return np.column_stack([(T(s_star + h * e) - T(s_star - h * e)) / (2 * h) for e in np.eye(s_star.size)])


def _second_problem():
    """A second instance with tau != sigma and theta = 0.7: a random 6 x 4 K, F = ||.||_1, G = 0.5||.||^2.

    Three dual rows are unclipped and three clipped, each at least 0.03 from the kink |z_D| = 1.
    """
    rng = np.random.default_rng(12)
    K = rng.standard_normal((6, 4))
    K = operators.Matrix(K / np.linalg.norm(K, 2))
    x, y = rng.standard_normal((2, 4))
    return Problem(K, prox.L1(1.0), prox.SquaredL2(), x, y, "random 6 x 4 L1-L2", tau=0.6, sigma=1.4,
                   theta=0.7, tol=1e-14)


def _third_problem():
    """An instance whose Gamma_D is not a 0/1 mask: a random 5 x 4 K, F = 0.5||.||^2 (so prox_{sigma F*} scales
    by 1 / (1 + sigma): Gamma_D = 1 / (1 + sigma) on every row), G = 0.5||.||^2, tau != sigma, theta = 0.7.

    With a 0/1 Gamma_D the xi slot of (5.5) only asks M_D K delta_P = 0, so a J^T with a wrong factor in the
    read-out delta_D = Gamma_D (lambda_xi - tau K delta_P) can return the right lambda; here it cannot.
    """
    rng = np.random.default_rng(5)
    K = rng.standard_normal((5, 4))
    K = operators.Matrix(K / np.linalg.norm(K, 2))
    x, y = rng.standard_normal((2, 4))
    return Problem(K, prox.SquaredL2(), prox.SquaredL2(), x, y, "random 5 x 4 L2-L2", tau=0.7, sigma=1.2,
                   theta=0.7, tol=1e-14)


def _student_data(p):
    """The arguments of ``implicit_adjoint``: K, the prox derivatives at the solution, e* and the steps."""
    v_P, z_D = _fixed_point_arguments(p.K, p.x, p.x_star, p.xi_star, p.tau, p.sigma)   # (2.1), (2.3) at s*
    gamma_P = p.G.prox_vjp(v_P, p.tau, np.ones(p.x.size))      # G acts entrywise: its diagonal Jacobian
    gamma_D = p.F.conjugate().prox_vjp(z_D, p.sigma, np.ones(z_D.size))   # F* too: 1 = unclipped for a box
    return p.K.params.copy(), gamma_P, gamma_D, p.x_star - p.y, p.tau, p.sigma, p.theta


def _transposed_step(K, gamma_P, gamma_D, tau, sigma, theta, variant=None):
    """The matrix of J^T assembled column by column from one backward step (3.7), or one known mistake in it."""
    k, n = K.shape
    if variant == "swap_steps":
        tau, sigma = sigma, tau
    theta = {"theta_one": 1.0, "theta_zero": 0.0}.get(variant, theta)
    gamma_P = np.ones(n) if variant == "no_gamma_P" else gamma_P
    gamma_D = np.ones(k) if variant == "no_gamma_D" else gamma_D
    readout = {"readout_sign": -tau, "readout_no_tau": 1.0, "readout_sigma": sigma}.get(variant, tau)
    weight = {"no_one_plus_theta": 1.0, "two_for_one_plus_theta": 2.0}.get(variant, 1 + theta)
    keep = 0 if variant == "no_x_prev" else 1
    prev_sign = 1 if variant == "x_prev_sign" else -1
    prev_theta = 1.0 if variant == "x_prev_no_theta" else theta

    def apply(lam):
        lam_x, lam_prev, lam_xi = lam[:n], lam[n:2 * n], lam[2 * n:]
        delta_P = gamma_P * lam_x                                                 # R of (3.7)
        delta_D = gamma_D * (lam_xi - readout * K @ delta_P)
        return np.concatenate([delta_P + keep * lam_prev + weight * sigma * K.T @ delta_D,   # (3.7)
                               prev_sign * prev_theta * sigma * K.T @ delta_D, delta_D])

    JT = np.column_stack([apply(col) for col in np.eye(2 * n + k)])
    return JT.T if variant == "rows" else JT


def _partial_sums(J, g, L):
    """S_1, ..., S_L stacked, S_L = sum_{j<L} (J^T)^j g (the unrolled series of section 5)."""
    sums = np.empty((L, g.size))
    term, total = g.copy(), np.zeros_like(g)
    for j in range(L):
        total = sums[j] = total + term
        term = J.T @ term
    return sums


class ImplicitAdjoint(Exercise):
    """Assemble J^T from the masks by (3.7) and solve the adjoint equation (5.5), (I - J^T) lambda = g:
    ``implicit_adjoint(K, gamma_P, gamma_D, e, tau, sigma, theta)`` -> lambda.

    ``K`` is a NumPy matrix (k x n); ``gamma_P`` (length n) and ``gamma_D`` (length k) are the
    diagonals of the prox derivatives Gamma_P = prox'_{tau G}(z_P* - x) and
    Gamma_D = prox'_{sigma F*}(z_D*) at the solution (gamma_D is 1 where |z_D*| <= beta, the
    unclipped rows, as :meth:`cpteach.prox.Box.mask`); ``e`` = x* - y. lambda is the adjoint
    of the state s = (x, x_prev, xi), one array of length 2n + k, and g = (e, 0, 0).
    One backward step (3.7) at the solution maps lambda to J^T lambda; apply it to the unit
    vectors to get the columns of J^T (or hand it to scipy's GMRES as a LinearOperator).

    The reference is independent of (3.7): J by central differences of one step of
    :func:`cpteach.chambolle_pock` at s*. The data (:meth:`data`) is a tiny problem
    (:attr:`problem`, 1-D TV-L2 with n = 5, F = 0.3||.||_1 on the differences,
    G = 0.5||.||^2, tau = sigma = 0.45, theta = 1); ``check`` also tries a random 6 x 4
    L1-L2 problem with tau != sigma and theta = 0.7 (its arguments: ``ex.data(1)``) and a random 5 x 4
    L2-L2 problem whose gamma_D is 1 / (1 + sigma) on every row, not a mask (``ex.data(2)``: F = 0.5||.||^2;
    with a 0/1 gamma_D a wrong factor in the read-out of delta_D can go unseen). lambda may be
    returned as one array or as the three slots (lambda_x, lambda_xprev, lambda_xi), the format
    of ``implicit_gradient(...).adjoint``. The unrolled series
    sum_{j<L} (J^T)^j g (:meth:`partial_sums`) approaches lambda as L grows; its first term
    g belongs to the one-step gradient.

    Use in a notebook::

        ex = exercises.ImplicitAdjoint()
        K, gamma_P, gamma_D, e, tau, sigma, theta = ex.data()     # ex.data(1): the random problem
        def implicit_adjoint(K, gamma_P, gamma_D, e, tau, sigma, theta):
            raise NotImplementedError     # J^T by (3.7), then the solve
        ex.check(implicit_adjoint)
        S = ex.partial_sums(60)           # S[L - 1] = sum_{j<L} (J^T)^j g, to plot against L
    """

    name = "the implicit adjoint (5.5)"
    hint_text = ("Write J^T as a function first: for lambda = (lambda_x, lambda_xprev, lambda_xi), read out "
                 "delta_P = gamma_P * lambda_x and delta_D = gamma_D * (lambda_xi - tau K delta_P), then return "
                 "the three slots of (3.7). Applied to the unit vectors it gives the COLUMNS of J^T "
                 "(np.column_stack). lambda = J^T lambda + g is then a linear system: which matrix multiplies "
                 "lambda once J^T lambda is moved to the left? (scipy.sparse.linalg.gmres with a LinearOperator "
                 "does the same without the matrix.)")
    solution_code = """
def implicit_adjoint(K, gamma_P, gamma_D, e, tau, sigma, theta):
    k, n = K.shape

    def JT(lam):                                              # one backward step (3.7) at s*
        lam_x, lam_xprev, lam_xi = lam[:n], lam[n:2 * n], lam[2 * n:]
        delta_P = gamma_P * lam_x                             # the read-out R of (3.7)
        delta_D = gamma_D * (lam_xi - tau * K @ delta_P)
        return np.concatenate([delta_P + lam_xprev + (1 + theta) * sigma * K.T @ delta_D,
                               -theta * sigma * K.T @ delta_D, delta_D])

    N = 2 * n + k
    JT_matrix = np.column_stack([JT(col) for col in np.eye(N)])   # column i is J^T e_i
    g = np.concatenate([e, np.zeros(n + k)])                      # g = (e*, 0, 0)
    return np.linalg.solve(np.eye(N) - JT_matrix, g)              # (5.5)
"""
    _SHOWN_L = (1, 10, 30, 100)
    _MESSAGES = {
        "rows": "you used J instead of J^T: (5.5) is (I - J^T) lambda = g with the transpose of the step's "
                "Jacobian. (If you applied (3.7) to the unit vectors: the products J^T e_i are the COLUMNS of "
                "J^T, np.column_stack, not its rows.)",
        "theta_one": "theta is ignored: (3.7) carries (1 + theta) and -theta; your J^T uses theta = 1.",
        "theta_zero": "no extrapolation in your J^T: x_bar = x + theta (x - x_prev) puts (1 + theta) and -theta "
                      "into (3.7); your J^T is the one of theta = 0.",
        "swap_steps": "tau and sigma are swapped: the read-out has -tau K delta_P, the slots of (3.7) have "
                      "sigma K^T delta_D.",
        "no_one_plus_theta": "the first slot of (3.7) carries (1 + theta) sigma K^T delta_D: x^l enters two "
                             "dual steps through x_bar.",
        "no_x_prev": "the first slot of (3.7) also collects lambda_xprev (x^l is the next state's x_prev).",
        "x_prev_sign": "sign of the x_prev slot of (3.7): it is -theta sigma K^T delta_D.",
        "two_for_one_plus_theta": "the first slot of (3.7) carries (1 + theta) sigma K^T delta_D, not 2 sigma K^T "
                                  "delta_D: the two agree only at theta = 1.",
        "x_prev_no_theta": "the x_prev slot of (3.7) is -theta sigma K^T delta_D: theta is missing there (it "
                           "matters only where theta != 1).",
        "no_gamma_P": "the read-out of (3.7) is missing Gamma_P: delta_P = gamma_P * lambda_x.",
        "no_gamma_D": "the read-out of (3.7) is missing Gamma_D, or takes it for a 0/1 mask: delta_D = Gamma_D "
                      "(lambda_xi - tau K delta_P) with gamma_D as given, the diagonal of prox'_{sigma F*} (a mask "
                      "of the unclipped rows where F* is a box; 1 / (1 + sigma) on every row of ex.data(2)).",
        "readout_sign": "sign in the read-out of (3.7): delta_D = Gamma_D (lambda_xi - tau K delta_P), a minus.",
        "readout_no_tau": "the read-out of (3.7) is delta_D = Gamma_D (lambda_xi - tau K delta_P): tau is missing.",
        "readout_sigma": "the read-out of (3.7) has tau, not sigma: delta_D = Gamma_D (lambda_xi - tau K delta_P) "
                         "(the primal step's tau, through x^{l+1} = x^l - tau K^T xi^{l+1}).",
    }

    @cached_property
    def problem(self):
        """The tiny :class:`cpteach.problems.Problem` whose CP step J differentiates."""
        return _tiny_problem()

    @cached_property
    def _instances(self):
        """(student data, J, g) for the tiny problem and the second one; J by central differences."""
        out = []
        for p in (self.problem, _second_problem(), _third_problem()):
            g = np.concatenate([p.x_star - p.y, np.zeros(p.x.size + p.xi_star.size)])    # (5.5)
            out.append((_student_data(p), _step_jacobian(p), g))
        return out

    def data(self, which=0):
        """The arguments ``(K, gamma_P, gamma_D, e, tau, sigma, theta)`` (copies) of the tiny problem
        (``which=0``), of the random 6 x 4 L1-L2 problem with tau != sigma, theta = 0.7 (``which=1``) or of the
        random 5 x 4 L2-L2 problem whose gamma_D is not a mask (``which=2``); ``check`` tries them last to first."""
        if which not in (0, 1, 2):
            raise ValueError(f"which must be 0 (the tiny problem), 1 (the random L1-L2 one) or 2 (the random L2-L2 "
                             f"one), got {which!r}")
        return copy.deepcopy(self._instances[which][0])

    def jacobian(self):
        """``(J, g)`` of the tiny problem: J by central differences of one CP step at s* (14 x 14)."""
        _, J, g = self._instances[0]
        return J.copy(), g.copy()

    def partial_sums(self, L):
        """The partial sums S_1, ..., S_L of the unrolled series, shape (L, 14): S_L = sum_{j<L} (J^T)^j g."""
        if isinstance(L, bool) or not isinstance(L, (int, np.integer)):
            raise TypeError(f"L must be an integer, got {type(L).__name__} {L!r}")
        if L < 1:
            raise ValueError(f"L must be >= 1, got {L}; use e.g. L=60")
        return _partial_sums(*self.jacobian(), int(L))

    def _diagnose(self, answer):
        names = ("the tiny TV-L2 problem (its arguments: ex.data(0))",
                 "the random L1-L2 problem with tau != sigma, theta = 0.7 (its arguments: ex.data(1))",
                 "the random L2-L2 problem, gamma_D = 1 / (1 + sigma) (its arguments: ex.data(2))")
        for (args, J, g), which in reversed(list(zip(self._instances, names))):   # the random ones first
            problem = self._diagnose_instance(answer, args, J, g, which)
            if problem is not None:
                return problem if which in problem else f"{problem} (Checked on {which}.)"
        return None

    def _diagnose_instance(self, answer, args, J, g, which):
        I = np.eye(g.size)
        truth = np.linalg.solve(I - J.T, g)
        K, gamma_P, gamma_D, _, tau, sigma, theta = args
        k, n = K.shape
        got = call_student(answer, *args, when=f"called with {which}")
        if isinstance(got, (tuple, list)) and len(got) == 2:
            return ("return lambda itself, the adjoint of the state (x, x_prev, xi) (one array of length "
                    "2n + k, or its three slots (lambda_x, lambda_xprev, lambda_xi) as "
                    "implicit_gradient(...).adjoint), not the read-out (Delta_P, Delta_D).")
        if isinstance(got, (tuple, list)) and len(got) == 3:       # (lambda_x, lambda_xprev, lambda_xi)
            slots = [as_array(part) for part in got]
            shapes = [None if a is None else a.shape for a in slots]
            if shapes == [(n,), (k,), (n,)]:
                return ("slot order: lambda has the slots (lambda_x, lambda_xprev, lambda_xi) of the state "
                        "(x, x_prev, xi); you returned the xi slot second.")
            if shapes != [(n,), (n,), (k,)]:
                return (f"three arrays are accepted only as (lambda_x, lambda_xprev, lambda_xi) with lengths "
                        f"(n, n, k) = ({n}, {n}, {k}), as implicit_gradient(...).adjoint; yours have shapes "
                        f"{shapes}. Or return one array of length 2n + k.")
            got = np.concatenate(slots)
        problem = compare(f"lambda ({which})", got, truth)
        if problem is None:
            return None
        candidates = []
        arr = as_array(got)
        for variant, message in self._MESSAGES.items():
            A = I - _transposed_step(K, gamma_P, gamma_D, tau, sigma, theta, variant)
            if np.linalg.cond(A) < 1e10:
                candidates.append((np.linalg.solve(A, g), message))
            elif (arr is not None and arr.shape == g.shape and np.all(np.isfinite(arr))    # a singular system
                  and np.linalg.norm(A @ arr - g) < 1e-8 * np.linalg.norm(A, 2) * np.linalg.norm(arr)):
                return message + " (With this mistake I - J^T is singular here: your solve returned a huge vector.)"
        x_slot, prev_slot, xi_slot = truth[:n], truth[n:2 * n], truth[2 * n:]
        candidates += [
            (-truth, "your lambda has the wrong sign: g = (x* - y, 0, 0) is the gradient of 0.5||x - y||^2 (not "
                     "y - x*), and the system is (I - J^T) lambda = g, not (J^T - I) lambda = g."),
            (np.linalg.solve(I + J.T, g), "sign of J^T: lambda = J^T lambda + g means (I - J^T) lambda = g."),
            (g, "you returned g, the first term of the series (what the one-step gradient uses); lambda is the "
                "sum of all terms (J^T)^j g."),
            (np.concatenate([x_slot, xi_slot, prev_slot]),
             "slot order: lambda has the slots (x, x_prev, xi) (lengths n, n, k); yours are in the order "
             "(x, xi, x_prev)."),
        ]
        message = first_match(got, candidates)
        if message is not None:
            return message
        sums = _partial_sums(J, g, 500)
        close = [L for L in range(2, len(sums) + 1) if matches(got, sums[L - 1])]
        if close:
            L = min(close, key=lambda L: np.linalg.norm(arr - sums[L - 1]))
            return (f"you truncated the Neumann series: your lambda is a partial sum sum_{{j<L}} (J^T)^j g "
                    f"(it matches L = {L} terms, unrolling through L steps). The partial sums approach lambda but "
                    "never reach it; solve the linear system (I - J^T) lambda = g for the limit.")
        if arr is None or arr.shape != g.shape:
            return problem + " lambda has the slots (x, x_prev, xi): length 2n + k."
        residual = np.linalg.norm((I - J.T) @ arr - g) / np.linalg.norm(g)
        return f"{problem} It does not solve (I - J^T) lambda = g: the relative residual is {residual:.2g}."

    def _explain_error(self, err):
        if isinstance(err, np.linalg.LinAlgError):
            return (" For these data I - J^T is invertible, so either your matrix is J^T alone (the adjoint "
                    "equation has I - J^T; J^T has zero columns where gamma_D is 0) or your J^T is not the one "
                    "of (3.7): a read-out missing gamma_P or gamma_D, or a missing factor (1 + theta), makes "
                    "I - J^T singular here.")
        return super()._explain_error(err)

    def _on_correct(self):
        _, J, g = self._instances[0]
        sums = _partial_sums(J, g, max(self._SHOWN_L))
        lam = np.linalg.solve(np.eye(g.size) - J.T, g)
        errors = ", ".join(f"{np.linalg.norm(sums[L - 1] - lam) / np.linalg.norm(lam):.2g} (L = {L})"
                           for L in self._SHOWN_L)
        return (" The unrolled series approaches your lambda: ||sum_{j<L} (J^T)^j g - lambda|| / ||lambda|| = "
                f"{errors}; L = 1 is g alone, the one-step gradient's adjoint.")


one_step_gradient = OneStepGradient()
