"""Each exercise checker on a right answer, every diagnosed mistake and a stub; the framework's guards."""
import numpy as np
import pytest

from cpteach import (asymptotics, backprop, chambolle_pock, fixed_point_gradient, implicit_gradient, problems,
                     prox)
from cpteach import exercises
from cpteach.exercises import Outcome
from cpteach.exercises import backprop as ex_backprop
from cpteach.exercises import chambolle_pock as ex_cp
from cpteach.exercises import fixed_point as ex_fp
from cpteach.exercises import learning as ex_learning


def _solution(exercise):
    namespace = {}
    exec(exercise.solution_code, {"np": np}, namespace)
    (function,) = namespace.values()
    return function


def _stub(*args):
    raise NotImplementedError


def _forgot_return(*args):
    np.zeros(3)


FUNCTION_EXERCISES = [exercises.prox_l1, exercises.prox_conjugate_l1, exercises.cp_step, exercises.backward_step,
                      exercises.gradient_sum, exercises.delta_P_limit, exercises.one_step_gradient,
                      exercises.ball_projection, exercises.ImplicitAdjoint(), exercises.BallProjectionVJP()]
QUESTIONS = [exercises.PredictLo(), exercises.WhyDeltaPZero(), exercises.PredictStepRatio()]


def _incorrect(result, expected):
    assert result.outcome is Outcome.INCORRECT and not result, result
    assert expected in result.message, result.message


# ---- the framework -----------------------------------------------------------------------

@pytest.mark.parametrize("exercise", FUNCTION_EXERCISES, ids=lambda e: e.name)
def test_reference_solution_is_correct(exercise):
    result = exercise.check(_solution(exercise))
    assert result.outcome is Outcome.CORRECT and bool(result), result


@pytest.mark.parametrize("exercise", FUNCTION_EXERCISES, ids=lambda e: e.name)
@pytest.mark.parametrize("answer", [None, NotImplemented, _stub, _forgot_return],
                         ids=["None", "NotImplemented", "raises", "returns None"])
def test_not_attempted_is_not_incorrect(exercise, answer):
    result = exercise.check(answer)
    assert result.outcome is Outcome.NOT_ATTEMPTED and not result


def test_forgotten_return_is_named():
    assert "return" in exercises.prox_l1.check(_forgot_return).message


@pytest.mark.parametrize("exercise", FUNCTION_EXERCISES, ids=lambda e: e.name)
def test_crashing_answer_is_reported_not_raised(exercise):
    _incorrect(exercise.check(lambda *args: 1 / 0), "your function raised ZeroDivisionError")


@pytest.mark.parametrize("exercise", FUNCTION_EXERCISES, ids=lambda e: e.name)
def test_answers_of_the_wrong_type_are_incorrect(exercise):
    _incorrect(exercise.check(3.0), "expected a function")
    assert exercise.check(lambda *args: "text").outcome is Outcome.INCORRECT


@pytest.mark.parametrize("exercise", FUNCTION_EXERCISES + QUESTIONS, ids=lambda e: e.name)
def test_hint_and_solution_are_messages(exercise):
    hint, solution = exercise.hint(), exercise.solution()
    assert hint.text and solution.text and "**" in hint._repr_markdown_()
    if exercise in FUNCTION_EXERCISES:
        assert "def " in solution.text


@pytest.mark.parametrize("target, exercise, answer", [
    ("cpteach.exercises.chambolle_pock._soft", exercises.prox_l1, lambda v, step: v),
    ("cpteach.exercises.fixed_point.fixed_point_closed_form", exercises.one_step_gradient, lambda *a: np.zeros(1)),
    ("cpteach.exercises.fixed_point._partial_sums", exercises.ImplicitAdjoint(), lambda J, g: g),
    ("cpteach.exercises.learning._project", exercises.BallProjectionVJP(), lambda v, x, r, w: w),
    ("cpteach.exercises.backprop.backprop", exercises.gradient_sum, lambda *a: np.zeros(1)),
])
def test_a_bug_in_the_checker_is_not_blamed_on_the_student(monkeypatch, target, exercise, answer):
    def broken(*args, **kwargs):
        raise IndexError("bug in the reference")
    monkeypatch.setattr(target, broken)
    with pytest.raises(exercises.CheckerError, match="not in your answer") as info:
        exercise.check(answer)
    assert isinstance(info.value.__cause__, IndexError)


