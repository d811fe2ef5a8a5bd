"""Interactive animations for the book: a window sliding with stride, padding and dilation, and a transposed
convolution scattering its kernel.

The animations only draw what a chapter hands them — the padded input, where the window starts, the
outputs the chapter computed with its own NumPy code and checked against Keras — so the pictures show
exactly the arithmetic the chapter verified. :func:`show_animation` embeds an animation as matplotlib's
JavaScript player (deterministic ids, no CDN stylesheet, inline SVG icons instead of an icon font or media-control
characters that many fonts lack, a described frame and a labelled slider) together with a PNG strip of its
frames, which is what a reader without JavaScript (or a PDF) gets.
"""

import hashlib
import html
import io
import re

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.patches import Rectangle

def _icon(shapes):
    return (f'<svg viewBox="0 0 16 16" width="16" height="16" fill="currentColor" aria-hidden="true" '
            f'focusable="false">{shapes}</svg>')


_ICONS = {
    "fa fa-minus": _icon('<rect x="3" y="7" width="10" height="2"/>'),
    "fa fa-fast-backward": _icon('<rect x="2" y="3" width="2" height="10"/><path d="M9 3v10L4 8zM15 3v10L10 8z"/>'),
    "fa fa-step-backward": _icon('<rect x="3" y="3" width="2" height="10"/><path d="M13 3v10L6 8z"/>'),
    "fa fa-play fa-flip-horizontal": _icon('<path d="M12 3v10L4 8z"/>'),
    "fa fa-pause": _icon('<rect x="4" y="3" width="3" height="10"/><rect x="9" y="3" width="3" height="10"/>'),
    "fa fa-play": _icon('<path d="M4 3v10l8-5z"/>'),
    "fa fa-step-forward": _icon('<path d="M3 3v10l7-5z"/><rect x="11" y="3" width="2" height="10"/>'),
    "fa fa-fast-forward": _icon('<path d="M1 3v10l5-5zM7 3v10l5-5z"/><rect x="12" y="3" width="2" height="10"/>'),
    "fa fa-plus": _icon('<rect x="3" y="7" width="10" height="2"/><rect x="7" y="3" width="2" height="10"/>'),
}
PADDING_COLOUR = "#dddddd"
WINDOW_COLOUR = "#cc3311"
DONE_COLOUR = "#bbddff"


def interactive_html(animation, fps=2, description="an animation"):
    """matplotlib's JavaScript player for ``animation``, made deterministic, self-contained and accessible.

    ``description`` is the frame's alt text; the slider is labelled as the animation's frame.
    """
    markup = animation.to_jshtml(fps=fps, default_mode="loop")
    markup = re.sub(r"<link[^>]*font-awesome[^>]*>", "", markup)
    for icon, symbol in _ICONS.items():
        markup = markup.replace(f'<i class="{icon}"></i>', symbol)
    alt = html.escape(description, quote=True)
    markup = re.sub(r'<img id="(_anim_img[0-9a-f]{32})">', rf'<img id="\1" alt="{alt}">', markup, count=1)
    markup = re.sub(r'(<input id="_anim_slider[0-9a-f]{32}" type="range")',
                    r'\1 aria-label="Frame of the animation"', markup, count=1)
    random_id = re.search(r"_anim_img([0-9a-f]{32})", markup).group(1)
    stable_id = hashlib.sha1(markup.replace(random_id, "").encode()).hexdigest()[:32]
    return markup.replace(random_id, stable_id)


