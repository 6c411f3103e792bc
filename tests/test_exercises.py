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
