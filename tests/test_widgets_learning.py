import time

import numpy as np

from cpteach import images, widgets


def test_denoising_dashboard_updates_the_figure():
    board = widgets.denoising_dashboard(filters=images.dct_filters(3), size=24, L=10)
    shown = board.figure.axes[1].images[0]
    before = np.array(shown.get_array()).copy()
    board.sliders["noise_std"].value = 0.2
    after = np.array(shown.get_array())
    assert not np.allclose(before, after)
    assert np.std(after - board.figure.axes[0].images[0].get_array()) > 0.15   # the noisy panel has noise 0.2
    board.sliders["image"].value = images.TEST_IMAGES[1]
    assert "dB" in board.figure.axes[3].get_title()


def test_denoising_grid_is_filled_in_the_background():
    board = widgets.denoising_dashboard(filters=images.dct_filters(3), size=16, L=5)
    deadline = time.monotonic() + 60
    while board.progress.value < board.progress.max and time.monotonic() < deadline:
        time.sleep(0.1)
    assert board.progress.value == len(widgets.NOISE_STDS)
    y = images.held_out_images(16)[0]
    expected = widgets.denoising_run(y, images.dct_filters(3), 0.06, L=5)
    board.sliders["noise_std"].value = 0.06
    np.testing.assert_allclose(board.figure.axes[3].images[0].get_array(), expected.learned)
