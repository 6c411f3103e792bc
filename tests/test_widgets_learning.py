import numpy as np

from cpteach import images, widgets


def test_denoising_dashboard_updates_the_figure():
    board = widgets.denoising_dashboard(filters=images.dct_filters(3), size=24, L=10)
    shown = board.figure.axes[1].images[0]
    before = np.array(shown.get_array()).copy()
    board.sliders["noise_level"].value = 0.2
    after = np.array(shown.get_array())
    assert not np.allclose(before, after)
    assert np.std(after - board.figure.axes[0].images[0].get_array()) > 0.15   # the noisy panel has noise 0.2
    board.sliders["image"].value = images.TEST_IMAGES[1]
    assert "dB" in board.figure.axes[3].get_title()
