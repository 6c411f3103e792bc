"""Draw time of the dashboards' images: matplotlib's own nearest-neighbour path (a plain ``AxesImage``)
against :class:`cpteach.plotting._NearestImage` (the heat maps of ``plot_heatmap`` and the images of
``plot_images``), side by side, and whether the whole figure is the same pixel for pixel.

Per dashboard and image: the median ms of ``figure.draw_artist(image)`` (15 draws) both ways and
their ratio; per dashboard the largest difference of any pixel of the full figure (all artists
drawn, images included) between the two ways, which must be 0. Nothing is asserted.

    python benchmarks/images.py
"""
import statistics
import time

import numpy as np
from matplotlib.image import AxesImage

from cpteach import plotting, widgets

BOARDS = {   # name -> (builder, slider changes before measuring)
    "backprop, L = 150": (widgets.backprop_dashboard, {"L": 150}),
    "fixed_point, L = 333": (widgets.fixed_point_dashboard, {"L": 333}),
    "denoising, noise 0.14": (widgets.denoising_dashboard, {"noise_std": 0.14}),
}


def _draw_ms(figure, image, repeats=15):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        figure.draw_artist(image)
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times)


def _pixels(figure):
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba()).astype(int)


def compare(board):
    """(per image (plain ms, fast ms), max pixel difference of the full figure) for ``board``'s images."""
    figure = board.figure
    images = [im for ax in figure.axes for im in ax.images if isinstance(im, plotting._NearestImage)]
    animated = [artist for artist in board._animated if artist.get_animated()]
    for artist in animated:
        artist.set_animated(False)             # a full draw (canvas.draw) leaves animated artists out
    try:
        fast = [_draw_ms(figure, im) for im in images]
        fast_pixels = _pixels(figure)
        for im in images:
            im.__class__ = AxesImage            # matplotlib's own path, the same image otherwise
        plain = [_draw_ms(figure, im) for im in images]
        plain_pixels = _pixels(figure)
    finally:
        for im in images:
            im.__class__ = plotting._NearestImage
        for artist in animated:
            artist.set_animated(True)
    return list(zip(plain, fast)), int(np.abs(fast_pixels - plain_pixels).max())


def main():
    for name, (build, values) in BOARDS.items():
        board = build()
        board.idle.drain()
        for slider, value in values.items():
            board.sliders[slider].value = value
        times, difference = compare(board)
        cells = ", ".join(f"{plain:.2f} -> {fast:.2f} ms ({plain / fast:.1f}x)" for plain, fast in times)
        print(f"{name}: max pixel difference {difference}; per image plain -> fast: {cells}")


if __name__ == "__main__":
    main()
