"""The wire protocol, pure: envelope codec and typed messages per domain (no sockets, no models)."""

from atelico.protocol.envelope import Message, decode, encode

__all__ = ["Message", "decode", "encode"]
