"""TeX in a feedback page as MathML, written when the page is generated.

A feedback page is read offline, and often where no script runs (JupyterLab shows an HTML file sandboxed), so it
cannot count on MathJax from a CDN. ``latex2mathml`` turns each ``$...$`` and ``$$...$$`` of a markdown cell into
MathML, which browsers draw natively; the result is rebuilt from an allowlist of MathML elements and attributes,
so that TeX a student wrote can never become a link, a style or a script. TeX that does not convert stays as
written.
"""

import html
import re
from xml.etree import ElementTree

from latex2mathml.converter import convert

# Code spans and HTML tags first, so that a dollar inside backticks or inside a tag (an attribute's value) is left
# alone (after sanitising, every "<" that is not a tag is "&lt;"); an escaped dollar is not a delimiter.
_SEGMENT = re.compile(
    r"(?P<kept>`+[^`]*?`+|<[^>]*>)|\$\$(?P<display>.+?)\$\$|(?<![\\$])\$(?P<inline>[^$\n]+?)\$", re.S)
ELEMENTS = frozenset((
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msub", "msup", "msubsup", "mfrac", "msqrt",
    "mroot", "mstyle", "mpadded", "mphantom", "menclose", "munder", "mover", "munderover", "mtable", "mtr",
    "mtd", "mmultiscripts", "mprescripts", "none", "semantics", "annotation",
))
ATTRIBUTES = frozenset((
    "display", "mathvariant", "stretchy", "fence", "form", "separator", "lspace", "rspace", "minsize", "maxsize",
    "movablelimits", "largeop", "symmetric", "accent", "accentunder", "displaystyle", "scriptlevel",
    "linethickness", "width", "height", "depth", "columnalign", "columnspacing", "columnlines", "rowalign",
    "rowspacing", "rowlines", "frame", "framespacing", "notation", "align", "mathsize", "encoding",
))


def _allowed(element):
    """``element`` rebuilt with allowed names and attributes only (anything else becomes a plain ``mrow``)."""
    name = element.tag.rpartition("}")[2]
    rebuilt = ElementTree.Element(name if name in ELEMENTS else "mrow",
                                  {k: v for k, v in element.attrib.items() if k in ATTRIBUTES})
    rebuilt.text, rebuilt.tail = element.text, element.tail
    rebuilt.extend(_allowed(child) for child in element)
    return rebuilt


def tex_to_mathml(tex, display=False):
    """The MathML of ``tex`` (HTML entities in it decoded first), or ``None`` when it does not convert."""
    try:
        # latex2mathml knows the ``align`` environment but not ``aligned``, which means the same inside a formula.
        tex = re.sub(r"\\(begin|end)\{aligned\}", r"\\\1{align}", html.unescape(tex))
        converted = convert(tex, display="block" if display else "inline")
        formula = _allowed(ElementTree.fromstring(converted))
        if display:
            # A display formula wider than a phone scrolls sideways on its own (the page's style); a box that
            # scrolls must be reachable from the keyboard.
            formula.set("tabindex", "0")
        return ElementTree.tostring(formula, encoding="unicode")
    except Exception:  # noqa: BLE001 (latex2mathml raises many kinds; the TeX then stays as written)
        return None


def replace_math(markdown, limit):
    """``markdown`` with its first ``limit`` TeX formulas replaced by MathML, and how many were replaced."""
    converted = 0

    def replace(match):
        nonlocal converted
        if match.group("kept") is not None or converted >= limit:
            return match.group(0)
        display = match.group("display") is not None
        mathml = tex_to_mathml(match.group("display") if display else match.group("inline"), display)
        if mathml is None:
            return match.group(0)
        converted += 1
        return mathml

    return _SEGMENT.sub(replace, markdown), converted
