"""Nothing wider than a laptop's notebook column, no text under 11 px (issue 18, item 6).

JupyterLab at 1366 x 768 with the file browser open leaves about 934 CSS px for a cell: 88
characters of code. Figures are drawn at 96 CSS px per inch, so a font of 8.25 pt is 11 px;
matplotlib's "x-small" (6.9 pt) and "xx-small" (5.8 pt) are below that, "small" (8.3 pt) is not.
"""
import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_CODE_LINE = 88
SMALLEST_POINTS = 8.25
TOO_SMALL_NAME = re.compile(r"""["']x{1,2}-small["']""")
NUMERIC_FONTSIZE = re.compile(r"""fontsize\s*=\s*([0-9.]+)""")


def code_cells(path):
    """(index, source) of the code cells of the notebook at ``path``."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [(i, "".join(cell["source"])) for i, cell in enumerate(cells) if cell["cell_type"] == "code"]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 6


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_line_fits_the_column(path):
    long = [f"cell {i}, line {j + 1}: {len(line)} characters"
            for i, source in code_cells(path) for j, line in enumerate(source.split("\n"))
            if len(line) > MAX_CODE_LINE]
    assert not long, f"{path.name}: code lines over {MAX_CODE_LINE} characters: {long}"


def font_sources():
    """(name, text) of every file whose code sets figure fonts: notebooks, plotting, widgets."""
    sources = [(p.name, "\n".join(source for _, source in code_cells(p))) for p in NOTEBOOKS]
    for path in [ROOT / "src" / "cpteach" / "plotting.py", *sorted((ROOT / "src" / "cpteach" / "widgets").glob("*.py"))]:
        sources.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8")))
    return sources


def test_no_font_below_11_px():
    named = [name for name, text in font_sources() if TOO_SMALL_NAME.search(text)]
    assert not named, f"x-small/xx-small fonts (under 11 px) in {named}: use 'small' or larger"
    numeric = [(name, float(size)) for name, text in font_sources()
               for size in NUMERIC_FONTSIZE.findall(text) if float(size) < SMALLEST_POINTS]
    assert not numeric, f"font sizes under {SMALLEST_POINTS} pt (11 px): {numeric}"
