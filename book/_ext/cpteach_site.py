"""Sphinx extension of the course site.

- Notebooks are executed without saving widget state: the dashboards show their opening frame
  as a plain PNG on the site (CPTEACH_STATIC_DASHBOARDS=1, set by book/build.sh), but the widgets
  are still created in the kernel, and nbclient would save their state (the live frame's bytes,
  about 250 kB per notebook) into the page, where nothing reads it. myst-nb passes no options to
  nbclient, so its executor is given store_widget_state=False.
- Equation links: each display of docs/theory.md with ``\\tag{4.3}`` gets the anchor ``eq-4-3``,
  and a citation "(4.3)" in the prose of any page (README, theory, notebooks) links to it. The
  sources stay plain text, as JupyterLab and GitHub show them.
- The site's stylesheet (static/cpteach.css: wide display equations stay readable).
"""
import functools
import re
from pathlib import Path

from docutils import nodes
from myst_nb.core.execute import direct

THEORY = "docs/theory"
TAG = re.compile(r"\\tag\{(\d+\.\d+)\}")
CITATION = re.compile(r"\((\d+\.\d+)\)")
NOT_PROSE = (nodes.math, nodes.math_block, nodes.literal, nodes.literal_block, nodes.reference, nodes.raw,
             nodes.title, nodes.container)


def anchor(number):
    """The id of the theory display tagged ``number``: '4.3' -> 'eq-4-3'."""
    return "eq-" + number.replace(".", "-")


def _add_static(app):
    # not a root _static folder: Jupyter Book would add every .js/.css found there to every page
    app.config.html_static_path.append(str(Path(__file__).parent / "static"))


def _link_equations(app, doctree, docname):
    if not hasattr(app.builder, "get_relative_uri"):
        return
    theory = app.env.cpteach_equations = getattr(app.env, "cpteach_equations", None) or set(
        TAG.findall((Path(app.srcdir) / f"{THEORY}.md").read_text(encoding="utf-8")))
    if docname == THEORY:
        for block in doctree.findall(nodes.math_block):
            for number in TAG.findall(block.astext()):
                block["ids"].append(anchor(number))
    target = "" if docname == THEORY else app.builder.get_relative_uri(docname, THEORY)
    for text in list(doctree.findall(nodes.Text)):
        parent = text.parent
        if parent is None or any(isinstance(p, NOT_PROSE) for p in _ancestors(parent)):
            continue
        source = str(text)
        pieces, last = [], 0
        for match in CITATION.finditer(source):
            if match.group(1) not in theory:
                continue
            pieces += [nodes.Text(source[last:match.start()]),
                       nodes.reference("", match.group(0), refuri=f"{target}#{anchor(match.group(1))}",
                                       internal=True, classes=["cpteach-eq"])]
            last = match.end()
        if pieces:
            pieces.append(nodes.Text(source[last:]))
            parent.replace(text, [p for p in pieces if not isinstance(p, nodes.Text) or str(p)])


def _ancestors(node):
    while node is not None:
        yield node
        node = node.parent


def setup(app):
    if not isinstance(direct.single_nb_execution, functools.partial):
        direct.single_nb_execution = functools.partial(direct.single_nb_execution, store_widget_state=False)
    app.connect("builder-inited", _add_static)
    app.connect("doctree-resolved", _link_equations)
    app.add_css_file("cpteach.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
