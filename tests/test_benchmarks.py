"""Every benchmark script (benchmarks/*.py except widgets.py, which needs a browser) runs its main at a tiny
size and prints its ratios, so that the benchmarks cannot rot. Nothing about time is asserted."""
import importlib.util
import pathlib

import pytest

BENCHMARKS = pathlib.Path(__file__).parents[1] / "benchmarks"
TINY = {
    "forward": ["-L", "3", "--repeat", "1", "--size", "16"],
    "gradient": ["-L", "3", "--repeat", "1", "--size", "16"],
    "fixed_point": ["--size", "16", "--tol", "1e-2", "--Ls", "2", "5"],
    "learning": ["--steps", "1", "--patches", "1"],
}


def test_every_benchmark_has_a_tiny_run():
    scripts = {p.stem for p in BENCHMARKS.glob("*.py")} - {"widgets"}
    assert scripts == set(TINY)


@pytest.mark.parametrize("name", sorted(TINY))
def test_benchmark_main_runs_at_a_tiny_size(name, capsys):
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(TINY[name])
    out = capsys.readouterr().out
    assert "ratio" in out or "vs fixed_point" in out, out           # each prints its ratios
