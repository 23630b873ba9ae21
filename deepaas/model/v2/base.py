"""DEEPaaS 2.x import path for :class:`deepaas.model.base.BaseModel`."""

from deepaas.model.base import BaseModel

__all__ = ["BaseModel"]
