"""The numerical checks of the problem sheet's worked solutions run and hold (each ```python block of
docs/solutions/problem_sheet_solutions.md runs on its own, with its asserts); the sheet and its solutions match."""
import pathlib
import re

import pytest

DOCS = pathlib.Path(__file__).resolve().parents[1] / "docs"
SOLUTIONS = (DOCS / "solutions" / "problem_sheet_solutions.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", SOLUTIONS, re.S)


def test_every_problem_has_a_solution_with_a_check():
    problems = re.findall(r"^## Problem (\d+)\.", (DOCS / "problem_sheet.md").read_text(), re.M)
    solved = re.findall(r"^## Problem (\d+)\.", SOLUTIONS, re.M)
    assert problems == solved == ["1", "2", "3", "4"] and len(BLOCKS) == 4


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=lambda i: f"problem {i + 1}")
def test_solution_check_runs(index):
    exec(compile(BLOCKS[index], f"problem_sheet_solutions block {index + 1}", "exec"), {"__name__": "__sheet__"})
