"""Asking for resources, and one machine's allocation of them (no server needed)."""

from __future__ import annotations

import pytest

from deepaas.exceptions import InvalidInput, ResourcesUnavailable
from deepaas.resources.inventory import Gpu, Node, detect_local, gpus_of_nvidia_smi
from deepaas.resources.placement import LocalAllocation
from deepaas.resources.request import HEADER, Resources, from_declared, parse_header

NODE = Node("box", "lab", cpus=(0, 1, 2, 3), gpus=(Gpu(0, "H200", 2**37), Gpu(1, "H200")),
            memory=16 * 2**30)


def test_the_header_reads_any_subset():
    assert parse_header("cpus=2, gpus=1, memory=8GiB, site=lab") == Resources(
        2, 1, 8 * 2**30, "lab")
    assert parse_header(" Memory = 512MiB ") == Resources(memory=512 * 2**20)
    assert parse_header("") == Resources() and not Resources().constrained


@pytest.mark.parametrize("text, key", [
    ("cpus=two", "cpus"), ("cpus=0", "cpus"), ("cpus=1.5", "cpus"), ("gpus=-1", "gpus"),
    ("memory=lots", "memory"), ("memory=0", "memory"), ("site=", "site"), ("disk=1", "disk"),
    ("cpus", "cpus"), ("cpus=1, cpus=2", "cpus")])
def test_a_malformed_value_is_a_422_naming_its_key(text, key):
    with pytest.raises(InvalidInput) as raised:
        parse_header(text)
    assert raised.value.status == 422
    (message,) = raised.value.messages[HEADER]
    assert message.startswith(key + ":")


def test_asked_then_declared_then_the_servers_defaults():
    asked = parse_header("gpus=1")
    declared = from_declared({"cpus": 2, "memory": "4GiB", "gpus": "many"})  # gpus ignored
    assert declared == Resources(cpus=2, memory=4 * 2**30)
    assert asked.over(declared).over(Resources(cpus=1, site="lab")) == Resources(
        2, 1, 4 * 2**30, "lab")


def test_what_can_never_fit_is_refused_at_once_naming_what_exists():
    allocation = LocalAllocation(NODE)
    allocation.check(Resources(cpus=4, gpus=2, memory=16 * 2**30, site="lab"))
    with pytest.raises(ResourcesUnavailable) as raised:
        allocation.check(Resources(cpus=8, gpus=64, memory=2**40, site="cern"))
    message = raised.value.message
    assert raised.value.status == 422
    for part in ("cpus=8, but this machine has 4", "gpus=64, but this machine has 2",
                 "memory=1 TiB, but this machine has 16 GiB",
                 "site=cern, but the only site is lab"):
        assert part in message, message


def test_cpus_and_gpus_go_to_one_training_at_a_time():
    allocation = LocalAllocation(NODE)
    first = allocation.take("a", Resources(cpus=3, gpus=1, memory=10 * 2**30))
    assert first is not None and first.cpus == (0, 1, 2) and first.gpus == (0,)
    assert allocation.take("b", Resources(cpus=2)) is None  # one CPU is left
    assert allocation.take("b", Resources(memory=8 * 2**30)) is None  # 6 GiB are left
    second = allocation.take("b", Resources(cpus=1, gpus=1))
    assert second is not None and second.cpus == (3,) and second.gpus == (1,)
    assert allocation.take("c", Resources(gpus=1)) is None
    unasked = allocation.take("c", Resources())  # shares what is not held; sees every GPU
    assert unasked is not None and unasked.cpus is None and unasked.gpus is None
    none = allocation.take("d", Resources(gpus=0))
    assert none is not None and none.gpus == ()
    (usage,) = allocation.nodes()
    assert usage["cpus"]["free"] == 0 and usage["gpus"]["free_ids"] == []
    allocation.release("a")
    assert allocation.nodes()[0]["cpus"]["free_ids"] == [0, 1, 2]
    assert allocation.nodes()[0]["gpus"]["devices"][0] == {"id": 0, "model": "H200",
                                                        "memory": 2**37}


def test_nvidia_smi_lines_and_this_machine():
    assert gpus_of_nvidia_smi("0, NVIDIA H200, 143771\n1, Tesla T4, [N/A]\n\n") == (
        Gpu(0, "NVIDIA H200", 143771 * 2**20), Gpu(1, "Tesla T4", None))
    here = detect_local("")
    assert here.cpus and here.memory > 0
