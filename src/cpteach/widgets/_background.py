"""A dashboard's background: its figure without the animated artists, cached as pixels, and repainted
only where a frame changes it (docs: :mod:`cpteach.widgets._dashboard`, "Rendering").

:class:`Background` draws the figure once and remembers, per artist, the pixels it paints
(:meth:`Background._extent`). When an axes' limits, scale, static title or static images change
(:meth:`Background.keys`), only the stale artists (an axis whose limits changed, what is drawn in data
coordinates) and whatever reaches into their old or new extent are painted again; the pixels outside
that region are put back from the old background, so the result equals a full draw pixel for pixel.
"""
from __future__ import annotations

import math

import numpy as np
from matplotlib.axis import Axis, XAxis
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox, IdentityTransform

CSS_DPI = 96          # matplotlib points map to CSS points: 10 pt text is 13.3 CSS px

__all__ = ["Background", "smallest_text_px"]


class Background:
    """The figure without its animated artists, as pixels, kept equal to a full draw.

    Attributes
    ----------
    pad : float, pixels added around every extent (antialiased edges, line widths)
    text_px : float, the size of the background's smallest text in CSS px (the figure at its CSS size)
    full_draws, partial_draws : int, how often the whole figure or a region was painted
    """

    def __init__(self, figure, pad=6.0):
        self.figure, self.pad = figure, float(pad)
        self.full_draws = self.partial_draws = 0
        self.text_px = math.inf
        self._keys = self._pixels = None
        self._painted, self._positions = [], []
        self._blank = Rectangle((0, 0), 1, 1, transform=IdentityTransform(), facecolor=figure.get_facecolor(),
                                edgecolor="none", antialiased=False)

    def invalidate(self):
        """Draw everything anew at the next :meth:`restore`."""
        self._keys = None

    def restore(self):
        """Put the background on the canvas: drawn anew, repainted where its keys changed, or as cached."""
        keys = self.keys()
        if self._keys is None or len(keys) != len(self._keys):
            self.draw()
        elif keys != self._keys:
            self.repaint([(i, key, old) for i, (key, old) in enumerate(zip(keys, self._keys)) if key != old])
            self._keys = keys
        else:
            self.figure.canvas.restore_region(self._pixels)

    def keys(self):
        """Per axes, what the cached background shows of it: limits, scales, a static title, static images,
        and the colour scale of the colour bar it holds (a signed log scale's ticks follow its linthresh)."""
        scales = {}
        for ax in self.figure.axes:
            for mappable in (*ax.images, *ax.collections):
                if getattr(mappable, "colorbar", None) is not None:
                    norm = mappable.norm
                    scales[mappable.colorbar.ax] = (type(norm).__name__, norm.vmin, norm.vmax,
                                                    getattr(norm, "linthresh", None), mappable.get_cmap().name)
        return [(ax.get_xlim(), ax.get_ylim(), ax.get_xscale(), ax.get_yscale(),
                 None if ax.title.get_animated() else ax.title.get_text(),
                 tuple((id(im.get_array()), im.norm.vmin, im.norm.vmax) for im in ax.images if not im.get_animated()),
                 scales.get(ax))
                for ax in self.figure.axes]

    def _layers(self):
        """What the background is painted from, in the figure's painting order: per axes its patch and
        children (the axes paints them, :meth:`_paint`), then the figure's legends and texts."""
        layers = [(ax, [ax.patch, *ax.get_children()]) for ax in self.figure.axes]
        return layers + [(None, [artist]) for artist in (*self.figure.legends, *self.figure.texts)]

    def _extent(self, artist, renderer):
        """The pixels ``artist`` paints into, padded for antialiasing, as whole pixels (x0, y0, x1, y1),
        or None where it paints nothing in the background (invisible or animated).

        An axis' extent holds its ticks, tick labels and label (and the axes' box where it draws
        grid lines); an artist clipped to a box paints inside that box.
        """
        if not artist.get_visible() or artist.get_animated():
            return None
        if isinstance(artist, Axis):
            box = artist.get_tightbbox(renderer)        # tick labels and the label, without the tick marks
            if box is not None:
                box = Bbox.union([box, *_tick_bands(artist, self.figure.dpi)])
            if box is not None and any(tick.gridline.get_visible() for tick in artist.get_major_ticks()):
                box = Bbox.union([box, artist.axes.bbox])
        elif artist.get_clip_on() and artist.get_clip_box() is not None:
            box = artist.get_clip_box()
            if isinstance(artist, Line2D):          # a line's points and half its width (a reference line: a band)
                width = artist.get_linewidth() * self.figure.dpi / 72
                box = Bbox.intersection(box, artist.get_window_extent(renderer).padded(width / 2))
        else:
            box = artist.get_window_extent(renderer)
        if box is None or not (box.x0 <= box.x1 and box.y0 <= box.y1):    # nothing (an empty collection)
            return None
        box = box.padded(self.pad)
        return (math.floor(box.x0), math.floor(box.y0), math.ceil(box.x1), math.ceil(box.y1))

    def draw(self):
        """Draw the figure without its animated artists; remember the pixels and each artist's extent."""
        canvas = self.figure.canvas
        canvas.draw()                                       # animated artists are left out
        self.full_draws += 1
        renderer = canvas.get_renderer()
        self._painted = [(owner, [(artist, self._extent(artist, renderer)) for artist in artists])
                         for owner, artists in self._layers()]
        self._positions = [ax.get_position().bounds for ax in self.figure.axes]
        self._keys = self.keys()
        self._pixels = canvas.copy_from_bbox(self.figure.bbox)
        self.text_px = self._painted_text_px()

    def _stale_artists(self, i, key, old):
        """The artists of axes ``i`` whose pixels a change of its background key from ``old`` to ``key``
        changes: an axis whose limits or scale changed, everything drawn in data coordinates then,
        a changed static title, changed static images, a colour bar whose colour scale changed."""
        ax = self.figure.axes[i]
        x = key[0] != old[0] or key[2] != old[2]          # limits, scale
        y = key[1] != old[1] or key[3] != old[3]
        frame = {ax.patch, *ax.spines.values(), ax.xaxis, ax.yaxis, ax.title, ax._left_title, ax._right_title}
        stale = [ax.xaxis] * x + [ax.yaxis] * y
        if x or y:      # data moved: what is drawn in data coordinates, and a legend placed by the data
            stale += [a for a in ax.get_children() if a not in frame and (a is not ax.legend_ or ax.legend_._loc == 0)]
        if key[4] != old[4] or (x and ax.xaxis.get_ticks_position() != "bottom"):
            stale += [ax.title, ax._left_title, ax._right_title]
        if key[5] != old[5]:
            stale += [im for im in ax.images if not im.get_animated()]
        if key[6] != old[6]:                              # a colour bar's scale: all of it
            stale += ax.get_children()
        return stale

    def repaint(self, changed):
        """Repaint the background where the axes ``changed`` (indices, with their old and new keys) differ.

        The region repainted is the old and new extent of every stale artist (:meth:`_stale_artists`);
        it is blanked, and every artist whose extent meets it is painted again, in the figure's order;
        pixels outside the region are then put back from the old background, so that the result
        equals a full draw pixel for pixel (the region is whole pixels, blanked without antialiasing).
        An axes whose children or position changed (a colour bar's new solids, an aspect) is stale
        as a whole; if an axes moved, the figure is drawn anew.
        """
        figure, canvas = self.figure, self.figure.canvas
        renderer = canvas.get_renderer()
        for ax in figure.axes:
            ax.apply_aspect()
        if [ax.get_position().bounds for ax in figure.axes] != self._positions:
            self.draw()
            return
        layers = self._layers()
        stale, region = set(), []
        for i, key, old in changed:
            now, before = layers[i][1], self._painted[i][1]
            if now == [artist for artist, _ in before]:
                stale.update(self._stale_artists(i, key, old))
            else:                                           # new children: the whole axes, old and new
                stale.update(now)
                region += [extent for _, extent in before]
        painted = []
        for (owner, artists), (_, before) in zip(layers, self._painted):
            old = dict(before)
            extents = [(a, self._extent(a, renderer) if a in stale or a not in old else old[a]) for a in artists]
            region += [old.get(a) for a in stale.intersection(old)] + [e for a, e in extents if a in stale]
            painted.append((owner, extents))
        region = [r for r in region if r is not None]
        canvas.restore_region(self._pixels)
        for x0, y0, x1, y1 in region:
            self._blank.set_bounds(x0, y0, x1 - x0, y1 - y0)
            figure.draw_artist(self._blank)
        for owner, extents in painted:
            again = [a for a, e in extents if e is not None and any(_overlap(e, r) for r in region)]
            if again:
                self._paint(owner, again, renderer)
        drawn = np.asarray(canvas.buffer_rgba()).copy()
        canvas.restore_region(self._pixels)             # outside the region: the old background
        pixels, height = np.asarray(canvas.buffer_rgba()), drawn.shape[0]
        for x0, y0, x1, y1 in region:
            rows, cols = slice(max(height - y1, 0), max(height - y0, 0)), slice(max(x0, 0), max(x1, 0))
            pixels[rows, cols] = drawn[rows, cols]
        self._painted = painted
        self._pixels = canvas.copy_from_bbox(figure.bbox)
        self.text_px = self._painted_text_px()
        self.partial_draws += 1

    def _painted_text_px(self):
        """:attr:`min_text_px` of the texts in the background (not animated)."""
        return smallest_text_px(text for text in self.figure.findobj(Text) if not text.get_animated())

    @staticmethod
    def _paint(owner, artists, renderer):
        """Paint ``artists`` as a full draw does: through their axes (its order and context) with the
        other children hidden, or, for the figure's own legends and texts, directly.

        Painting more than needed is harmless (pixels outside the region are put back); the titles
        are never hidden, as the axes places each title by the extents of all three.
        """
        if owner is None:
            for artist in artists:
                artist.draw(renderer)
            return
        keep = {*artists, owner.title, owner._left_title, owner._right_title}
        hidden = [a for a in (owner.patch, *owner.get_children()) if a not in keep and a.get_visible()]
        for artist in hidden:
            artist.set_visible(False)
        try:
            owner.draw(renderer)
        finally:
            for artist in hidden:
                artist.set_visible(True)


