"""Mirrors the interface of deephdc/mods (mods/models/api_v2.py, mods_types.py, config.py).

What it keeps: a custom ``fields.Field`` turning ``<YYYY-MM-DD,YYYY-MM-DD)`` into a ``TimeRange``
object (its string default is not deserialised); a ``fields.List`` of that field class with an
empty-string default; bound Schema fields (``unknown=INCLUDE``); ``enum`` lists from configuration;
multi-line descriptions; ``warm()``; predict loading its kwargs through the *training* schema (as
the real module does) and answering numpy predictions as lists; train answering a dict.
"""

import datetime

import numpy as np
from marshmallow import INCLUDE, Schema, ValidationError
from webargs import fields

WINDOW_SLIDES = ["w01h-s10m", "w10m-s01m"]
MODEL_TYPES = ["MLP", "Conv1D", "LSTM", "GRU", "attentionLSTM", "TCN"]
QUERY = "conn|in_count_uid~conn_in|out_count_uid~conn_out;ssh|in~ssh_in#window_start,window_end"
WARMED = {"done": False}


class TimeRange:
    def __init__(self, beg, end, lclosed, rclosed):
        self.beg, self.end, self.lclosed, self.rclosed = beg, end, lclosed, rclosed

    @classmethod
    def from_str(cls, value):
        if isinstance(value, TimeRange):
            return value
        text = value.strip()
        beg, end = (datetime.date.fromisoformat(d.strip()) for d in text[1:-1].split(",", 1))
        return cls(beg, end, text.startswith("<"), text.endswith(">"))

    def __str__(self):
        return "%s%s,%s%s" % ("<" if self.lclosed else "(", self.beg, self.end,
                              ">" if self.rclosed else ")")

    __repr__ = __str__


class TimeRangeField(fields.Field):
    def _serialize(self, value, attr, obj, **kwargs):
        return str(value)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return TimeRange.from_str(value)
        except (AttributeError, ValueError) as exc:
            raise ValidationError("Not a time range: %s" % exc) from exc


class TrainArgsSchema(Schema):
    class Meta:
        unknown = INCLUDE

    model_name = fields.Str(required=False, missing="model-default",
                            description="Name of the model; saved as <model_name>.zip")
    data_select_query = fields.Str(required=False, missing=QUERY, description="""
            Query selecting data from the datapool.
            format: p1;p2|p2c1|col~p2c2_renamed|...;...#c5,c6,...""")
    train_time_range = TimeRangeField(required=False, missing="<2019-04-15,2019-05-01)",
                                      description="Time range to train on.")
    train_time_ranges_excluded = fields.List(TimeRangeField, required=False, missing="",
                                             description="Time ranges to skip.")
    window_slide = fields.Str(required=False, missing=WINDOW_SLIDES[0], enum=WINDOW_SLIDES,
                              description="Window length and slide duration")
    sequence_len = fields.Integer(required=False, missing=12, description="Sequence length")
    model_delta = fields.Boolean(required=False, missing=True, enum=[True, False],
                                 description="Differential approach")
    model_type = fields.Str(required=False, missing="attentionLSTM", enum=MODEL_TYPES,
                            description="Type of the model")
    num_epochs = fields.Integer(required=False, missing=20, description="Training epochs")
    steps_ahead = fields.Integer(required=False, missing=1, description="Steps to predict")


class PredictArgsSchema(Schema):
    class Meta:
        unknown = INCLUDE

    model_name = fields.Str(required=False, missing="model-default",
                            enum=["model-default.zip", "model-lstm.zip"],
                            description="Model used for prediction")
    data_select_query = fields.Str(required=False, missing=QUERY, description="Data query")
    time_range = TimeRangeField(required=False, missing="<2019-05-01,2019-05-06)",
                                description="Time range to predict.")
    time_ranges_excluded = fields.List(TimeRangeField, required=False, missing="",
                                       description="Time ranges to skip.")
    batch_size = fields.Integer(required=False, missing=1, description="Batch size")


def get_metadata():
    return {"author": "", "author-email": "giang@example.org, stefan@example.org",
            "description": "Monitoring and forecasting of network traffic", "license": "",
            "url": "https://github.com/deephdc/mods", "version": "0.1"}


def warm():
    WARMED["done"] = True


def get_train_args(**kwargs):
    return TrainArgsSchema().fields


def get_predict_args():
    return PredictArgsSchema().fields


def _load(kwargs):  # an empty string stands for "no excluded ranges" (the default)
    return TrainArgsSchema().load({k: v for k, v in kwargs.items() if v != ""})


def predict(**kwargs):
    args = _load(kwargs)
    span = TimeRange.from_str(args["time_range"])
    days = (span.end - span.beg).days
    values = np.arange(days * args["batch_size"], dtype=np.float64).reshape(-1, 1) / 10
    return {"status": "ok", "model_name": args["model_name"], "warmed": WARMED["done"],
            "data_select_query": args["data_select_query"], "time_range": str(span),
            "time_ranges_excluded": str(args.get("time_ranges_excluded", [])),
            "batch_size": args["batch_size"], "predictions": values.tolist()}


def train(**kwargs):
    args = _load(kwargs)
    return {"status": "ok", "model_name": args["model_name"],
            "window_slide": args["window_slide"], "steps_ahead": args["steps_ahead"],
            "train_time_range": str(args["train_time_range"]),
            "train_time_ranges_excluded": str(args.get("train_time_ranges_excluded", [])),
            "evaluation": {"SMAPE": 1.5, "R2": 0.75}}
