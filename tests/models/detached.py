"""A training that leaves a process behind, out of reach of its process group.

The process it starts calls ``setsid()`` (it leaves the training's process group and session,
as a daemonised helper does) and ignores SIGTERM, then sleeps; it writes its pid to
``pidfile`` once it is in that state, so a test knows what to look for.
"""

import os
import subprocess
import sys
import time

from webargs import fields

_LEFTOVER = """
import os, signal, sys, time
os.setsid()
signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(sys.argv[1] + ".part", "w") as handle:
    handle.write(str(os.getpid()))
os.replace(sys.argv[1] + ".part", sys.argv[1])
time.sleep(600)
"""


def get_train_args():
    return {"pidfile": fields.Str(required=True), "sleep": fields.Float(load_default=0.0)}


def train(pidfile, sleep):
    subprocess.Popen([sys.executable, "-c", _LEFTOVER, pidfile])
    deadline = time.monotonic() + 30
    while not os.path.exists(pidfile):  # detached and deaf to SIGTERM before train goes on
        if time.monotonic() > deadline:
            raise RuntimeError("the detached process never started")
        time.sleep(0.01)
    print("left process %s behind" % open(pidfile).read(), flush=True)
    time.sleep(sleep)
    return {"left": "a process behind"}
