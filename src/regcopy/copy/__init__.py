"""The copy engine: moving images between registries."""

from regcopy.copy.blobs import BlobLocations
from regcopy.copy.image import CopyContext, copy_image
from regcopy.copy.models import CopyOptions, CopyResult, CopyStats

__all__ = ["BlobLocations", "CopyContext", "CopyOptions", "CopyResult", "CopyStats", "copy_image"]
