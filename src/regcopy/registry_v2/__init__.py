"""The wire layer: an async OCI Distribution v2 client per registry host."""

from regcopy.registry_v2.client import RegistryClient, UploadSession
from regcopy.registry_v2.credentials import Credentials
from regcopy.registry_v2.manifest import Descriptor, Manifest, Platform
from regcopy.registry_v2.pool import RegistryPool
from regcopy.registry_v2.transport import TransportOptions

__all__ = [
    "Credentials",
    "Descriptor",
    "Manifest",
    "Platform",
    "RegistryClient",
    "RegistryPool",
    "TransportOptions",
    "UploadSession",
]
