"""Fixture modules mirroring the interfaces of public DEEPaaS modules; see README.md here."""
