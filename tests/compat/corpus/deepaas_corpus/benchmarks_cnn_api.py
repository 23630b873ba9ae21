"""Mirrors the interface of deephdc/benchmarks_cnn_api (benchmarks_cnn_api/models/deep_api.py and
benchmarks_cnn_api/config.py).

What it keeps: Schema classes (``unknown=INCLUDE``) whose bound fields are re-sorted by name into an
``OrderedDict``; the training arguments mix those bound fields with an unbound ``fields.Int`` put in
place of ``num_gpus`` (the machine has no GPU); choices as ``enum`` only (long strings with
brackets, booleans); a ``Float`` epochs count; predict takes a form file ``files`` sent as ``data``
(``data_key``) or a ``fields.Url`` and answers an ``{"Error": ...}`` dict, wrapped by a decorator
without ``functools.wraps`` (the reference cannot pickle it: a text 500 for every prediction);
train loads its keyword arguments again through the schema and answers a nested results dict;
metadata with capitalised keys.
"""

from collections import OrderedDict

from aiohttp.web import HTTPBadRequest
from marshmallow import INCLUDE, Schema
from webargs import fields

MODELS = ["googlenet (ImageNet)", "resnet50 (ImageNet)", "vgg16 (ImageNet)",
          "resnet56 (Cifar10)", "alexnet (ImageNet, Cifar10)"]


class TrainArgsSchema(Schema):
    class Meta:
        unknown = INCLUDE

    model = fields.Str(missing="resnet50 (ImageNet)", enum=MODELS, required=False,
                       description="CNN model; the data sets it supports are in brackets.")
    num_gpus = fields.Integer(missing=1, required=False, description="GPUs to train on.")
    num_epochs = fields.Float(missing=1.0, required=False,
                              description="Epochs to train on (below 1.0 allowed).")
    optimizer = fields.Str(missing="sgd", enum=["sgd", "momentum", "rmsprop", "adam"],
                           required=False, description="Optimizer to use.")
    dataset = fields.Str(missing="Synthetic data",
                         enum=["Synthetic data", "imagenet", "imagenet_mini", "cifar10"],
                         required=False, description="Dataset to train on.")
    batch_size_per_device = fields.Integer(missing=64, required=False,
                                           description="Batch size for each GPU.")
    evaluation = fields.Boolean(missing=True, enum=[False, True], required=False,
                                description="Evaluate after the benchmark.")


class PredictArgsSchema(Schema):
    class Meta:
        unknown = INCLUDE

    files = fields.Field(required=False, missing=None, type="file", data_key="data",
                         location="form", description="Select the image you want to classify.")
    urls = fields.Url(required=False, missing=None, description="URL of the image.")


def _catch_error(func):
    def call(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            raise HTTPBadRequest(reason=exc) from exc
    return call


def get_metadata():
    return {"Name": "benchmarks_cnn_api", "Version": "0.1.0", "Summary": "TF CNN benchmarks",
            "Home-page": "https://github.com/deephdc/benchmarks_cnn_api", "Author": "V. K.",
            "Author-email": None, "License": "Apache 2.0"}


def get_train_args():
    declared = TrainArgsSchema().fields
    declared["num_gpus"] = fields.Int(missing=0, required=False,
                                      description="GPUs to train on; zero means the CPU.")
    return OrderedDict(sorted(declared.items(), key=lambda item: item[0]))


def get_predict_args():
    return OrderedDict(sorted(PredictArgsSchema().fields.items(), key=lambda item: item[0]))


@_catch_error
def predict(**kwargs):
    if not any([kwargs["urls"], kwargs["files"]]) or all([kwargs["urls"], kwargs["files"]]):
        raise Exception("You must provide either 'url' or 'data' in the payload")
    return {"Error": "Not implemented (%s)" % ("predict_file()" if kwargs["files"]
                                               else "predict_url()")}


def train(**train_kwargs):
    args = TrainArgsSchema().load(train_kwargs)
    device = "cpu" if args["num_gpus"] == 0 else "gpu"
    return {"status": "ok", "user_args": args, "machine_config": {"cpu_info": "x86_64"},
            "training": {"model": args["model"].split(" ")[0], "device": device,
                         "num_epochs": args["num_epochs"],
                         "batch_size": args["batch_size_per_device"],
                         "result": {"average_examples_per_sec": 12.5}},
            "evaluation": {"device": device} if args["evaluation"] else {}}