def test_exercise_repr_names_the_exercise_without_an_address():
    assert repr(exercises.ImplicitAdjoint()) == ("<ImplicitAdjoint: the implicit adjoint (5.5); check(answer), hint(), "
                                                 "solution()>")


def test_outcome_is_an_enum_that_reads_as_text():
    result = exercises.prox_l1.check(_solution(exercises.prox_l1))
    assert result.outcome is Outcome.CORRECT and result.outcome == "correct" and str(result.outcome) == "correct"
    assert "Correct" in result._repr_html_() and str(result).startswith("CORRECT")


def test_result_html_escapes_the_message():
    html = exercises.CheckResult(Outcome.INCORRECT, "<b>x</b> & y")._repr_html_()
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in html


def test_student_inputs_are_copies():
    def mutating(v, step):
        v[:] = 0.0
        return v
    _incorrect(exercises.prox_l1.check(mutating), "differs")
    assert exercises.prox_l1.check(_solution(exercises.prox_l1))


# ---- notebook 01 ---------------------------------------------------------------------------

def _soft(v, t):
    return np.sign(v) * np.maximum(np.abs(v) - t, 0.0)


@pytest.mark.parametrize("answer, expected", [
    (lambda v, step: _soft(v, 1.0), "ignores the step size"),
    (lambda v, step: v * (np.abs(v) > step), "hard thresholding"),
    (lambda v, step: v - step * np.sign(v), "cross zero"),
    (lambda v, step: np.clip(v, -step, step), "projection"),
    (lambda v, step: _soft(v, 2 * step), "too much"),
    (lambda v, step: _soft(v, step / 2), "too little"),
    (lambda v, step: _soft(v, step ** 2), "enters linearly"),
    (lambda v, step: v + step, "differs"),
    (lambda v, step: v[:3], "shape"),
])
def test_prox_l1_points_at_the_mistake(answer, expected):
    _incorrect(exercises.prox_l1.check(answer), expected)


def test_prox_l1_message_does_not_print_the_answer():
    message = exercises.prox_l1.check(lambda v, step: _soft(v, 1.0)).message
    assert "maximum" not in message and "sign(" not in message


@pytest.mark.parametrize("answer, expected", [
    (lambda v, sigma: v - _soft(v, sigma), "prox_{F/sigma}"),
    (lambda v, sigma: _soft(v, sigma), "prox_{sigma F} itself"),
    (lambda v, sigma: _soft(v, 1.0), "shrunken part"),
    (lambda v, sigma: np.clip(v, -2, 2), "Check each factor sigma"),
])
def test_prox_conjugate_points_at_the_mistake(answer, expected):
    _incorrect(exercises.prox_conjugate_l1.check(answer), expected)


def _cp_step(K, x, x_l, x_bar, xi, tau, sigma, theta, shift=True, use_bar=True, new_xi=True, sign=1.0):
    xi_next = np.clip(xi + sigma * K @ (x_bar if use_bar else x_l), -1, 1)
    z_P = x_l - tau * K.T @ (xi_next if new_xi else xi)
    x_next = ((z_P - x) / (1 + tau) + x) if shift else z_P / (1 + tau)
    return x_next, x_next + sign * theta * (x_next - x_l), xi_next


@pytest.mark.parametrize("kwargs, expected", [({"shift": False}, "shift by the data"),
                                              ({"use_bar": False}, "extrapolated point"),
                                              ({"new_xi": False}, "new dual iterate"),
                                              ({"sign": -1.0}, "sign of the extrapolation")])
def test_cp_step_points_at_the_mistake(kwargs, expected):
    _incorrect(exercises.cp_step.check(lambda *args: _cp_step(*args, **kwargs)), expected)


def test_cp_step_wrong_return_type():
    _incorrect(exercises.cp_step.check(lambda *args: args[1]), "tuple")


# ---- notebook 02 ---------------------------------------------------------------------------

