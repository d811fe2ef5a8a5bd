"""The book's own Sphinx extension (listed in ``_config.yml``): what the theme leaves to fix for an accessible,
quiet site.

- A favicon and the course's stylesheet (``static/``).
- The theme's colour mode defaults to ``auto``: left empty, the theme logs "Got invalid theme mode" on every page.
- Bibliography entries are list items: docutils writes ``role="doc-biblioentry"`` (deprecated in ARIA) inside a
  ``role="list"``, which then has no list items.
- The root ``index.html`` (jupyter-book's redirect to the first page) names the favicon too: without it the browser
  asks for a ``/favicon.ico`` that does not exist.
- ``_static/styles/theme.css`` holds Sphinx's ``basic.css`` itself instead of importing it: tools that read the
  page's stylesheets (axe-core among them) resolve the relative ``@import`` against the page and ask for a
  ``basic.css`` that is not there.
"""

import re
from pathlib import Path

STATIC = Path(__file__).parent / "static"
_IMPORT = '@import "../basic.css";'


def _configure(app, config):
    config.html_context = {"default_mode": "auto", **config.html_context}
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    config.html_favicon = str(STATIC / "favicon.svg")


def _bibliography_roles(app, pagename, templatename, context, doctree):
    if context.get("body"):
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')


def _finish(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    redirect = Path(app.outdir) / "index.html"
    if redirect.exists() and 'rel="icon"' not in (text := redirect.read_text(encoding="utf-8")):
        redirect.write_text(f'<link rel="icon" href="_static/favicon.svg" />\n{text}', encoding="utf-8")
    static = Path(app.outdir) / "_static"
    theme_css, basic_css = static / "styles" / "theme.css", static / "basic.css"
    if not (theme_css.exists() and basic_css.exists()):
        return
    text = theme_css.read_text(encoding="utf-8")
    if _IMPORT in text:
        # basic.css sits one folder up: its relative url()s must keep pointing there.
        basic = re.sub(r"url\((?![\"']?(?:data:|https?:|/))([\"']?)", r"url(\1../", basic_css.read_text(encoding="utf-8"))
        theme_css.write_text(text.replace(_IMPORT, basic), encoding="utf-8")


def setup(app):
    app.connect("config-inited", _configure)
    app.add_css_file("convcourse.css")
    app.connect("html-page-context", _bibliography_roles)
    app.connect("build-finished", _finish)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
