"""Serving a strategic assessment's self-contained HTML under a Content-Security-Policy without
``'unsafe-inline'``.

The report (``diogel assess``) carries its style sheet in a ``<style>`` element and its charts as
inline SVG written by matplotlib, whose shapes are styled with ``style="..."`` attributes. A policy
without ``'unsafe-inline'`` blocks both. So the document is rewritten as it is served: each distinct
``style`` attribute becomes a ``data-s`` number and one rule of a generated style sheet
(``[data-s="3"] { ... !important }``: an attribute's declarations beat any rule, as an inline style
does), and every ``<style>`` element of the result is allowed by its SHA-256 hash (CSP Level 2).
No script runs at all.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re

_STYLE_ATTR = re.compile(r"""(\s)style\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_STYLE_ELEMENT = re.compile(r"<style\b[^>]*>(.*?)</style>", re.I | re.S)


def _important(declarations: str) -> str:
    out = []
    for d in declarations.split(";"):
        d = d.strip()
        if d:
            out.append(d if d.lower().endswith("!important") else d + " !important")
    return "; ".join(out)


def contain(document: str) -> tuple[str, str]:
    """(the document with its style attributes moved into a style sheet, the CSP to serve it with)."""
    numbers: dict[str, int] = {}

    def number(m: re.Match) -> str:
        value = html.unescape(m.group(2) if m.group(2) is not None else m.group(3) or "")
        # A value cannot close the generated <style> element or open a comment in it.
        value = value.replace("<", "\\3c ").replace("/*", "")
        return f'{m.group(1)}data-s="{numbers.setdefault(value, len(numbers))}"'

    body = _STYLE_ATTR.sub(number, document)
    if numbers:
        sheet = (
            "<style>" + "".join(f'[data-s="{i}"]{{{_important(v)}}}' for v, i in numbers.items()) + "</style>"
        )
        head_end = re.search(r"</head\s*>", body, re.I)
        at = head_end.start() if head_end else 0
        body = body[:at] + sheet + body[at:]
    hashes = sorted(
        {
            "'sha256-" + base64.b64encode(hashlib.sha256(m.group(1).encode("utf-8")).digest()).decode() + "'"
            for m in _STYLE_ELEMENT.finditer(body)
        }
    )
    csp = (
        "default-src 'none'; img-src 'self' data:; font-src 'self' data:; script-src 'none'; "
        f"style-src 'self' {' '.join(hashes)}; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ).replace("'self' ;", "'self';")
    return body, csp