def _backward(K, prime_P, prime_D, dP1, dD1, dD2, tau, sigma, theta, extrapolate=True, prime=True, sign=-1.0,
              new_delta_P=True):
    delta_P = (prime_P if prime else 1.0) * (dP1 + sigma * K.T @ (dD1 + (theta if extrapolate else 0.0) * (dD1 - dD2)))
    return delta_P, prime_D * (dD1 + sign * tau * K @ (delta_P if new_delta_P else dP1))


@pytest.mark.parametrize("kwargs, expected", [({"extrapolate": False}, "(3.1)"), ({"prime": False}, "prime_P"),
                                              ({"sign": 1.0}, "sign in (3.3)"),
                                              ({"new_delta_P": False}, "just computed")])
def test_backward_step_points_at_the_mistake(kwargs, expected):
    _incorrect(exercises.backward_step.check(lambda *args: _backward(*args, **kwargs)), expected)


def test_gradient_sum_points_at_the_mistake():
    right = _solution(exercises.gradient_sum)

    def terms(trace, delta_P, delta_D, point=lambda trace, l: trace.x_bar(l - 1)):
        first = sum(trace.sigma * np.outer(delta_D[l - 1], point(trace, l)) for l in range(1, trace.L + 1))
        second = sum(trace.tau * np.outer(trace.xi(l), delta_P[l - 1]) for l in range(1, trace.L + 1))
        return first, second

    cases = [
        (lambda *a: -right(*a), "poster's start y - x^L"),
        (lambda *a: sum(terms(*a)), "sign of the second term"),
        (lambda *a: terms(*a)[0], "second term of (3.4)"),
        (lambda *a: -terms(*a)[1], "first term of (3.4)"),
        (lambda t, p, d: terms(t, p, d, lambda trace, l: trace.x(l - 1))[0] - terms(t, p, d)[1], "not x^{l-1}"),
        (lambda t, p, d: terms(t, p, d, lambda trace, l: trace.x_bar(l))[0] - terms(t, p, d)[1], "index shift"),
        (lambda *a: right(*a).T, "transposed"),
    ]
    for answer, expected in cases:
        _incorrect(exercises.gradient_sum.check(answer), expected)


# ---- notebook 03 ---------------------------------------------------------------------------

def _projection_onto_kernel(A, e):
    import scipy.linalg
    N = scipy.linalg.null_space(A)
    return N @ (N.T @ e)


@pytest.mark.parametrize("answer, expected", [
    (lambda K, P, D, e: P * e, "returned P e itself"),
    (lambda K, P, D, e: np.zeros(K.shape[1]), "limit is 0 only when"),
    (lambda K, P, D, e: e, "non-zero where P is False"),
    (lambda K, P, D, e: _projection_onto_kernel(K[D], e), "ignores the primal mask"),
])
def test_delta_P_limit_points_at_the_mistake(answer, expected):
    _incorrect(exercises.delta_P_limit.check(answer), expected)


def test_delta_P_limit_recognises_the_unmasked_kernel():
    def unmasked(K, P, D, e):        # ker(K) instead of ker(DK): the poster's statement read literally
        out = np.zeros(K.shape[1])
        out[P] = _projection_onto_kernel(K[:, P], e[P])
        return out
    _incorrect(exercises.delta_P_limit.check(unmasked), "ker(K)")


# ---- notebook 04: the one-step gradient --------------------------------------------------------

def _one_step(K, x, y, x_star, xi_star, tau, sigma, mask_point=None, prime=None, sign=-1.0, residual_sign=1.0,
              mask=True, steps=None, point=None):
    delta_P = residual_sign * (x_star - y) / (1 + tau if prime is None else prime)
    z_D = xi_star + sigma * K @ x_star if mask_point is None else mask_point
    delta_D = ((np.abs(z_D) < 1) if mask else 1.0) * (sign * tau * K @ delta_P)
    a, b = (sigma, tau) if steps is None else steps
    return a * np.outer(delta_D, x_star if point is None else point) - b * np.outer(xi_star, delta_P)