def frames_strip(animation, frames, columns=2, rows=2):
    """PNG bytes of up to ``columns * rows`` frames of ``animation`` in a grid: the static fallback."""
    figure = animation._fig
    picks = np.unique(np.linspace(0, frames - 1, num=min(columns * rows, frames)).round().astype(int))
    images = []
    for frame in picks:
        animation._func(frame)
        figure.canvas.draw()
        images.append(np.asarray(figure.canvas.buffer_rgba())[:, :, :3].copy())
    grid_rows = -(-len(images) // columns)
    height, width = images[0].shape[:2]
    strip, axes = plt.subplots(grid_rows, min(columns, len(images)), squeeze=False,
                               figsize=(min(columns, len(images)) * width / 80, grid_rows * (height / 80 + 0.3)))
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, frame in zip(axes.flat, images, picks):
        ax.imshow(image)
        ax.set_title(f"frame {frame + 1} of {frames}", fontsize=9)
    buffer = io.BytesIO()
    strip.savefig(buffer, format="png", dpi=80, bbox_inches="tight", metadata={"Software": None})
    plt.close(strip)
    return buffer.getvalue()


def show_animation(animation, frames, fps=2, description=None):
    """Display ``animation`` in a notebook: the interactive player, with a PNG strip as fallback.

    ``description`` (default: the one the animation functions below attach) is read out for the frame.
    """
    from IPython.display import display

    description = description or getattr(animation, "description", f"an animation of {frames} frames")
    bundle = {"text/html": interactive_html(animation, fps, description), "image/png": frames_strip(animation, frames),
              "text/plain": f"<animation of {frames} frames>"}
    plt.close(animation._fig)
    display(bundle, raw=True)


def _grid(ax, values, origin_x, shade=None, title=""):
    rows, cols = values.shape
    for i in range(rows):
        for j in range(cols):
            colour = shade(i, j) if shade else "white"
            ax.add_patch(Rectangle((origin_x + j, rows - 1 - i), 1, 1, facecolor=colour, edgecolor="#555555", lw=0.8))
            if not np.isnan(values[i, j]):
                ax.text(origin_x + j + 0.5, rows - 0.5 - i, f"{values[i, j]:g}", ha="center", va="center", fontsize=7)
    ax.text(origin_x + cols / 2, rows + 0.3, title, ha="center", va="bottom", fontsize=9)


def sliding_window_animation(padded, kernel_size, output, strides=(1, 1), dilation=(1, 1), padding=((0, 0), (0, 0)),
                             title=""):
    """A window of ``kernel_size`` taps sliding over ``padded`` (the input with its zeros already added).

    ``output`` is the result the chapter computed; frame ``n`` outlines the taps read for output cell ``n``
    (row-major), greys the padding (``padding`` = ((top, bottom), (left, right)) cells of ``padded``) and
    fills the output up to that cell. Returns ``(animation, frames)``.
    """
    padded, output = np.asarray(padded, dtype=float), np.asarray(output, dtype=float)
    (top, bottom), (left, right) = padding
    rows, cols = padded.shape

    def is_padding(i, j):
        return i < top or i >= rows - bottom or j < left or j >= cols - right

    frames = output.size
    gap = 2
    figure, ax = plt.subplots(figsize=(0.45 * (cols + gap + output.shape[1]) + 0.4, 0.45 * max(rows, output.shape[0]) + 0.8))

    def draw(frame):
        ax.clear()
        ax.set_xlim(-0.2, cols + gap + output.shape[1] + 0.2)
        ax.set_ylim(-0.2, max(rows, output.shape[0]) + 1)
        ax.set_aspect("equal")
        ax.axis("off")
        oi, oj = divmod(frame, output.shape[1])
        taps = {(oi * strides[0] + a * dilation[0], oj * strides[1] + b * dilation[1])
                for a in range(kernel_size[0]) for b in range(kernel_size[1])}
        _grid(ax, padded, 0, lambda i, j: PADDING_COLOUR if is_padding(i, j) else "white", "input (grey: padding)")
        for i, j in taps:
            ax.add_patch(Rectangle((j, rows - 1 - i), 1, 1, fill=False, edgecolor=WINDOW_COLOUR, lw=2.2))
        shown = np.where(np.arange(output.size).reshape(output.shape) <= frame, output, np.nan)
        _grid(ax, shown, cols + gap,
              lambda i, j: WINDOW_COLOUR + "55" if (i, j) == (oi, oj) else (DONE_COLOUR if i * output.shape[1] + j < frame else "white"),
              "output")
        ax.set_title(title, fontsize=10)
        return []

    animation = FuncAnimation(figure, draw, frames=frames, blit=False)
    animation.description = (
        f"{title + ': ' if title else ''}a {kernel_size[0]}x{kernel_size[1]} window (red outline) slides over a "
        f"{rows}x{cols} input whose grey cells are padding, and each of the {frames} frames fills one more cell of "
        f"the {output.shape[0]}x{output.shape[1]} output")
    return animation, frames


def scatter_animation(x, kernel, partial_outputs, strides=(1, 1), title=""):
    """A transposed convolution scattering ``kernel`` once per input cell of ``x`` (2-D arrays).

    ``partial_outputs[n]`` is the output after the first ``n + 1`` input cells (row-major) were scattered,
    as the chapter computed it. Returns ``(animation, frames)``.
    """
    x, kernel = np.asarray(x, dtype=float), np.asarray(kernel, dtype=float)
    partial_outputs = [np.asarray(p, dtype=float) for p in partial_outputs]
    rows, cols = partial_outputs[-1].shape
    gap = 2
    figure, ax = plt.subplots(figsize=(0.45 * (x.shape[1] + gap + cols) + 0.4, 0.45 * max(rows, x.shape[0]) + 0.8))
    frames = len(partial_outputs)

    def draw(frame):
        ax.clear()
        ax.set_xlim(-0.2, x.shape[1] + gap + cols + 0.2)
        ax.set_ylim(-0.2, max(rows, x.shape[0]) + 1)
        ax.set_aspect("equal")
        ax.axis("off")
        xi, xj = divmod(frame, x.shape[1])
        _grid(ax, x, 0, lambda i, j: WINDOW_COLOUR + "55" if (i, j) == (xi, xj) else "white", "input")
        top, left = xi * strides[0], xj * strides[1]
        _grid(ax, partial_outputs[frame], x.shape[1] + gap,
              lambda i, j: WINDOW_COLOUR + "33" if top <= i < top + kernel.shape[0] and left <= j < left + kernel.shape[1] else "white",
              "output so far")
        ax.add_patch(Rectangle((x.shape[1] + gap + left, rows - top - kernel.shape[0]), kernel.shape[1], kernel.shape[0],
                               fill=False, edgecolor=WINDOW_COLOUR, lw=2.2))
        ax.set_title(title, fontsize=10)
        return []

    animation = FuncAnimation(figure, draw, frames=frames, blit=False)
    animation.description = (
        f"{title + ': ' if title else ''}each of the {frames} frames scatters the {kernel.shape[0]}x{kernel.shape[1]} "
        f"kernel, scaled by one cell of the {x.shape[0]}x{x.shape[1]} input, into the {rows}x{cols} output, "
        f"where the stamps add up")
    return animation, frames