def smallest_text_px(texts):
    """The font size in CSS px of the smallest non-empty text among ``texts`` (inf if there is none)."""
    return min((text.get_fontsize() for text in texts if text.get_text()), default=math.inf) * CSS_DPI / 72


def _tick_bands(axis, dpi):
    """Where the tick marks of ``axis`` can be: bands as wide as the longest tick mark along the axes'
    edges that carry ticks (bottom/top for an x axis, left/right for a y axis)."""
    box, ticks = axis.axes.bbox, (axis.majorTicks[0], axis.minorTicks[0])
    lines = [(tick.tick1line, tick.tick2line) for tick in ticks]
    size = max(line.get_markersize() + line.get_markeredgewidth() for pair in lines for line in pair) * dpi / 72
    bands = []
    for side in (0, 1):
        if any(pair[side].get_visible() for pair in lines):
            if isinstance(axis, XAxis):
                y = (box.y0, box.y1)[side]
                bands.append(Bbox([[box.x0 - size, y - size], [box.x1 + size, y + size]]))
            else:
                x = (box.x0, box.x1)[side]
                bands.append(Bbox([[x - size, box.y0 - size], [x + size, box.y1 + size]]))
    return bands


def _overlap(a, b):
    """Whether the pixel boxes (x0, y0, x1, y1) ``a`` and ``b`` share a pixel."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