@pytest.mark.parametrize("make, expected", [
    (lambda K, x, y, xs, xi, t, s: _one_step(K, x, y, xs, xi, t, s, sign=1.0), "sign in (5.2)"),
    (lambda K, x, y, xs, xi, t, s: _one_step(K, x, y, xs, xi, t, s, prime=1.0), "missing the derivative"),
    (lambda K, x, y, xs, xi, t, s: _one_step(K, x, y, xs, xi, t, s, prime=1 + s), "1 / (1 + tau)"),
    (lambda K, x, y, xs, xi, t, s: _one_step(K, x, y, xs, xi, t, s, mask_point=xi), "not at xi*"),
    (lambda K, x, y, xs, xi, t, s: _one_step(K, x, y, xs, xi, t, s, residual_sign=-1.0), "poster's negative"),
    (lambda K, x, y, xs, xi, t, s: _one_step(K, x, y, xs, xi, t, s, mask=False), "missing the mask"),
    (lambda K, x, y, xs, xi, t, s: _one_step(K, x, y, xs, xi, t, s, steps=(t, s)), "step sizes in (5.3)"),
    (lambda K, x, y, xs, xi, t, s: _one_step(K, x, y, xs, xi, t, s, point=x), "not with the data x"),
    (lambda *args: _one_step(*args).T, "transposed"),
])
def test_one_step_gradient_points_at_the_mistake(make, expected):
    _incorrect(exercises.one_step_gradient.check(make), expected)


# ---- notebook 04: the implicit adjoint -------------------------------------------------------

def test_implicit_adjoint_data_against_the_matrix_free_adjoint():
    """lambda from the finite-difference J equals the GMRES adjoint of implicit_gradient (built from prox_vjp)."""
    ex = exercises.ImplicitAdjoint()
    J, g = ex.data()
    p = ex.problem
    ig = implicit_gradient(p.K, p.F, p.G, p.x, p.y, tau=p.tau, sigma=p.sigma, theta=p.theta, tol=1e-13)
    lam = np.linalg.solve(np.eye(g.size) - J.T, g)
    assert np.allclose(lam, np.concatenate([np.ravel(a) for a in ig.adjoint]), rtol=1e-7, atol=1e-9)
    assert np.allclose(g[:p.x.size], ig.x_star - p.y, atol=1e-10) and not np.allclose(J, J.T)
    z_D = ig.xi_star + p.sigma * p.K.apply(ig.x_star)                 # off the kinks |z_D| = 0.3: J is exact
    assert np.min(np.abs(np.abs(z_D) - 0.3)) > 0.08 and np.sum(np.abs(z_D) > 0.3) == 1


def test_implicit_adjoint_partial_sums_approach_the_solution():
    ex = exercises.ImplicitAdjoint()
    J, g = ex.data()
    lam = np.linalg.solve(np.eye(g.size) - J.T, g)
    sums = ex.partial_sums(100)
    errors = np.linalg.norm(sums - lam, axis=1) / np.linalg.norm(lam)
    assert sums.shape == (100, g.size) and np.allclose(sums[0], g) and np.allclose(sums[1], g + J.T @ g)
    assert errors[0] > 0.3 and errors[-1] < 1e-10 and np.all(np.diff(errors[:40]) < 0)
    with pytest.raises(ValueError, match="L must be >= 1"):
        ex.partial_sums(0)
    with pytest.raises(TypeError, match="integer"):
        ex.partial_sums(2.5)


def test_implicit_adjoint_correct_message_shows_the_series():
    result = exercises.ImplicitAdjoint().check(_solution(exercises.ImplicitAdjoint()))
    assert result and "(L = 1)" in result.message and "(L = 100)" in result.message


def _series(J, g, L):
    total, term = np.zeros_like(g), g
    for _ in range(L):
        total, term = total + term, J.T @ term
    return total


