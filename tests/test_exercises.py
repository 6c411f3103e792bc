"""Each exercise checker on a right answer, typical wrong answers and a stub."""
import numpy as np
import pytest

from cpteach import exercises


def _solution(exercise):
    namespace = {}
    exec(exercise.solution_code, {"np": np}, namespace)
    (function,) = namespace.values()
    return function


def _stub(*args):
    raise NotImplementedError


EXERCISES = [exercises.prox_l1, exercises.prox_conjugate_l1, exercises.cp_step,
             exercises.backward_step, exercises.gradient_sum]


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_reference_solution_is_correct(exercise):
    result = exercise.check(_solution(exercise))
    assert result.status == "correct" and bool(result)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
@pytest.mark.parametrize("answer", [None, NotImplemented, _stub], ids=["None", "NotImplemented", "stub"])
def test_not_attempted_is_not_incorrect(exercise, answer):
    result = exercise.check(answer)
    assert result.status == "not attempted" and not result


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_crashing_answer_is_reported_not_raised(exercise):
    result = exercise.check(lambda *args: 1 / 0)
    assert result.status == "incorrect" and "ZeroDivisionError" in result.message


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_hint_and_solution_are_messages(exercise):
    assert exercise.hint().text and "def " in exercise.solution().text


def _soft(v, t):
    return np.sign(v) * np.maximum(np.abs(v) - t, 0.0)


@pytest.mark.parametrize("answer, expected", [
    (lambda v, step: _soft(v, 1.0), "ignores the step size"),
    (lambda v, step: _soft(v, 2 * step), "wrong amount"),
    (lambda v, step: v * (np.abs(v) > step), "hard thresholding"),
    (lambda v, step: np.clip(v, -step, step), "projection"),
    (lambda v, step: v + step, "differs"),
])
def test_prox_l1_points_at_the_mistake(answer, expected):
    result = exercises.prox_l1.check(answer)
    assert result.status == "incorrect" and expected in result.message


def test_prox_l1_message_does_not_print_the_answer():
    message = exercises.prox_l1.check(lambda v, step: _soft(v, 1.0)).message
    assert "maximum" not in message and "sign(" not in message


def test_prox_conjugate_recognises_unscaled_moreau():
    result = exercises.prox_conjugate_l1.check(lambda v, sigma: v - _soft(v, sigma))
    assert result.status == "incorrect" and "prox_{F/sigma}" in result.message


def _cp_step(K, x, x_l, x_bar, xi, tau, sigma, theta, shift=True, use_bar=True):
    xi_next = np.clip(xi + sigma * K @ (x_bar if use_bar else x_l), -1, 1)
    z_P = x_l - tau * K.T @ xi_next
    x_next = ((z_P - x) / (1 + tau) + x) if shift else z_P / (1 + tau)
    return x_next, x_next + theta * (x_next - x_l), xi_next


@pytest.mark.parametrize("kwargs, expected", [({"shift": False}, "shift by the data"),
                                              ({"use_bar": False}, "extrapolated point")])
def test_cp_step_points_at_the_mistake(kwargs, expected):
    result = exercises.cp_step.check(lambda *args: _cp_step(*args, **kwargs))
    assert result.status == "incorrect" and expected in result.message


def test_cp_step_wrong_return_type():
    assert "tuple" in exercises.cp_step.check(lambda *args: args[1]).message


def test_backward_step_sign_of_3_3():
    def wrong(K, prime_P, prime_D, dP1, dD1, dD2, tau, sigma, theta):
        delta_P = prime_P * (dP1 + sigma * K.T @ (dD1 + theta * (dD1 - dD2)))
        return delta_P, prime_D * (dD1 + tau * K @ delta_P)
    result = exercises.backward_step.check(wrong)
    assert result.status == "incorrect" and "sign in (3.3)" in result.message


def test_gradient_sum_poster_sign():
    right = _solution(exercises.gradient_sum)
    result = exercises.gradient_sum.check(lambda *args: -right(*args))
    assert result.status == "incorrect" and "poster's start y - x^L" in result.message


def test_result_renders_html():
    assert "Correct" in exercises.prox_l1.check(_solution(exercises.prox_l1))._repr_html_()


# notebooks 03 and 04 ---------------------------------------------------------------------

NEW_EXERCISES = [exercises.delta_P_limit, exercises.one_step_gradient]


@pytest.mark.parametrize("exercise", NEW_EXERCISES, ids=lambda e: e.name)
def test_new_exercises_right_wrong_and_not_attempted(exercise):
    assert exercise.check(_solution(exercise)).status == "correct"
    for answer in (None, _stub):
        assert exercise.check(answer).status == "not attempted"
    wrong = exercise.check(lambda *args: 2 * _solution(exercise)(*args))
    assert wrong.status == "incorrect" and not wrong
    assert exercise.hint().text and "def " in exercise.solution().text


@pytest.mark.parametrize("answer, expected", [
    (lambda K, P, D, e: P * e, "returned P e itself"),
    (lambda K, P, D, e: np.zeros(K.shape[1]), "limit is 0 only when"),
    (lambda K, P, D, e: e, "non-zero where P is False"),
])
def test_delta_P_limit_points_at_the_mistake(answer, expected):
    result = exercises.delta_P_limit.check(answer)
    assert result.status == "incorrect" and expected in result.message


def test_delta_P_limit_recognises_the_unmasked_kernel():
    import scipy.linalg

    def unmasked(K, P, D, e):        # ker(K) instead of ker(DK): the poster's statement read literally
        out = np.zeros(K.shape[1])
        N = scipy.linalg.null_space(K[:, P])
        out[P] = N @ (N.T @ e[P])
        return out
    result = exercises.delta_P_limit.check(unmasked)
    assert result.status == "incorrect" and "ker(K)" in result.message


def _one_step(K, x, y, x_star, xi_star, tau, sigma, mask_point=None, prime=None, sign=-1.0):
    delta_P = (x_star - y) / (1 + tau if prime is None else prime)
    z_D = xi_star + sigma * K @ x_star if mask_point is None else mask_point
    delta_D = (np.abs(z_D) < 1) * (sign * tau * K @ delta_P)
    return sigma * np.outer(delta_D, x_star) - tau * np.outer(xi_star, delta_P)


@pytest.mark.parametrize("kwargs, expected", [
    ({"sign": 1.0}, "sign in (5.2)"),
    ({"prime": 1.0}, "missing the derivative of prox_{tau G}"),
])
def test_one_step_gradient_points_at_the_mistake(kwargs, expected):
    result = exercises.one_step_gradient.check(lambda *args: _one_step(*args, **kwargs))
    assert result.status == "incorrect" and expected in result.message


def test_one_step_gradient_mask_and_step_mistakes():
    mask_at_xi = exercises.one_step_gradient.check(lambda K, x, y, xs, xi, t, s: _one_step(K, x, y, xs, xi, t, s,
                                                                                          mask_point=xi))
    assert "not at xi*" in mask_at_xi.message
    sigma_step = exercises.one_step_gradient.check(lambda K, x, y, xs, xi, t, s: _one_step(K, x, y, xs, xi, t, s,
                                                                                          prime=1 + s))
    assert "1 / (1 + tau)" in sigma_step.message
    transposed = exercises.one_step_gradient.check(lambda *args: _one_step(*args).T)
    assert "transposed" in transposed.message
