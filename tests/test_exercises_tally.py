"""Every exercise against the student code of tests/test_exercises_<module>.py (one module per module of
cpteach.exercises, written from the mathematics): each correct variant passes, each typical mistake is rejected
with a message that names it; and the tally of issue 15 (at least 5 and 8 per exercise).

Print the table with ``python tests/test_exercises_tally.py``.
"""
import warnings

import pytest
import test_exercises_asymptotics
import test_exercises_backprop
import test_exercises_chambolle_pock
import test_exercises_fixed_point
import test_exercises_learning

from cpteach.exercises import Outcome

MODULES = [test_exercises_chambolle_pock, test_exercises_backprop, test_exercises_asymptotics,
           test_exercises_fixed_point, test_exercises_learning]
CASES = [case for module in MODULES for case in module.CASES]
CORRECT = [(exercise, name, f) for exercise, correct, _ in CASES for name, f in correct]
MISTAKES = [(exercise, name, f, expected) for exercise, _, wrong in CASES for name, f, expected in wrong]


def named(result, expected):
    """Whether ``result`` is INCORRECT with a message that names the mistake (contains ``expected``)."""
    return result.outcome is Outcome.INCORRECT and not result and expected in result.message


@pytest.mark.parametrize("exercise, name, answer", CORRECT, ids=[f"{e.name}: {n}" for e, n, _ in CORRECT])
def test_correct_variants_pass(exercise, name, answer):
    result = exercise.check(answer)
    assert result.outcome is Outcome.CORRECT, result


@pytest.mark.filterwarnings("ignore::RuntimeWarning")       # the students' 0/0
@pytest.mark.parametrize("exercise, name, answer, expected", MISTAKES,
                         ids=[f"{e.name}: {n}" for e, n, _, _ in MISTAKES])
def test_mistakes_are_named(exercise, name, answer, expected):
    result = exercise.check(answer)
    assert named(result, expected), result


def tally():
    """Rows (exercise name, correct accepted, correct total, mistakes named, mistakes total)."""
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for exercise, correct, mistakes in CASES:
            accepted = sum(exercise.check(f).outcome is Outcome.CORRECT for _, f in correct)
            rejected = sum(named(exercise.check(f), expected) for _, f, expected in mistakes)
            rows.append((exercise.name, accepted, len(correct), rejected, len(mistakes)))
    return rows


def test_every_exercise_has_enough_variants():
    assert len(CASES) == 10
    for exercise, correct, mistakes in CASES:
        assert len(correct) >= 5 and len(mistakes) >= 8, exercise.name


if __name__ == "__main__":
    print(f"{'exercise':45s} {'correct accepted':>17s} {'mistakes named':>15s}")
    for name, accepted, n_correct, rejected, n_mistakes in tally():
        print(f"{name:45s} {accepted:>10d} / {n_correct:<4d} {rejected:>9d} / {n_mistakes:<4d}")