@pytest.mark.parametrize("answer, expected", [
    (lambda J, g: np.linalg.solve(np.eye(len(g)) - J, g), "has the transpose"),
    (lambda J, g: np.linalg.solve(np.eye(len(g)) - J.T, -g), "wrong sign"),
    (lambda J, g: np.linalg.solve(J.T - np.eye(len(g)), g), "wrong sign"),
    (lambda J, g: np.linalg.solve(np.eye(len(g)) + J.T, g), "sign of J^T"),
    (lambda J, g: np.linalg.lstsq(J.T, g, rcond=None)[0], "identity is missing"),
    (lambda J, g: np.linalg.solve(J.T, g), "I - J^T"),             # singular here: the student's solve raises
    (lambda J, g: g, "first term of the series"),
    (lambda J, g: _series(J, g, 20), "first 20 terms"),
    (lambda J, g: np.linalg.solve(np.eye(len(g)) - 0.5 * J.T, g), "relative residual"),
    (lambda J, g: g[:3], "shape"),
])
def test_implicit_adjoint_points_at_the_mistake(answer, expected):
    _incorrect(exercises.ImplicitAdjoint().check(answer), expected)


def test_implicit_adjoint_rejects_a_hard_coded_answer():
    ex = exercises.ImplicitAdjoint()
    J, g = ex.data()
    lam = np.linalg.solve(np.eye(g.size) - J.T, g)
    _incorrect(ex.check(lambda J_, g_: lam if J_.shape == J.shape else np.zeros_like(g_)), "lambda")


def test_implicit_adjoint_message_does_not_print_the_answer():
    ex = exercises.ImplicitAdjoint()
    J, g = ex.data()
    lam = np.linalg.solve(np.eye(g.size) - J.T, g)
    message = ex.check(lambda J, g: np.linalg.solve(np.eye(len(g)) - J, g)).message
    assert "np.linalg" not in message and f"{lam[0]:.3g}" not in message


# ---- notebook 05 ---------------------------------------------------------------------------

def test_ball_projection_points_at_the_mistake():
    def no_shift(v, x, radius):
        return v * min(1.0, radius / np.linalg.norm(v))

    def always_scale(v, x, radius):
        return x + (v - x) * radius / np.linalg.norm(v - x)

    _incorrect(exercises.ball_projection.check(no_shift), "centred")
    _incorrect(exercises.ball_projection.check(always_scale), "must stay where they are")
    _incorrect(exercises.ball_projection.check(lambda v, x, radius: x), "nearest point")


def _ball_vjp(v, x, radius, w, centre=True, inside=True, damping=True, remove=True, sign=-1.0):
    d = v - x if centre else v
    norm = np.sqrt(np.sum(d * d))
    if inside and norm <= radius:
        return w
    out = w + (sign * d * np.sum(d * w) / norm ** 2 if remove else 0.0)
    return radius / norm * out if damping else out


@pytest.mark.parametrize("kwargs, expected", [
    ({"damping": False}, "factor radius / ||v - x|| is missing"),
    ({"inside": False}, "inside the ball the projection is the identity"),
    ({"centre": False}, "centred at the data x"),
    ({"remove": False}, "component of w along d"),
    ({"sign": 1.0}, "SUBTRACTS"),
])
def test_ball_vjp_points_at_the_mistake(kwargs, expected):
    _incorrect(exercises.BallProjectionVJP().check(lambda *args: _ball_vjp(*args, **kwargs)), expected)


def test_ball_vjp_against_the_library_vjp():
    """The exercise's finite-difference oracle accepts the library's prox_vjp (an independent implementation)."""
    def library(v, x, radius, w):
        return prox.L2Ball(radius).prox_vjp(v - x, 1.0, w)
    assert exercises.BallProjectionVJP().check(library)
    identity_everywhere = exercises.BallProjectionVJP().check(lambda v, x, radius, w: w)
    _incorrect(identity_everywhere, "for v outside the ball differs")


# ---- predict-then-verify questions ---------------------------------------------------------

@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.name)
def test_question_outcomes(question):
    right_text = question.choices[question.answer]
    assert question.check(f" {question.answer.upper()} ") and question.check(f"({question.answer})")
    for answer in (None, "", "  "):
        assert question.check(answer).outcome is Outcome.NOT_ATTEMPTED
    for letter in question.choices:
        if letter != question.answer:
            result = question.check(letter)
            assert result.outcome is Outcome.INCORRECT and right_text not in result.message
            assert question.feedback[letter] in result.message
    _incorrect(question.check("z"), "not one of the choices")
    _incorrect(question.check(3), "letter")
    assert right_text in question.solution().text and question.explanation in question.solution().text
    assert all(text in question._repr_markdown_() for text in question.choices.values())
    assert question.question in repr(question)


