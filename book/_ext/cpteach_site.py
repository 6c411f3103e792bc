"""Sphinx extension of the course site: notebooks are executed without saving widget state.

The dashboards show their opening frame as a plain PNG on the site (CPTEACH_STATIC_DASHBOARDS=1,
set by book/build.sh), but the widgets are still created in the kernel, and nbclient would save
their state (the live frame's bytes, about 250 kB per notebook) into the page, where nothing
reads it. myst-nb passes no options to nbclient, so its executor is given store_widget_state=False.
"""
import functools

from myst_nb.core.execute import direct


def setup(app):
    if not isinstance(direct.single_nb_execution, functools.partial):
        direct.single_nb_execution = functools.partial(direct.single_nb_execution, store_widget_state=False)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
