"""What a Ray cluster can give trainings (``--executor ray``): the job manager's Capacity.

Ray places and holds resources itself (an actor reserves ``num_cpus``, ``num_gpus``,
``memory``; a site is a node label that its ``label_selector`` requires). This only answers
the manager's questions early: a request no alive node could ever hold is refused at submit
(422, naming what exists), and one the cluster has no room for now waits in the server's line
(``queued``, with its position) instead of hiding in Ray's queue as ``running``.

The manager asks from the event loop, and Ray's calls block, so answers come from a reading of
the cluster that a background task renews every :data:`_EVERY` seconds. Between readings, and
until a reading shows them, the trainings this server just placed or just ended are counted
here: a burst of submissions never all go for the same free CPUs, and an ended training's
CPUs are free again at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

from deepaas.cluster.shipping import SITE_LABEL, asked_options, resources
from deepaas.exceptions import ResourcesUnavailable
from deepaas.resources.placement import Placement, sizes
from deepaas.resources.request import Resources

__all__ = ["RayCapacity", "RayNode", "Reading", "read_cluster"]

LOG = logging.getLogger(__name__)
_EVERY = 2.0  # seconds between readings of the cluster
_SETTLE = 1.0  # seconds after which a reading surely shows an actor made or killed before
_KEYS = (("cpus", "CPU"), ("gpus", "GPU"), ("memory", "memory"))  # ours, Ray's


@dataclasses.dataclass(frozen=True)
class RayNode:
    """One alive Ray node: its id, address, site label, and Ray's CPU, GPU, memory amounts."""

    id: str
    address: str
    site: str
    total: dict[str, float]
    free: dict[str, float]


@dataclasses.dataclass(frozen=True)
class Reading:
    """The alive nodes as Ray showed them; ``began``: when (``time.monotonic()``) it was asked."""

    nodes: tuple[RayNode, ...]
    began: float


def _amounts(resources: dict[str, Any]) -> dict[str, float]:
    return {ray_key: float(resources.get(ray_key, 0)) for _, ray_key in _KEYS}


def _node(node: dict[str, Any], free: dict[str, Any]) -> RayNode:
    total = _amounts(node.get("Resources") or {})
    return RayNode(node["NodeID"], node.get("NodeManagerAddress", ""),
                   (node.get("Labels") or {}).get(SITE_LABEL, ""), total,
                   {key: min(amount, total[key]) for key, amount in _amounts(free).items()})


def read_cluster() -> Reading:
    """Ask Ray for its alive nodes and what is free on each (blocks: call it in a thread)."""
    import ray
    from ray._private import state

    began = time.monotonic()
    try:  # a DeveloperAPI, which Ray Client does not offer
        per_node: dict[str, dict[str, Any]] | None = state.available_resources_per_node()
    except Exception:
        per_node = None
    # Without a per-node answer each node is taken to be as free as the whole cluster is
    # (Ray's own queue then holds what does not fit after all).
    cluster = ray.available_resources() if per_node is None else {}
    return Reading(tuple(_node(node, per_node.get(node["NodeID"], {}) if per_node is not None
                               else cluster)
                         for node in ray.nodes() if node.get("Alive")), began)


@dataclasses.dataclass
class _Held:
    """A training this server placed: what its actor reserves, on which node (the one
    expected until the actor says where it runs), since when it runs, and where it is."""

    need: dict[str, float]
    node: str
    placement: Placement
    running_since: float | None = None


def _shown(amount: float) -> int | float:
    return int(amount) if float(amount).is_integer() else amount


def _memory(amount: float) -> str:
    return sizes(int(amount))


def _has(values: dict[str, float], need: dict[str, float]) -> bool:
    return all(values.get(key, 0.0) >= amount for key, amount in need.items())


