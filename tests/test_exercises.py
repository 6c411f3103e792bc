"""Each exercise checker on a right answer, every diagnosed mistake and a stub; the framework's guards."""
import numpy as np
import pytest

from cpteach import asymptotics, backprop, chambolle_pock, fixed_point_gradient, implicit_gradient, problems
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
QUESTIONS = [exercises.PredictLo(), exercises.WhyDeltaPZero(), exercises.PredictStepRatio(),
             exercises.PredictDescent()]


def _incorrect(result, expected):
    assert result.outcome is Outcome.INCORRECT and not result, result
    assert expected in result.message, result.message


# ---- the framework -----------------------------------------------------------------------

@pytest.mark.parametrize("exercise", FUNCTION_EXERCISES, ids=lambda e: e.name)
def test_reference_solution_is_correct(exercise):
    result = exercise.check(_solution(exercise))
    assert result.outcome is Outcome.CORRECT and bool(result), result


@pytest.mark.parametrize("exercise", FUNCTION_EXERCISES, ids=lambda e: e.name)
@pytest.mark.parametrize("answer", [None, NotImplemented, _stub], ids=["None", "NotImplemented", "raises"])
def test_not_attempted_is_not_incorrect(exercise, answer):
    result = exercise.check(answer)
    assert result.outcome is Outcome.NOT_ATTEMPTED and not result


@pytest.mark.parametrize("exercise", FUNCTION_EXERCISES, ids=lambda e: e.name)
def test_returning_none_is_incorrect_and_named(exercise):
    """A function that returns None is incorrect (a `return` missing in one branch), not "not attempted"."""
    _incorrect(exercise.check(_forgot_return), "returns None when")
    assert "a `return` missing in one branch?" in exercise.check(_forgot_return).message


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
    ("cpteach.exercises.fixed_point._partial_sums", exercises.ImplicitAdjoint(), lambda *a: np.zeros(14)),
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
    _incorrect(exercises.prox_l1.check(mutating), "prox_l1")
    assert exercises.prox_l1.check(_solution(exercises.prox_l1))


# ---- notebook 04: the implicit adjoint -------------------------------------------------------

def test_implicit_adjoint_data_against_the_matrix_free_adjoint():
    """lambda from the finite-difference J equals the GMRES adjoint of implicit_gradient (built from prox_vjp)."""
    ex = exercises.ImplicitAdjoint()
    J, g = ex.jacobian()
    p = ex.problem
    ig = implicit_gradient(p.K, p.F, p.G, p.x, p.y, tau=p.tau, sigma=p.sigma, theta=p.theta, tol=1e-13)
    lam = np.linalg.solve(np.eye(g.size) - J.T, g)
    assert np.allclose(lam, np.concatenate([np.ravel(a) for a in ig.adjoint]), rtol=1e-7, atol=1e-9)
    assert np.allclose(g[:p.x.size], ig.x_star - p.y, atol=1e-10) and not np.allclose(J, J.T)
    z_D = ig.xi_star + p.sigma * p.K.apply(ig.x_star)                 # off the kinks |z_D| = 0.3: J is exact
    assert np.min(np.abs(np.abs(z_D) - 0.3)) > 0.08 and np.sum(np.abs(z_D) > 0.3) == 1


def test_implicit_adjoint_partial_sums_approach_the_solution():
    ex = exercises.ImplicitAdjoint()
    J, g = ex.jacobian()
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


def test_implicit_adjoint_rejects_a_hard_coded_answer():
    ex = exercises.ImplicitAdjoint()
    J, g = ex.jacobian()
    lam = np.linalg.solve(np.eye(g.size) - J.T, g)
    _incorrect(ex.check(lambda K, *rest: lam if K.shape == (4, 5) else np.zeros(2 * K.shape[1] + K.shape[0])),
               "lambda")


def test_implicit_adjoint_message_does_not_print_the_answer():
    ex = exercises.ImplicitAdjoint()
    J, g = ex.jacobian()
    lam = np.linalg.solve(np.eye(g.size) - J.T, g)
    message = ex.check(lambda K, gP, gD, e, *rest: np.concatenate([e, e, np.zeros(K.shape[0])])).message
    assert "np.linalg" not in message and f"{lam[0]:.3g}" not in message


def test_float32_answers_pass_and_nan_is_named():
    def prox_l1_float32(v, step):
        v = v.astype(np.float32)
        return np.sign(v) * np.maximum(np.abs(v) - np.float32(step), np.float32(0))
    assert exercises.prox_l1.check(prox_l1_float32)
    _incorrect(exercises.prox_l1.check(lambda v, step: np.full_like(v, np.nan)), "contains NaN")


def test_shape_error_of_a_product_asks_for_K_transpose():
    def cp_step(K, x, x_l, x_bar, xi, tau, sigma, theta):
        xi_next = np.clip(xi + sigma * K @ x_bar, -1, 1)
        return x_l - tau * K @ xi_next, x_bar, xi_next
    _incorrect(exercises.cp_step.check(cp_step), "did you use K where K^T belongs")


# ---- predict-then-verify questions ---------------------------------------------------------

@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.name)
def test_questions_hints_and_solutions_render_as_written_in_markdown(question):
    """Rendered as Markdown (as a notebook shows them), the texts keep their ASCII maths: tau*sigma, (x*, xi*),
    l_o are not turned into italics, and the plain-text view has no escapes."""
    from markdown_it import MarkdownIt

    for message in (question.prompt(), question.solution(), question.hint()):
        rendered = MarkdownIt().render(message._repr_markdown_())
        assert "<em>" not in rendered, rendered
        plain_text = str(message)
        assert "\\*" not in plain_text and "\\_" not in plain_text
    assert question.question.split()[3] in str(question.prompt())


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
    assert right_text in str(question.solution()) and question.explanation in str(question.solution())
    assert all(text in str(question.prompt()) for text in question.choices.values())
    assert question.question in repr(question)


@pytest.fixture(scope="module")
def l1_l1_problem():
    """Notebook 03b's summable L1-L1 problem (random 20 x 10 K, F = 0.2||.||_1, G = 0.3||.||_1)."""
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


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.name)
def test_verification_waits_for_an_answer(question):
    """Predict-then-verify: the verification is shown only once an answer (right or wrong) is given."""
    figure = object()
    assert "answer the question above first" in question.verify(None, figure).text
    wrong = next(letter for letter in question.choices if letter != question.answer)
    assert question.verify(wrong, figure) is figure and question.verify(question.answer, figure) is figure
    assert "```text\nrow 1\nrow 2\n```" in question.verify(question.answer, "row 1\nrow 2").text


def test_one_step_data_make_each_part_observable():
    """one_step_gradient's data: some dual entries clipped, some not; tau != sigma; x != x*."""
    rng = np.random.default_rng(7)
    K = rng.standard_normal((6, 5)) / 3
    x, y, x_star = rng.standard_normal((3, 5))
    xi_star = np.array([1.0, -1.0, 0.3, -0.6, 1.0, 0.1])
    unclipped = np.abs(xi_star + 0.45 * K @ x_star) <= 1
    assert 0 < unclipped.sum() < unclipped.size and np.linalg.norm(x - x_star) > 0.5


def test_reveal_waits_for_a_prediction():
    """A 'predict, then look' cell without a question shows its numbers only once a prediction is written down."""
    figure = object()
    for prediction in (None, "", "   "):
        assert "write your prediction first" in exercises.reveal(prediction, "rho = 0.99").text
    assert exercises.reveal("slower", figure) is figure
    assert "```text\nrho = 0.99\n```" in exercises.reveal("slower", "rho = 0.99").text
