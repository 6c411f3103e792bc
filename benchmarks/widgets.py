"""Median time of one dashboard update after a slider change (target: <= 100 ms).

Prints, per builder and L, the median over repeated updates of (a) the compute + artist
update (``update(render=False)``) and (b) the full update including rendering the
figure to PNG, as the notebook shows it. Run: python benchmarks/widgets.py
"""
import statistics
import time

from cpteach import widgets

REPEATS = 7


def median_ms(function):
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main():
    print(f"{'builder':22s} {'L':>5s} {'compute+artists [ms]':>22s} {'with PNG render [ms]':>22s}")
    for name, build, Ls in (("cp_dashboard", widgets.cp_dashboard, (50, 200, 500)),
                            ("backprop_dashboard", widgets.backprop_dashboard, (30, 100, 300)),
                            ("asymptotics_dashboard", widgets.asymptotics_dashboard, (100, 200, 500)),
                            ("fixed_point_dashboard", widgets.fixed_point_dashboard, (30, 100, 300))):
        board = build()
        for L in Ls:
            board.sliders["L"].value = L
            compute = median_ms(lambda: board.update(render=False))
            full = median_ms(board.update)
            print(f"{name:22s} {L:5d} {compute:22.1f} {full:22.1f}")


if __name__ == "__main__":
    main()