@pytest.fixture(scope="module")
def l1_l1_problem():
    """Notebook 03's summable L1-L1 problem (random 20 x 10 K, F = 0.2||.||_1, G = 0.3||.||_1)."""
    p = problems.l1_l1_problem()
    return p.K, p.F, p.G, p.x, p.y, p.tau, p.sigma


def test_why_delta_P_zero_claims_hold(l1_l1_problem):
    """The facts WhyDeltaPZero's choices rest on, measured: Delta_P = 0, Delta_D and delta_P^L are not, x* != x."""
    K, F, G, x, y, tau, sigma = l1_l1_problem
    ig = implicit_gradient(K, F, G, x, y, tau=tau, sigma=sigma, tol=1e-12, max_iter=100000)
    trace = chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, L=2000)
    res = backprop(trace, y)
    m = asymptotics.masks(trace)
    P, D = m.M_P[-1].astype(bool), m.M_D[-1].astype(bool)
    assert np.linalg.norm(ig.Delta_P) < 1e-8 * np.linalg.norm(ig.Delta_D)
    assert np.linalg.norm(res.delta_P[-1]) > 0.5 and np.sum(np.abs(ig.x_star - x) > 1e-6) >= 3
    assert np.linalg.matrix_rank(K.params[np.ix_(D, P)]) == P.sum() > 0           # range(P) ∩ ker(DK) = {0}


def test_predict_l_o_claim_holds(l1_l1_problem):
    """PredictLo's answer, measured: with sigma fixed, l_o grows and l_o * tau stays within a factor 1.5."""
    K, F, G, x, y, tau, sigma = l1_l1_problem
    l_o = [asymptotics.masks(chambolle_pock(K, F, G, x, tau=tau / f, sigma=sigma, L=1500 * f)).l_o for f in (1, 4)]
    assert l_o[1] > 2 * l_o[0]
    assert 1 / 1.5 < (l_o[1] * tau / 4) / (l_o[0] * tau) < 1.5


def test_predict_step_ratio_claim_holds():
    """PredictStepRatio's answer, measured on the ball problem: sigma/tau = 1/4 vs 4 (tau*sigma fixed) moves the
    one-step gradient by more than 10% and the implicit gradient by less than 1e-6."""
    p = problems.ball_problem()
    grads = []
    for ratio in (0.25, 4.0):
        tau, sigma = 0.95 / p.K.norm() / np.sqrt(ratio), 0.95 * np.sqrt(ratio) / p.K.norm()
        kwargs = dict(tau=tau, sigma=sigma, tol=1e-11, max_iter=200000)
        grads.append((fixed_point_gradient(p.K, p.F, p.G, p.x, p.y, **kwargs).grad_K,
                      implicit_gradient(p.K, p.F, p.G, p.x, p.y, **kwargs).grad_K))
    (one_step_a, implicit_a), (one_step_b, implicit_b) = grads
    assert np.linalg.norm(one_step_a - one_step_b) > 0.1 * np.linalg.norm(one_step_b)
    assert np.linalg.norm(implicit_a - implicit_b) < 1e-6 * np.linalg.norm(implicit_b)


def test_ball_vjp_variants_are_distinguishable():
    """No diagnosed mistake of BallProjectionVJP is shadowed by an earlier one (each reaches its own message)."""
    ex = exercises.BallProjectionVJP()
    for variant, message in ex._MESSAGES.items():
        result = ex.check(lambda v, x, radius, w, variant=variant: ex_learning._vjp_variant(v, x, radius, w, variant))
        _incorrect(result, message)


@pytest.mark.parametrize("exercise, variant_function", [
    (exercises.cp_step, ex_cp._cp_step_variant), (exercises.backward_step, ex_backprop._backward_variant),
    (exercises.one_step_gradient, ex_fp._one_step_variant)])
def test_variants_are_distinguishable(exercise, variant_function):
    """Each known mistake of the table-driven checkers reaches its own message (none is shadowed)."""
    for variant, message in exercise._messages.items():
        result = exercise.check(lambda *args, variant=variant: variant_function(*args, variant=variant))
        _incorrect(result, message)
