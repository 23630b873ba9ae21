"""Only predict: every other method falls back to "not provided"."""


def predict(**kwargs):
    return ["ok", kwargs]
