"""What a filter or the newest-first order asks of a document: its day, its moment, its channel.

Read once per engine from its documents, as arrays indexed by document number, so a filter is a
mask the stage-1 candidate search applies (:class:`Scope`) and the newest-first order a gather,
never a loop over documents per question. The channel rule is :func:`bot.tme.document_channel`.
"""

from __future__ import annotations

import datetime
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from bot import tme
from bot.corpus import Document
from bot.engine.index import FloatArray, IntArray, SparseScores
from bot.engine.query import Query

__all__ = ["Facets", "LazyFacets", "Scope", "day_and_moment"]

_BoolArray = npt.NDArray[np.bool_]
# Scopes kept per engine: a reader pages and toggles the order of the same filtered question.
_SCOPES = 16
_UNDATED = 0  # no date's ordinal (date.min is 1)
_POSTS = tme.TELEGRAM_DIR + "/"


def day_and_moment(value: str | None) -> tuple[int, float]:
    """A document date's day (proleptic ordinal, 0 when undated) and the moment it orders by:
    seconds since 0001-01-01 in UTC (a time without zone counts as UTC; -inf when undated).

    The day is the calendar day the date is written with, so a period filter takes the day the
    document shows, whatever its zone."""
    if not value:
        return _UNDATED, -np.inf
    if len(value) == 10:  # a plain day (the loader writes days as YYYY-MM-DD): its midnight
        try:
            day = datetime.date.fromisoformat(value).toordinal()
        except ValueError:
            return _UNDATED, -np.inf
        return day, (day - 1) * 86400.0
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return _UNDATED, -np.inf
    day = moment.date().toordinal()
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    seconds = (moment - datetime.datetime(1, 1, 1)).total_seconds()
    return day, seconds


@dataclass(frozen=True, slots=True)
class Scope:
    """The documents a filtered question may quote, as masks: per document for the passages a
    sparse search touched; per passage (the ones left out, made on first use) for the
    whole-corpus search."""

    documents: _BoolArray
    doc_of: IntArray
    #: Passages per document (a document's passages are numbered together).
    sizes: IntArray
    _outside: list[_BoolArray] = field(default_factory=list, repr=False, compare=False)

    @property
    def outside(self) -> _BoolArray:
        """Which passages are out of scope. Two threads may both make it: the same array."""
        if not self._outside:
            self._outside.append(np.repeat(~self.documents, self.sizes))
        return self._outside[0]

    def restrict(self, scores: SparseScores) -> SparseScores:
        """``scores`` of the passages in scope only."""
        keep = self.documents[self.doc_of[scores.ids]]
        return SparseScores(scores.ids[keep], scores.scores[keep])


class Facets:
    """Each document's day, moment and channel, and the scopes of the filters asked so far."""

    def __init__(self, documents: Sequence[Document], doc_of: IntArray) -> None:
        self.channel_ids: dict[str, int] = {}
        number = self.channel_ids.setdefault
        # Posts share their days and channels: each distinct date and folder is read once.
        dates: dict[str | None, tuple[int, float]] = {}
        folders: dict[str, int] = {}
        read: list[tuple[int, float]] = []
        owners: list[int] = []
        for doc in documents:
            found = dates.get(doc.date)
            if found is None:
                found = dates[doc.date] = day_and_moment(doc.date)
            read.append(found)
            # A post's folder decides its channel: read once per folder.
            folder: str | None = doc.path.rpartition("/")[0]
            if not (folder and folder.startswith(_POSTS) and len(folder) > len(_POSTS)):
                folder = None
            channel = None if folder is None else folders.get(folder)
            if channel is None:
                key = tme.document_channel(doc.path, doc.post_url, doc.url)
                channel = -1 if key is None else number(key, len(self.channel_ids))
                if folder is not None:
                    folders[folder] = channel
            owners.append(channel)
        self.days = np.array([day for day, _ in read], dtype=np.int32)
        self.moments = np.array([moment for _, moment in read], dtype=np.float64)
        self.channels = np.array(owners, dtype=np.int32)
        self._doc_of = doc_of
        self._sizes = np.bincount(doc_of, minlength=len(documents)).astype(np.int64)
        self._scopes: OrderedDict[tuple[object, ...], Scope] = OrderedDict()
        self._lock = threading.Lock()

    def scope(self, query: Query) -> Scope | None:
        """The scope of ``query``'s filters; None when it has none (every document)."""
        if not query.filtered:
            return None
        key = (query.since, query.until, query.channel)
        with self._lock:
            found = self._scopes.get(key)
            if found is not None:
                self._scopes.move_to_end(key)
                return found
        found = Scope(self._mask(query), self._doc_of, self._sizes)
        with self._lock:
            self._scopes[key] = found
            while len(self._scopes) > _SCOPES:
                self._scopes.popitem(last=False)
        return found

    def _mask(self, query: Query) -> _BoolArray:
        mask = np.ones(len(self.days), dtype=bool)
        if query.since is not None or query.until is not None:
            # An undated document never lies in a period.
            mask &= self.days != _UNDATED
            if query.since is not None:
                mask &= self.days >= query.since.toordinal()
            if query.until is not None:
                mask &= self.days <= query.until.toordinal()
        if query.channel is not None:
            channel = self.channel_ids.get(query.channel)
            if channel is None:
                mask[:] = False
            else:
                mask &= self.channels == channel
        return mask

    def newest_first(self, ranked: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """``ranked`` (best first) ordered by their documents' moments, newest first, then by
        score; undated documents last, best first among themselves."""
        if len(ranked) < 2:
            return ranked
        pids = np.fromiter((pid for pid, _ in ranked), np.int64, len(ranked))
        scores = np.fromiter((score for _, score in ranked), np.float64, len(ranked))
        moments: FloatArray = self.moments[self._doc_of[pids]]
        # lexsort's last key is the primary one; equal keys keep their best-first order.
        order = np.lexsort((np.arange(len(ranked)), -scores, -moments))
        return [ranked[i] for i in order.tolist()]


class LazyFacets:
    """An engine's :class:`Facets`, read from its documents on the first question that needs
    them: a reload costs nothing more, and unfiltered questions never pay for them."""

    def __init__(self) -> None:
        self._facets: Facets | None = None
        self._lock = threading.Lock()

    def get(self, documents: Sequence[Document], doc_of: IntArray) -> Facets:
        found = self._facets
        if found is None:
            with self._lock:
                found = self._facets
                if found is None:
                    found = self._facets = Facets(documents, doc_of)
        return found
