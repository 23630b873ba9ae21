"""Prediction records in the SQLite job store's file (table ``predictions``)."""

from __future__ import annotations

import datetime

from deepaas.jobs import prediction_rows as prows
from deepaas.jobs.prediction_records import PredictionRecord
from deepaas.jobs.records import JobStatus
from deepaas.jobs.sqlite import SQLiteStore

__all__ = ["SQLitePredictions"]

# Seconds since the epoch by SQLite's clock, as the replicas' heartbeats are written.
_NOW = "((julianday('now') - 2440587.5) * 86400.0)"
_SQL = prows.Queries("predictions", "replicas", lambda i: "?",
                     lambda mark: "%s - %s" % (_NOW, mark))


class SQLitePredictions:
    """A :class:`~deepaas.jobs.prediction_records.PredictionStore` over the job store's
    connection: the job store opens, migrates, reopens and closes the file."""

    def __init__(self, index: SQLiteStore) -> None:
        self._index = index

    async def put(self, record: PredictionRecord) -> bool:
        return await self._index.write(_SQL.upsert, prows.to_row(record)) > 0

    async def get(self, uuid: str, with_body: bool = False) -> PredictionRecord | None:
        query = (_SQL.select_body if with_body else _SQL.select) + " WHERE uuid = ?"
        found = await self._index.fetch(query, (uuid,))
        return prows.from_row(found[0]) if found else None

    async def find(self, model: str, statuses: tuple[JobStatus, ...] = (),
                   limit: int | None = None, offset: int = 0) -> list[PredictionRecord]:
        query = (_SQL.select + " WHERE model = ?" + prows.where_find(statuses)
                 + " ORDER BY id LIMIT ? OFFSET ?")
        found = await self._index.fetch(query, (model, -1 if limit is None else limit, offset))
        return [prows.from_row(row) for row in found]

    async def orphans(self, stale_after: float | None) -> list[PredictionRecord]:
        if stale_after is None:
            return [prows.from_row(row) for row in await self._index.fetch(_SQL.running)]
        found = await self._index.fetch(_SQL.orphans, (stale_after,))
        return [prows.from_row(row) for row in found]

    async def expire(self, before: datetime.datetime) -> int:
        return await self._index.write(_SQL.expire, (before.isoformat(),))
