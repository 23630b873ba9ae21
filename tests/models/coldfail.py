"""warm() fails: the server must say so and not serve a half-ready model."""


def warm():
    raise RuntimeError("weights not found")


def predict(**kwargs):
    return "never"
