"""The HTML page: one self-contained file, figures embedded as base64 PNGs."""

from __future__ import annotations

import base64
import html

from .document import figure_id

__all__ = ["render"]

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1400px; margin: 2em auto; padding: 0 1em;
       line-height: 1.45; color: #222; }
h2 { margin-top: 2.2em; border-bottom: 1px solid #ccc; }
.verdict { font-weight: bold; padding: 0.1em 0.5em; border-radius: 4px; }
.holds { background: #e3f5e1; color: #185c12; } .fails { background: #fde3e3; color: #8a1313; }
blockquote { border-left: 4px solid #8aa; margin: 0.8em 0; padding: 0.2em 1em;
             background: #f5f8f8; }
img { max-width: 100%; } code { background: #f3f3f3; padding: 0 0.2em; }
table.summary td, table.summary th { padding: 0.2em 0.8em; text-align: left; }
"""


def _section(claim, png):
    e = html.escape
    cls, word = ("holds", "holds") if claim["holds"] else ("fails", "does not hold")
    parts = [f'<section id="{e(claim["name"])}">',
             f'<h2>{e(claim["title"])} <span class="verdict {cls}">{word}</span></h2>',
             f'<p><b>The lecture:</b></p><blockquote>{e(claim["statement"])}</blockquote>',
             f'<p><b>How it is checked:</b> {e(claim["check"])}</p>',
             f'<p><b>Measured:</b> {e(claim["headline"])}</p>']
    if png is not None:
        data = base64.b64encode(png).decode("ascii")
        parts.append(f'<img id="{figure_id(claim["name"])}" alt="{e(claim["title"])}" '
                     f'src="data:image/png;base64,{data}">')
    if claim.get("error"):
        parts.append(f'<p class="verdict fails">{e(claim["error"])}</p>')
    parts.append(f'<p><small>{claim["seconds"]:.2f} s; every number is in lecture.json under '
                 f'<code>claims[name="{e(claim["name"])}"].numbers</code>.</small></p>')
    parts.append("</section>")
    return "\n".join(parts)


def render(doc, pngs) -> str:
    """The page for ``doc`` (see :func:`fastlin.report.lecture.document.build`).

    Parameters
    ----------
    doc : dict
    pngs : dict
        claim name -> PNG bytes (or None).
    """
    e = html.escape
    rows = "\n".join(
        f'<tr><td><a href="#{e(c["name"])}">{e(c["title"])}</a></td>'
        f'<td class="verdict {"holds" if c["holds"] else "fails"}">'
        f'{"holds" if c["holds"] else "does not hold"}</td><td>{e(c["headline"])}</td></tr>'
        for c in doc["claims"])
    held = sum(c["holds"] for c in doc["claims"])
    sections = "\n".join(_section(c, pngs.get(c["name"])) for c in doc["claims"])
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>fastlin lecture: the introductory lecture's claims, measured</title>
<style>{_STYLE}</style></head><body>
<h1>The introductory lecture's claims, measured with fastlin</h1>
<p>{held} of {len(doc["claims"])} claims hold on this machine (seed {doc["seed"]},
{doc["seconds"]:.1f} s, Python {e(doc["python"])}, {e(doc["created"])}). Notation as in the
lecture: weights w, bias b, activation a = w·x + b, learning rate η, penalty strength λ.</p>
<table class="summary"><tr><th>claim</th><th>verdict</th><th>measured</th></tr>
{rows}</table>
{sections}
</body></html>
"""
