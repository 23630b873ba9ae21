"""A module whose predict streams: a verse, one word at a time.

Nothing here knows about streaming: ``predict`` is a generator, and deepaas sends each item
it yields as soon as it is yielded (see "Streamed answers" in the deepaas README).
"""

import itertools
import time

from webargs import fields, validate

_WORDS = ("falls", "softly", "over", "the", "quiet", "hills", "and", "every", "leaf",
          "remembers", "a", "song", "of", "light", "returning", "home")


def get_metadata():
    return {"name": "poet", "description": "Streams a short verse, word by word",
            "version": "1.0.0", "license": "Apache-2.0"}


def get_predict_args():
    return {
        "topic": fields.Str(load_default="rain", metadata={"description": "The first word"}),
        "words": fields.Int(load_default=12, validate=validate.Range(1, 200),
                            metadata={"description": "How many words to write"}),
        "pause": fields.Float(load_default=0.05, validate=validate.Range(0, 5),
                              metadata={"description": "Seconds spent on each word"}),
    }


def predict(topic, words, pause):
    verse = itertools.chain([topic], itertools.cycle(_WORDS))
    for index, word in enumerate(itertools.islice(verse, words)):
        time.sleep(pause)  # the model's time per token
        yield {"index": index, "word": word}
