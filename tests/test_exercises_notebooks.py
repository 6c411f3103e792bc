"""Each notebook runs clean with its exercises solved (issue 18): the student stubs are replaced by the reference
solutions (``solution_code``), the predict-then-verify answers by the right letters, and the notebook is executed
in a fresh kernel; every check then says "Correct". (The pristine notebooks run in the nbval suite.)"""
import pathlib
import re

import nbformat
import pytest
from nbclient import NotebookClient

from cpteach import exercises

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
STUBS = {"prox_l1": exercises.prox_l1, "backward_step": exercises.backward_step,
         "delta_P_limit": exercises.delta_P_limit, "implicit_adjoint": exercises.ImplicitAdjoint(),
         "one_step_gradient": exercises.one_step_gradient, "project": exercises.ball_projection,
         "ball_vjp": exercises.BallProjectionVJP()}
STUB = re.compile(r"^def (\w+)\([^)]*\):\n\s+raise NotImplementedError.*\n", re.M)   # a signature may wrap
QUESTION = re.compile(r"^question\w* = exercises\.(\w+)\(\)", re.M)      # question, question_descent, ...
ANSWER = re.compile(r"^(answer\w*) = None\b.*$", re.M)


def solved(nb):
    """``nb`` with every stub replaced by its reference solution and every answer by the right letter.

    Returns the indices of the cells whose output must say "Correct".
    """
    checked, question = [], None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        match = QUESTION.search(cell.source)
        if match:
            question = getattr(exercises, match.group(1))()
        stub = STUB.search(cell.source)
        if stub:
            exercise = STUBS[stub.group(1)]
            assert f"def {stub.group(1)}(" in exercise.solution_code, stub.group(1)
            cell.source = cell.source.replace(stub.group(0), exercise.solution_code.strip() + "\n")
            checked.append(index)
        if ANSWER.search(cell.source):
            cell.source = ANSWER.sub(rf'\1 = "{question.answer}"', cell.source)
            checked.append(index)
    return checked


def _text(output):
    data = output.get("data", {})
    return output.get("text", "") + data.get("text/html", "") + data.get("text/plain", "")


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("0*.ipynb")))
def test_notebook_runs_clean_with_its_exercises_solved(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    checked = solved(nb)
    assert checked, f"{name} has no exercise"
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()   # raises on any error
    for index in checked:
        shown = "".join(_text(o) for o in nb.cells[index].outputs)
        assert "Correct" in shown and "Incorrect" not in shown, (name, index, shown)
