"""Unit tests of convcourse.plots: each helper draws on an Agg figure what it promises."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.patches import Rectangle

from convcourse.book.plots import (
    draw_matrix,
    highlight_window,
    show_images,
    show_window_step,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts_of(ax):
    return [text.get_text() for text in ax.texts]


def windows_of(ax):
    return [patch for patch in ax.patches if isinstance(patch, Rectangle)]


def test_draw_matrix_writes_every_number_in_its_cell():
    _, ax = plt.subplots()
    values = np.array([[614.0, 764.0, -4.0], [591.0, 660.0, 0.5]])
    assert draw_matrix(ax, values, title="output") is ax
    assert texts_of(ax) == ["614", "764", "-4", "591", "660", "0.5"]
    assert [text.get_position() for text in ax.texts][4] == (1, 1)
    assert ax.get_title() == "output"
    assert len(ax.images) == 1


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 5)])
def test_draw_matrix_draws_lines_between_all_cells(shape):
    _, ax = plt.subplots()
    draw_matrix(ax, np.zeros(shape))
    assert list(ax.yaxis.get_minorticklocs()) == [row - 0.5 for row in range(shape[0] + 1)]
    assert list(ax.xaxis.get_minorticklocs()) == [col - 0.5 for col in range(shape[1] + 1)]


def test_draw_matrix_keeps_numbers_readable_on_dark_and_light_cells():
    _, ax = plt.subplots()
    draw_matrix(ax, [[0.0, 1.0]], cmap="gray")
    assert [text.get_color() for text in ax.texts] == ["white", "black"]


def test_draw_matrix_uses_the_given_format():
    _, ax = plt.subplots()
    draw_matrix(ax, [[1 / 3]], fmt="{:.2f}")
    assert texts_of(ax) == ["0.33"]


@pytest.mark.parametrize("values", [np.ones(3), np.ones((2, 2, 2)), np.ones((0, 2))])
def test_draw_matrix_rejects_arrays_that_are_not_2d(values):
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="values"):
        draw_matrix(ax, values)


def test_highlight_window_covers_the_window_cells():
    _, ax = plt.subplots()
    ax.imshow(np.zeros((5, 6)))
    window = highlight_window(ax, row=1, col=2, height=3, width=2)
    assert windows_of(ax) == [window]
    assert window.get_xy() == (1.5, 0.5)
    assert (window.get_width(), window.get_height()) == (2, 3)
    assert not window.get_fill()


def test_highlight_window_rejects_an_empty_window():
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="width"):
        highlight_window(ax, 0, 0, 2, 0)


def test_show_window_step_draws_input_kernel_and_output_with_windows():
    image = np.arange(16.0).reshape(4, 4)
    kernel = np.ones((3, 3))
    output = np.zeros((2, 2))
    figure = show_window_step(image, kernel, output, row=1, col=0)
    image_ax, kernel_ax, output_ax = figure.axes
    assert [ax.get_title() for ax in figure.axes] == ["input", "kernel", "output"]
    assert (len(image_ax.texts), len(kernel_ax.texts), len(output_ax.texts)) == (16, 9, 4)
    (input_window,) = windows_of(image_ax)
    assert input_window.get_xy() == (-0.5, 0.5)
    assert (input_window.get_width(), input_window.get_height()) == (3, 3)
    (output_cell,) = windows_of(output_ax)
    assert output_cell.get_xy() == (-0.5, 0.5)
    assert windows_of(kernel_ax) == []


def test_show_window_step_moves_the_input_window_by_the_stride():
    figure = show_window_step(np.zeros((5, 5)), np.ones((3, 3)), np.zeros((2, 2)), row=1, col=1, stride=2)
    (input_window,) = windows_of(figure.axes[0])
    assert input_window.get_xy() == (1.5, 1.5)


def test_show_window_step_rejects_a_cell_outside_the_output():
    with pytest.raises(ValueError, match="row, col"):
        show_window_step(np.zeros((3, 3)), np.ones((2, 2)), np.zeros((2, 2)), row=2, col=0)


def test_show_images_puts_each_image_with_its_title():
    images = [np.zeros((4, 4)), np.ones((2, 3)), np.eye(3)]
    figure = show_images(images, titles=["a", "b", "c"])
    assert len(figure.axes) == 3
    assert [ax.get_title() for ax in figure.axes] == ["a", "b", "c"]
    assert [ax.images[0].get_array().shape for ax in figure.axes] == [(4, 4), (2, 3), (3, 3)]


def test_show_images_wraps_rows_and_leaves_spare_axes_empty():
    figure = show_images([np.zeros((2, 2))] * 5, ncols=3)
    assert len(figure.axes) == 6
    assert [len(ax.images) for ax in figure.axes] == [1, 1, 1, 1, 1, 0]


def test_show_images_symmetric_scale_is_centred_on_zero():
    figure = show_images([np.array([[-1.0, 3.0]]), np.zeros((2, 2))], symmetric=True, cmap="RdBu_r")
    assert figure.axes[0].images[0].get_clim() == (-3.0, 3.0)
    assert figure.axes[1].images[0].get_clim() == (-1.0, 1.0)


def test_show_images_takes_one_cmap_and_scale_per_image():
    images = [np.array([[0.0, 1.0]]), np.array([[-2.0, 1.0]])]
    figure = show_images(images, cmap=["gray", "RdBu_r"], symmetric=[False, True])
    first, second = (ax.images[0] for ax in figure.axes)
    assert (first.get_cmap().name, first.get_clim()) == ("gray", (0.0, 1.0))
    assert (second.get_cmap().name, second.get_clim()) == ("RdBu_r", (-2.0, 2.0))


def test_show_images_adds_colorbars_on_request():
    figure = show_images([np.zeros((2, 2)), np.ones((2, 2))], colorbar=True)
    assert len(figure.axes) == 4


@pytest.mark.parametrize(
    "arguments, name",
    [
        (dict(images=[]), "images"),
        (dict(images=[np.zeros(3)]), "images"),
        (dict(images=[np.zeros((2, 2))], titles=["a", "b"]), "titles"),
        (dict(images=[np.zeros((2, 2))], ncols=0), "ncols"),
        (dict(images=[np.zeros((2, 2))] * 2, cmap=["gray"]), "cmap"),
        (dict(images=[np.zeros((2, 2))] * 2, symmetric=[True, False, True]), "symmetric"),
    ],
)
def test_show_images_rejects_bad_arguments(arguments, name):
    with pytest.raises(ValueError, match=name):
        show_images(**arguments)
