"""The checker tally of issue 15: per exercise, correct variants accepted and typical mistakes rejected with a
message that names them (the student code lives in tests/test_exercises_<module>.py).

Print the table with ``python tests/test_exercises_tally.py``.
"""
import test_exercises_asymptotics
import test_exercises_backprop
import test_exercises_chambolle_pock
import test_exercises_fixed_point
import test_exercises_learning
import warnings

from cpteach.exercises import Outcome

MODULES = [test_exercises_chambolle_pock, test_exercises_backprop, test_exercises_asymptotics,
           test_exercises_fixed_point, test_exercises_learning]


def tally():
    """Rows (exercise name, correct accepted, correct total, mistakes named, mistakes total)."""
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)        # the students' 0/0
        for module in MODULES:
            for exercise, correct, mistakes in module.CASES:
                accepted = sum(exercise.check(f).outcome is Outcome.CORRECT for _, f in correct)
                named = 0
                for _, f, expected in mistakes:
                    result = exercise.check(f)
                    named += result.outcome is Outcome.INCORRECT and expected in result.message
                rows.append((exercise.name, accepted, len(correct), named, len(mistakes)))
    return rows


def test_every_exercise_has_enough_variants_and_all_pass():
    rows = tally()
    assert len(rows) == 10
    for name, accepted, n_correct, named, n_mistakes in rows:
        assert n_correct >= 5 and n_mistakes >= 8, name
        assert accepted == n_correct and named == n_mistakes, name


if __name__ == "__main__":
    print(f"{'exercise':45s} {'correct accepted':>17s} {'mistakes named':>15s}")
    for name, accepted, n_correct, named, n_mistakes in tally():
        print(f"{name:45s} {accepted:>10d} / {n_correct:<4d} {named:>9d} / {n_mistakes:<4d}")
