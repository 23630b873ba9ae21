"""Methods that exist but raise NotImplementedError."""


def get_metadata():
    raise NotImplementedError()


def get_predict_args():
    raise NotImplementedError()


def predict(**kwargs):
    raise NotImplementedError()


def get_train_args():
    raise NotImplementedError()


def train(**kwargs):
    raise NotImplementedError()
