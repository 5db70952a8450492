"""cnnlib: the layers and networks of the CNN course, written from scratch.

``cnnlib.ops`` holds the functional ops (same names and signatures as
``torch.nn.functional``), each a readable forward/backward pair; ``cnnlib.nn`` the
layers built on them, switchable to torch's native kernels; ``cnnlib.models`` the
architectures of the book.
"""

from cnnlib.device import best_device, device_info, make_generator, seed_everything
from cnnlib.summary import summary

__version__ = "0.1.0"
__all__ = [
    "best_device",
    "device_info",
    "make_generator",
    "seed_everything",
    "summary",
    "__version__",
]
