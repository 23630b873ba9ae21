"""Prediction records in the PostgreSQL job store (table ``deepaas_predictions``)."""

from __future__ import annotations

import datetime

from deepaas.jobs import prediction_rows as prows
from deepaas.jobs.postgres import PostgresStore
from deepaas.jobs.prediction_records import PredictionRecord
from deepaas.jobs.records import JobStatus

__all__ = ["PostgresPredictions"]

_SQL = prows.Queries("deepaas_predictions", "deepaas_replicas", lambda i: "$%d" % i,
                     lambda mark: "now() - make_interval(secs => %s)" % mark)
_FIND = " WHERE model = $1%s ORDER BY id LIMIT $2 OFFSET $3"


class PostgresPredictions:
    """A :class:`~deepaas.jobs.prediction_records.PredictionStore` over the job store's pool:
    the job store connects, migrates and closes it."""

    def __init__(self, index: PostgresStore) -> None:
        self._index = index

    async def put(self, record: PredictionRecord) -> bool:
        status = await self._index.pool.execute(_SQL.upsert,
                                                *prows.to_row(record, text_dates=False))
        return bool(int(status.rsplit(" ", 1)[-1]))  # "INSERT 0 <rows written>"

    async def get(self, uuid: str, with_body: bool = False) -> PredictionRecord | None:
        query = (_SQL.select_body if with_body else _SQL.select) + " WHERE uuid = $1"
        row = await self._index.pool.fetchrow(query, uuid)
        return None if row is None else prows.from_row(tuple(row))

    async def find(self, model: str, statuses: tuple[JobStatus, ...] = (),
                   limit: int | None = None, offset: int = 0) -> list[PredictionRecord]:
        query = _SQL.select + _FIND % prows.where_find(statuses)
        found = await self._index.pool.fetch(query, model, limit, offset)
        return [prows.from_row(tuple(row)) for row in found]

    async def orphans(self, stale_after: float | None) -> list[PredictionRecord]:
        if stale_after is None:
            found = await self._index.pool.fetch(_SQL.running)
        else:
            found = await self._index.pool.fetch(_SQL.orphans, float(stale_after))
        return [prows.from_row(tuple(row)) for row in found]

    async def expire(self, before: datetime.datetime) -> int:
        status = await self._index.pool.execute(_SQL.expire, before)
        return int(status.rsplit(" ", 1)[-1])  # "DELETE <rows>"
