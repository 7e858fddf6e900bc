"""The copy engine: moving images between registries."""

from regcopy.copy.blobcache import BlobCache, BlobLocations
from regcopy.copy.context import CopyContext
from regcopy.copy.image import copy_image
from regcopy.copy.models import CopyOptions, CopyResult, CopyStats

__all__ = ["BlobCache", "BlobLocations", "CopyContext", "CopyOptions", "CopyResult", "CopyStats", "copy_image"]
