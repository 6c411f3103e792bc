"""The checker framework shared by all exercises (no section of docs/theory.md of its own).

An exercise is a small object in the style of Kaggle's learntools:

- ``check(answer)`` returns a :class:`CheckResult` whose ``outcome`` is an
  :class:`Outcome`: ``NOT_ATTEMPTED`` (``None``, ``NotImplemented``, or a function that
  still raises ``NotImplementedError``), ``INCORRECT`` (with a message that names the
  mistake without printing the answer; a function that returns ``None`` for some inputs
  is incorrect: a ``return`` is missing in one branch) or ``CORRECT``;
- ``hint()`` and ``solution()`` return a :class:`Message`, shown as Markdown.

Only the student's own call is guarded: an exception raised by the student's function is
reported as "your function raised ..." (a shape error of a matrix product is explained:
"did you use K where K^T belongs?"), while an exception anywhere else in a checker
(the reference, the diagnosis) is a bug in cpteach and is raised as :class:`CheckerError`.
The student's function gets deep copies of its arguments (it may modify them in place).
Arrays are compared with tolerances that accept float32 arithmetic (:func:`compare`,
:func:`matches`); NaN or inf in an answer is named as such.
"""
from __future__ import annotations

import copy
import html
import re
from dataclasses import dataclass
from enum import Enum

import numpy as np

RTOL, ATOL = 1e-5, 1e-9   # relative to the largest entry of the expected value: float32 answers pass

SHAPE_ERROR_HINT = (" A shape error in a matrix product: did you use K where K^T belongs (or the other way "
                    "round)? K is k x n: K maps R^n to R^k and K^T maps R^k back to R^n.")
NAN_HINT = "a division by zero (0/0 where a norm or |v| vanishes)?"


class Outcome(str, Enum):
    """The outcome of a check; compares equal to its text (``Outcome.CORRECT == "correct"``)."""

    NOT_ATTEMPTED = "not attempted"
    INCORRECT = "incorrect"
    CORRECT = "correct"

    def __str__(self):
        return self.value


_COLOURS = {Outcome.CORRECT: "#1a7f37", Outcome.INCORRECT: "#c00000", Outcome.NOT_ATTEMPTED: "#9a6700"}


def plain(text):
    """``text`` (ASCII math such as tau*sigma, x*, prox_{F}) with Markdown's emphasis and escape characters
    escaped, so that a Markdown cell shows it as written.

    >>> plain("tau*sigma fixed, (x*, xi*)")
    'tau\\\\*sigma fixed, (x\\\\*, xi\\\\*)'
    """
    return re.sub(r"([\\*_`])", r"\\\1", text)


@dataclass(frozen=True)
class Message:
    """A text shown in the notebook as Markdown (questions, hints and solutions); plain texts go through
    :func:`plain`."""

    title: str
    text: str

    def __str__(self):
        return f"{self.title}: " + re.sub(r"\\([\\*_`])", r"\1", self.text)      # as plain text: no escapes

    def _repr_markdown_(self):
        return f"**{self.title}.** {self.text}"


@dataclass(frozen=True)
class CheckResult:
    """What ``Exercise.check`` found: an :class:`Outcome` and a message; truthy only when correct."""

    outcome: Outcome
    message: str

    def __bool__(self):
        return self.outcome is Outcome.CORRECT

    def __str__(self):
        return f"{self.outcome.value.upper()}: {self.message}"

    __repr__ = __str__

    def _repr_html_(self):
        return (f"<b style='color:{_COLOURS[self.outcome]}'>{self.outcome.value.capitalize()}</b>: "
                f"{html.escape(self.message)}")


class CheckerError(RuntimeError):
    """A checker failed for a reason that is not the student's answer (a bug in cpteach)."""


class _NotAttempted(Exception):
    """The student's function is still a stub (it raises NotImplementedError)."""


class _ReturnedNone(Exception):
    """The student's function returned None; ``when`` describes the inputs."""


class _StudentError(Exception):
    """The student's function raised; ``error`` is its exception."""

    def __init__(self, error):
        super().__init__(error)
        self.error = error


def call_student(function, *args, when="called with the checker's data"):
    """Call the student's ``function`` on deep copies of the arguments; the only guarded call.

    Raises ``_NotAttempted`` for a stub (NotImplementedError), ``_ReturnedNone`` when it
    returns None (``when`` says for which inputs) and ``_StudentError`` for any other
    exception of the student's code.
    """
    args = copy.deepcopy(args)
    try:
        out = function(*args)
    except NotImplementedError as err:
        raise _NotAttempted("your function still raises NotImplementedError; fill in its body.") from err
    except Exception as err:  # the student's code failed: reported, not raised
        raise _StudentError(err) from err
    if out is None:
        raise _ReturnedNone(when)
    return out


