"""Import paths of DEEPaaS 2.x (``deepaas.model.v2.base``, ``deepaas.model.v2.wrapper``)."""
