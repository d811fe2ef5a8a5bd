"""Small matplotlib pictures for the chapters: numbers on a grid, a window on an input, a row of images.

Every 2-D array is drawn the way ``imshow`` draws it: row 0 at the top, cell ``[i, j]`` centred at
``x = j, y = i``, so a window whose top-left cell is ``[row, col]`` covers
``x`` from ``col - 0.5`` to ``col + width - 0.5``. The helpers only draw what they are given; they
compute no convolution (the chapters compute those, by hand or with Keras).
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

WINDOW_COLOR = "tab:red"


def _as_matrix(values, name):
    matrix = np.asarray(values)
    if matrix.ndim != 2 or 0 in matrix.shape:
        raise ValueError(f"{name} must be a non-empty 2-D array (rows, cols), got shape {matrix.shape}")
    return matrix


def _text_color(image, value):
    """Black on light cells, white on dark ones, so every number stays readable."""
    red, green, blue, _ = image.cmap(image.norm(value))
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 0.5 else "white"


def draw_matrix(ax, values, title=None, fmt="{:g}", cmap="Blues", vmin=None, vmax=None, fontsize=None):
    """Draw ``values (rows, cols)`` on ``ax`` as coloured cells with each number written in its cell.

    ``fmt`` formats one number (``"{:g}"`` writes ``614.0`` as ``614``); ``vmin``/``vmax`` fix the
    colour scale (default: the values' range). Returns ``ax``.
    """
    matrix = _as_matrix(values, "values")
    image = ax.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax)
    rows, cols = matrix.shape
    for i in range(rows):
        for j in range(cols):
            ax.text(j, i, fmt.format(matrix[i, j]), ha="center", va="center",
                    color=_text_color(image, matrix[i, j]), fontsize=fontsize)
    # Thin white lines between cells make the grid visible even where neighbours share a colour. The
    # major ticks go first: matplotlib drops minor ticks that fall on major ones.
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    if title is not None:
        ax.set_title(title)
    return ax


def highlight_window(ax, row, col, height, width, color=WINDOW_COLOR, linewidth=3):
    """Outline the ``height x width`` window whose top-left cell is ``[row, col]`` on an ``imshow``-drawn ``ax``.

    Returns the ``Rectangle`` patch added to ``ax``.
    """
    for name, value in (("height", height), ("width", width)):
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value!r}")
    # Above the grid lines, and not clipped, so the outline stays whole on the border of the axes.
    window = Rectangle((col - 0.5, row - 0.5), width, height, fill=False, edgecolor=color, linewidth=linewidth,
                       zorder=5, clip_on=False)
    ax.add_patch(window)
    return window


def show_window_step(image, kernel, output, row, col, stride=1, fmt="{:g}"):
    """Three panels for one step of a sliding window: the input with the window, the kernel, the output.

    ``image (H, W)``, ``kernel (kh, kw)`` and ``output (OH, OW)`` are drawn with their numbers; output
    cell ``[row, col]`` is outlined, and so is the input window starting at ``[row * stride, col * stride]``
    that produced it. Returns the figure.
    """
    image = _as_matrix(image, "image")
    kernel = _as_matrix(kernel, "kernel")
    output = _as_matrix(output, "output")
    if not (0 <= row < output.shape[0] and 0 <= col < output.shape[1]):
        raise ValueError(f"(row, col) must index output of shape {output.shape}, got {(row, col)}")
    figure, (image_ax, kernel_ax, output_ax) = plt.subplots(
        1, 3, figsize=(3 + 0.6 * (image.shape[1] + kernel.shape[1] + output.shape[1]), 3),
        gridspec_kw={"width_ratios": [image.shape[1], kernel.shape[1], output.shape[1]]},
    )
    draw_matrix(image_ax, image, title="input", fmt=fmt)
    highlight_window(image_ax, row * stride, col * stride, *kernel.shape)
    draw_matrix(kernel_ax, kernel, title="kernel", fmt=fmt, cmap="Oranges")
    draw_matrix(output_ax, output, title="output", fmt=fmt, cmap="Greens")
    highlight_window(output_ax, row, col, 1, 1)
    figure.tight_layout()
    return figure


def _one_per_image(value, name, count, single_type):
    if isinstance(value, single_type):
        return [value] * count
    values = list(value)
    if len(values) != count:
        raise ValueError(f"{name} must be one value or one per image ({count}), got {len(values)}")
    return values


def show_images(images, titles=None, ncols=None, cmap="gray", symmetric=False, size=2.5, colorbar=False):
    """Show 2-D ``images`` side by side (``ncols`` per row, default all in one row) with optional ``titles``.

    Each image gets its own colour scale; ``symmetric=True`` centres it on zero (``-m`` to ``m``,
    ``m`` the largest absolute value), which suits signed feature maps with a diverging ``cmap``
    such as ``"RdBu_r"``. ``cmap`` and ``symmetric`` take one value for all images or a list with
    one per image (a photo in grey next to signed feature maps). Pixels are drawn as squares (no
    interpolation). Returns the figure.
    """
    images = [_as_matrix(image, f"images[{index}]") for index, image in enumerate(images)]
    if not images:
        raise ValueError("images must hold at least one image, got none")
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"titles must have one entry per image ({len(images)}), got {len(titles)}")
    cmaps = _one_per_image(cmap, "cmap", len(images), str)
    symmetric = _one_per_image(symmetric, "symmetric", len(images), (bool, np.bool_))
    ncols = len(images) if ncols is None else ncols
    if ncols <= 0:
        raise ValueError(f"ncols must be positive, got {ncols!r}")
    nrows = -(-len(images) // ncols)
    figure, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index >= len(images):
            continue
        image = images[index]
        vmin = vmax = None
        if symmetric[index]:
            # An all-zero map still needs a non-empty colour range.
            vmax = float(np.max(np.abs(image))) or 1.0
            vmin = -vmax
        drawn = ax.imshow(image, cmap=cmaps[index], interpolation="nearest", vmin=vmin, vmax=vmax)
        if titles is not None:
            ax.set_title(titles[index])
        if colorbar:
            figure.colorbar(drawn, ax=ax, fraction=0.046, pad=0.04)
    figure.tight_layout()
    return figure
