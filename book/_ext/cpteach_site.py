"""Sphinx extension of the course site: notebooks are executed without saving widget state, and
the site's stylesheet (static/cpteach.css: wide display equations stay readable) is added.

The dashboards show their opening frame as a plain PNG on the site (CPTEACH_STATIC_DASHBOARDS=1,
set by book/build.sh), but the widgets are still created in the kernel, and nbclient would save
their state (the live frame's bytes, about 250 kB per notebook) into the page, where nothing
reads it. myst-nb passes no options to nbclient, so its executor is given store_widget_state=False.
"""
import functools
from pathlib import Path

from myst_nb.core.execute import direct


def _add_static(app):
    # not a root _static folder: Jupyter Book would add every .js/.css found there to every page
    app.config.html_static_path.append(str(Path(__file__).parent / "static"))


def setup(app):
    if not isinstance(direct.single_nb_execution, functools.partial):
        direct.single_nb_execution = functools.partial(direct.single_nb_execution, store_widget_state=False)
    app.connect("builder-inited", _add_static)
    app.add_css_file("cpteach.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