class RayCapacity:
    """The alive nodes of the Ray cluster, and the trainings this server placed on them.

    ``cpus``, ``gpus`` and ``memory`` are what a training reserves when it asks nothing of
    one (``--ray-cpus``, ``--ray-gpus``, ``--ray-memory``); ``read`` reads the cluster.
    """

    def __init__(self, cpus: float = 1.0, gpus: float = 0.0, memory: int = 0,
                 read: Callable[[], Reading] = read_cluster) -> None:
        self._base = resources({}, cpus, gpus, memory)
        self._read = read
        self._reading: Reading | None = None
        self._held: dict[str, _Held] = {}
        self._freed: list[tuple[float, str, dict[str, float]]] = []  # (since, node, need)
        self._renewer: asyncio.Task[None] | None = None

    # --- life cycle ------------------------------------------------------------------------

    async def open(self) -> None:
        """Read the cluster once (trainings are checked against it from now on), then keep
        the reading fresh in the background."""
        try:
            self._reading = await asyncio.to_thread(self._read)
        except Exception as exc:  # then Ray's own queue decides until a reading succeeds
            LOG.warning("could not read the Ray cluster's resources: %s", exc)
        self._renewer = asyncio.create_task(self._renew(), name="ray-capacity")

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._renewer

    async def _renew(self) -> None:
        while True:
            await asyncio.sleep(_EVERY)
            try:
                self._reading = await asyncio.to_thread(self._read)
            except Exception as exc:  # Ray away for a moment: keep the last reading
                LOG.warning("could not read the Ray cluster's resources: %s", exc)
            self._forget_shown()

    # --- what trainings need ---------------------------------------------------------------

    def _need(self, asked: Resources) -> dict[str, float]:
        """What the actor of a training that asked this reserves, in Ray's names."""
        options = asked_options(asked, self._base)
        return {"CPU": options.get("num_cpus", 0.0), "GPU": options.get("num_gpus", 0.0),
                "memory": float(options.get("memory", 0))}

    def _nodes(self) -> tuple[RayNode, ...]:
        return self._reading.nodes if self._reading is not None else ()

    def _site_of(self, node_id: str) -> str:
        return next((node.site for node in self._nodes() if node.id == node_id), "")

    # --- Capacity --------------------------------------------------------------------------

    def check(self, asked: Resources) -> None:
        """A :class:`ResourcesUnavailable` (422) naming what exists when no alive node could
        ever hold ``asked``."""
        if self._reading is None:
            return  # not read yet: Ray's own queue decides
        nodes = self._nodes()
        sites = sorted({node.site for node in nodes if node.site})
        if asked.site is not None and asked.site not in sites:
            raise ResourcesUnavailable(
                "These resources can never be given here: site=%s, but %s" % (asked.site, (
                    "the sites of the Ray nodes are " + ", ".join(sites)) if sites else
                    "no Ray node has a site (ray start --labels site=NAME gives one)"))
        there = [node for node in nodes if asked.site in (None, node.site)]
        need = self._need(asked)
        if not any(_has(node.total, need) for node in there):
            raise ResourcesUnavailable("These resources can never be given here: %s"
                                       % _lacking(need, there, asked.site))

    def take(self, job: str, asked: Resources) -> Placement | None:
        """Count what ``job``'s actor will reserve against the node expected to hold it;
        None when no node of its site has it free now (it waits in line)."""
        need = self._need(asked)
        node = next((node for node in self._nodes() if asked.site in (None, node.site)
                     and _has(self._free(node), need)), None)
        if node is None and self._reading is not None:
            return None
        # Where the actor runs is known once it runs (:meth:`placed`).
        placement = Placement(node="", site=asked.site or "", memory=asked.memory)
        self._held[job] = _Held(need, node.id if node is not None else "", placement)
        return placement

    def placed(self, job: str, placement: Placement) -> Placement:
        """``job``'s actor runs where ``placement`` says (its site filled in from the
        node's label); answered as the record shows it."""
        held = self._held.get(job)
        if not placement.site:
            placement = dataclasses.replace(placement, site=self._site_of(placement.node))
        if held is not None:
            held.node, held.placement = placement.node, placement
            held.running_since = time.monotonic()
        return placement

    def release(self, job: str) -> None:
        held = self._held.pop(job, None)
        if held is not None and self._shown_by_reading(held):
            # The reading still counts its actor as holding them: free them here until a
            # reading shows them free.
            self._freed.append((time.monotonic(), held.node, held.need))

    def nodes(self) -> list[dict[str, Any]]:
        """Each alive node that can run work, with Ray's totals and what is free now, as
        ``/v2/resources/`` lists them (CPU and GPU ids are Ray's to choose: counts only).

        Nodes of no CPU and no GPU (a head, the API servers joined as nodes) are left out."""
        return [self._described(node) for node in self._nodes()
                if node.total["CPU"] or node.total["GPU"]]

    # --- between readings ------------------------------------------------------------------

    def _shown_by_reading(self, held: _Held) -> bool:
        return (held.running_since is not None and self._reading is not None
                and self._reading.began >= held.running_since + _SETTLE)

    def _forget_shown(self) -> None:
        began = self._reading.began if self._reading is not None else 0.0
        self._freed = [f for f in self._freed if began < f[0] + _SETTLE]

    def _free(self, node: RayNode) -> dict[str, float]:
        """What is free on ``node`` now: Ray's reading, less what this server placed there
        that the reading does not show yet, plus what ended that it still shows."""
        free = dict(node.free)
        changes = [(-1, h.need) for h in self._held.values()
                   if h.node == node.id and not self._shown_by_reading(h)]
        changes += [(1, need) for _, where, need in self._freed if where == node.id]
        for sign, need in changes:
            for key, amount in need.items():
                free[key] = free.get(key, 0.0) + sign * amount
        return {key: min(max(value, 0.0), node.total.get(key, 0.0))
                for key, value in free.items()}

    def _described(self, node: RayNode) -> dict[str, Any]:
        free = self._free(node)
        amounts = {ours: {"total": _shown(node.total[theirs]), "free": _shown(free[theirs])}
                   for ours, theirs in _KEYS}
        return {"name": node.id, "address": node.address, "site": node.site, **amounts,
                "trainings": {job: held.placement.shown() for job, held in self._held.items()
                              if held.node == node.id}}


def _lacking(need: dict[str, float], nodes: list[RayNode], site: str | None) -> str:
    """What no single node has, against the most any node of the site has."""
    where = "node" + (" of site %s" % site if site is not None else "")
    if not nodes:
        return "no Ray node is alive"
    problems = []
    for ours, theirs in _KEYS:
        most = max(node.total.get(theirs, 0.0) for node in nodes)
        if need[theirs] > most:
            shown = _memory if ours == "memory" else _shown
            problems.append("%s=%s, but the largest Ray %s has %s" % (
                ours, shown(need[theirs]), where, shown(most)))
    if problems:
        return "; ".join(problems)
    return "no single Ray %s has them all at once (%s)" % (where, "; ".join(
        "%s: %s" % (node.address or node.id, ", ".join(
            "%s=%s" % (ours, (_memory if ours == "memory" else _shown)(node.total[theirs]))
            for ours, theirs in _KEYS)) for node in nodes))