def parts(got, names):
    """``got`` as a list of ``len(names)`` parts (a tuple or a list is accepted), else what is wrong."""
    if isinstance(got, (tuple, list)) and len(got) == len(names):
        return list(got), None
    return None, f"return the {len(names)} results ({', '.join(names)}), e.g. as a tuple."


def as_array(got):
    """``got`` as a float array, or None if it is not an array of numbers."""
    try:
        return np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return None


def _close(got, expected, rtol, atol):
    expected = np.asarray(expected, dtype=float)
    scale = np.max(np.abs(expected)) if expected.size else 0.0
    return np.allclose(got, expected, rtol=rtol, atol=atol + rtol * scale)


def compare(name, got, expected, rtol=RTOL, atol=ATOL):
    """None if ``got`` matches ``expected`` (shape and values), else what is wrong (no values shown)."""
    got = as_array(got)
    if got is None:
        return f"{name} is not an array of numbers."
    if got.shape != np.shape(expected):
        return f"{name} has shape {got.shape}, expected {np.shape(expected)}."
    if not np.all(np.isfinite(got)):
        return f"{name} contains NaN or inf ({np.sum(~np.isfinite(got))} entries): {NAN_HINT}"
    if _close(got, expected, rtol, atol):
        return None
    return f"{name} differs from the expected value."


def matches(got, candidate, rtol=RTOL, atol=ATOL):
    """Whether ``got`` equals ``candidate`` in shape and, within the tolerances, in value."""
    got = as_array(got)
    return (got is not None and got.shape == np.shape(candidate) and np.all(np.isfinite(candidate))
            and _close(got, candidate, rtol, atol))


def first_match(got, candidates, rtol=RTOL, atol=ATOL):
    """The message of the first ``(wrong_value, message)`` pair that ``got`` matches, else None."""
    for wrong, message in candidates:
        if matches(got, wrong, rtol, atol):
            return message
    return None


class Exercise:
    """Base class of the exercises whose answer is a function.

    Subclasses set ``name``, ``hint_text``, ``solution_code`` and implement
    ``_diagnose(answer)``: it calls the student's function only through
    :func:`call_student` and returns None for a right answer, else the message that
    explains the mistake.
    """

    name = "exercise"
    hint_text = ""
    solution_code = ""

    def check(self, answer):
        """Check ``answer``; return a :class:`CheckResult` (truthy when correct).

        Raises :class:`CheckerError` when the checker itself fails (not the answer).
        """
        if answer is None or answer is NotImplemented:
            return CheckResult(Outcome.NOT_ATTEMPTED,
                               f"{self.name}: replace the placeholder with your answer, then run check again.")
        problem = self._type_problem(answer)
        if problem is not None:
            return CheckResult(Outcome.INCORRECT, f"{self.name}: {problem}")
        try:
            problem = self._diagnose(answer)
        except _NotAttempted as why:
            return CheckResult(Outcome.NOT_ATTEMPTED, f"{self.name}: {why}")
        except _ReturnedNone as when:
            return CheckResult(Outcome.INCORRECT, f"{self.name}: your function returns None when {when}: "
                                                  "a `return` missing in one branch?")
        except _StudentError as raised:
            err = raised.error
            return CheckResult(Outcome.INCORRECT, f"{self.name}: your function raised {type(err).__name__}: {err}"
                                                  + self._explain_error(err))
        except Exception as err:
            raise CheckerError(f"the checker of '{self.name}' failed ({type(err).__name__}: {err}); this is a "
                               "bug in cpteach, not in your answer: please report it") from err
        if problem is None:
            return CheckResult(Outcome.CORRECT, f"{self.name}: well done." + self._on_correct())
        return CheckResult(Outcome.INCORRECT, f"{self.name}: {problem}")

    def __repr__(self):
        return f"<{type(self).__name__}: {self.name}; check(answer), hint(), solution()>"

    def hint(self):
        """A hint that does not give the answer away."""
        return Message(f"Hint ({self.name})", plain(self.hint_text))

    def solution(self):
        """A reference solution (as code in Markdown)."""
        return Message(f"Solution ({self.name})", f"\n\n```python\n{self.solution_code.strip()}\n```")

    def _type_problem(self, answer):
        """None if ``answer`` has the expected type, else what is wrong with it."""
        if callable(answer):
            return None
        return f"expected a function, got {type(answer).__name__}."

    shape_error_hint = SHAPE_ERROR_HINT

    def _explain_error(self, err):
        """Extra words after "your function raised ..." (subclasses recognise typical errors)."""
        text = str(err)
        if isinstance(err, ValueError) and any(key in text for key in ("mismatch", "not aligned",
                                                                        "could not be broadcast")):
            return self.shape_error_hint
        if isinstance(err, ValueError) and "truth value of an array" in text:
            return (" An `if` (or `and`, `max`) on a whole array: the formula acts entry by entry, use "
                    "np.where, np.maximum, np.abs or a mask instead.")
        return ""

    def _on_correct(self):
        """Extra words after "well done." (subclasses show what the right answer means)."""
        return ""

    def _diagnose(self, answer):
        raise NotImplementedError


