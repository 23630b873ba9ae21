"""DEEPaaS 2.x import path for the file records modules receive and return."""

from deepaas.model.wrapper import ModelWrapper, ReturnedFile, UploadedFile

__all__ = ["ModelWrapper", "ReturnedFile", "UploadedFile"]
