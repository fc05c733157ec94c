"""The report as one HTML file: every script and style inline, the data as JSON.

Nothing is fetched when the page opens: Plotly's bundle (from the plotly package),
Tabulator (vendored in ``assets/vendor`` with its MIT licence) and naga's own script and
style are written into the file; fonts are the system's. The data goes into a
``<script type="application/json">`` element whose every ``<`` is written ``\\u003c``, so
no value can end that element; the page reads it with ``JSON.parse`` and writes every
value as text (never as HTML).
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from typing import Any

from naga.errors import DependencyError

__all__ = ["TABULATOR_VERSION", "page", "plotly_js"]

TABULATOR_VERSION = "6.5.3"
# A source map comment makes a browser's developer tools fetch a file next to the page.
_SOURCE_MAP = re.compile(r"^\s*/[/*][#@] sourceMappingURL=.*$", re.MULTILINE)


def plotly_js() -> tuple[str, str]:
    """Plotly's JavaScript bundle and its version.

    Raises:
        DependencyError: plotly is not installed.
    """
    try:
        import plotly
        from plotly.offline import get_plotlyjs
    except ImportError as exc:
        raise DependencyError(
            "naga report needs plotly, which is not installed; install it with "
            "pip install 'naga[report]'"
        ) from exc
    return get_plotlyjs(), str(plotly.__version__)


def _asset(name: str) -> str:
    return (resources.files("naga.results.report") / "assets" / name).read_text("utf-8")


def _script(code: str) -> str:
    # Inline code must not contain "</script" (it would end the element early).
    return "<script>" + _SOURCE_MAP.sub("", code).replace("</script", "<\\/script") + "</script>"


def _style(css: str) -> str:
    return "<style>" + _SOURCE_MAP.sub("", css).replace("</style", "<\\/style") + "</style>"


def data_json(document: Any) -> str:
    """``document`` as JSON safe inside a script element (``<``, ``>``, ``&`` escaped)."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def page(document: dict[str, Any], *, plotly: str) -> str:
    """The whole HTML file of ``document``."""
    title = html.escape(str(document["meta"]["title"]))
    version = html.escape(str(document["meta"].get("naga_version")))
    return "".join(
        [
            "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n",
            "<meta name='viewport' content='width=device-width, initial-scale=1'>\n",
            # Belt and braces: the page may load nothing but what it holds.
            "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
            "script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
            "img-src data: blob:; font-src data:; connect-src 'none'\">\n",
            f"<meta name='generator' content='naga {version}'>\n",
            f"<title>{title}</title>\n",
            _style(_asset("vendor/tabulator.min.css")),
            "\n",
            _style(_asset("report.css")),
            "\n</head>\n<body>\n",
            "<header id='head'></header>\n",
            "<nav><a href='#summary'>Summary</a><a href='#groups'>Groups</a>"
            "<a href='#charts'>Charts</a><a href='#runs'>Runs</a>"
            "<a href='#card'>Run card</a></nav>\n",
            "<section id='summary'></section>\n<section id='groups'></section>\n",
            "<section id='charts'></section>\n<section id='runs'></section>\n",
            "<section id='card'></section>\n",
            "<script type='application/json' id='naga-data'>",
            data_json(document),
            "</script>\n",
            _script(plotly),
            "\n",
            _script(_asset("vendor/tabulator.min.js")),
            "\n",
            _script(_asset("report.js")),
            "\n</body>\n</html>\n",
        ]
    )