class MultipleChoice(Exercise):
    """A predict-then-verify question: the student answers with the letter of one choice.

    Subclasses set ``name``, ``question``, ``choices`` (letter -> text), ``answer`` (a
    letter), ``feedback`` (letter -> why that choice is wrong; never names the right one),
    ``hint_text`` and ``explanation``. Displaying the object shows the question;
    ``check`` never prints the right choice, ``solution()`` does.
    """

    question = ""
    choices: dict = {}
    answer = ""
    feedback: dict = {}
    explanation = ""

    def prompt(self):
        """The question and its choices, as a :class:`Message`."""
        lines = "\n".join(f"- **({letter})** {plain(text)}" for letter, text in self.choices.items())
        letters = ", ".join(f"'{letter}'" for letter in self.choices)
        return Message(f"Question ({self.name})", f"{plain(self.question)}\n\n{lines}\n\nAnswer with one of {letters}.")

    def _repr_markdown_(self):
        return self.prompt()._repr_markdown_()

    def __repr__(self):
        return str(self.prompt())

    def verify(self, answer, shown):
        """``shown`` once ``answer`` is given (right or wrong), else a prompt to answer first.

        The verification cell of a predict-then-verify question ends with
        ``question.verify(answer, fig)`` (a figure) or ``question.verify(answer, table)`` (a text,
        shown as a code block), so that Run All does not show it under the unanswered question.
        """
        if self.check(answer).outcome is Outcome.NOT_ATTEMPTED:
            return Message("Verify", "answer the question above first (set `answer` and run its cell), "
                                     "then run this cell again.")
        return reveal("answered", shown)

    def check(self, answer):
        """Check the chosen letter; case, spaces and brackets do not matter ("C", " (c) ")."""
        if isinstance(answer, str):
            answer = _letter(answer) or None
        return super().check(answer)

    def solution(self):
        """The right choice and why."""
        return Message(f"Solution ({self.name})",
                       f"({self.answer}) {plain(self.choices[self.answer])}\n\n{plain(self.explanation)}")

    def _type_problem(self, answer):
        letters = ", ".join(f"'{letter}'" for letter in self.choices)
        if not isinstance(answer, str):
            return f"answer with a letter as a string (one of {letters}), got {type(answer).__name__}."
        if answer not in self.choices:
            return f"{answer!r} is not one of the choices {letters}."
        return None

    def _diagnose(self, answer):
        return None if answer == self.answer else self.feedback[answer]


def reveal(prediction, shown):
    """``shown`` once ``prediction`` is written down (any non-empty text), else a prompt to predict first.

    The gate of a "predict, then look" cell without a multiple-choice question: the cell computes
    silently and ends with ``exercises.reveal(prediction, table)``, so that Run All does not show the
    numbers under the unanswered question. A text is shown as a code block, anything else (a figure)
    as it is.

    >>> reveal(None, "rho = 0.99").text.startswith("write your prediction")
    True
    >>> "rho = 0.99" in reveal("slower", "rho = 0.99").text
    True
    """
    if prediction is None or not str(prediction).strip():
        return Message("Verify", "write your prediction first (set `prediction` to any text and run this cell "
                                 "again).")
    if isinstance(shown, str):
        return Message("Verify", f"\n\n```text\n{shown}\n```")
    return shown


def _letter(text):
    """The choice letter in ``text``: lower case, without spaces, brackets or a final full stop."""
    return text.strip().strip("().").strip().lower()
