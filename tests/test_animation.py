"""Unit tests of convcourse.animation: self-contained, deterministic players with a PNG fallback."""

import re

import matplotlib
import numpy as np

from convcourse.book.animation import (
    frames_strip,
    interactive_html,
    scatter_animation,
    sliding_window_animation,
)

matplotlib.use("Agg")


def _window():
    padded = np.pad(np.arange(16.0).reshape(4, 4), ((0, 1), (0, 1)))
    return sliding_window_animation(padded, (2, 2), np.zeros((2, 2)), strides=(2, 2), padding=((0, 1), (0, 1)))


def test_player_is_deterministic_and_offline():
    animation, frames = _window()
    first, second = interactive_html(animation), interactive_html(animation)
    assert frames == 4 and first == second
    assert "https://" not in first and "<link" not in first and 'class="fa' not in first
    assert 'class="animation"' in first


def test_player_is_accessible_without_special_fonts():
    animation, _ = _window()
    markup = interactive_html(animation, description="a window sliding")
    assert re.search(r'<img id="_anim_img[0-9a-f]{32}" alt="a window sliding">', markup)
    assert re.search(r'<input id="_anim_slider[0-9a-f]{32}" type="range" aria-label="[^"]+"', markup)
    # Every button is drawn by an inline SVG and named by its label, not by a character a font may lack.
    buttons = re.findall(r"<button ([^>]*)>(.*?)</button>", markup, flags=re.S)
    assert len(buttons) == 9
    for attributes, content in buttons:
        assert 'aria-label="' in attributes and content.strip().startswith("<svg") and 'aria-hidden="true"' in content
    assert not re.search(r"&#x(23[CDEF][0-9A-F]|25[BC][0-9A-F]);", markup)
    assert "window (red outline) slides over a 5x5 input" in animation.description


def test_fallback_is_a_png_strip():
    animation, frames = _window()
    assert frames_strip(animation, frames)[:8] == b"\x89PNG\r\n\x1a\n"


def test_scatter_has_one_frame_per_input_cell():
    x, kernel = np.ones((2, 2)), np.ones((2, 2))
    partial = [np.zeros((4, 4)) for _ in range(4)]
    _, frames = scatter_animation(x, kernel, partial, strides=(2, 2))
    assert frames == 4
