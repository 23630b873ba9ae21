"""predict is itself an async generator function."""

from webargs import fields


def get_predict_args():
    return {"word": fields.Str(load_default="hi")}


async def predict(word):
    for letter in word:
        yield letter
