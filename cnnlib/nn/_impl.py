"""Switchable implementations: one layer, three ways to compute its forward pass.

Every compute layer in ``cnnlib.nn`` (``Conv2d``, ``MaxPool2d``, ``BatchNorm2d``, ...)
holds its parameters exactly like its ``torch.nn`` twin, but the function that does
the arithmetic is chosen at call time:

* ``impl="scratch"`` (the default): the from-scratch op in ``cnnlib.ops``, whose
  forward and backward you can read;
* ``impl="native"``: torch's own kernel from ``torch.nn.functional`` (fast, cuDNN or
  oneDNN underneath);
* any callable with the op's signature, e.g. your own ``conv2d``.

Two helpers switch many layers at once:

* ``use_impl("native")``: a context manager that overrides the choice of *every*
  cnnlib layer called inside the ``with`` block, callables included. It is built on
  a ``contextvars.ContextVar``, so blocks nest (the innermost wins) and each thread
  (or asyncio task) sees only its own blocks.
* ``set_impl(model, impl)``: permanently sets ``layer.impl`` on the layers of a model.

Example:
    >>> import torch
    >>> from cnnlib import nn
    >>> conv = nn.Conv2d(1, 2, 3)
    >>> conv.active_impl
    'scratch'
    >>> with nn.use_impl("native"):
    ...     conv.active_impl
    'native'
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

import torch

#: The impl names a layer accepts besides a callable.
IMPLS: tuple[str, ...] = ("scratch", "native")

#: A layer's setting: one of ``IMPLS`` or a function with the op's signature.
Impl = str | Callable[..., torch.Tensor]

# The override set by ``use_impl``; None means "each layer uses its own setting".
# A ContextVar (not a module global) keeps threads and nested blocks independent.
_OVERRIDE: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "cnnlib_nn_impl_override", default=None
)


def _check_impl_name(impl: object, where: str) -> str:
    """Return ``impl`` if it is one of ``IMPLS``, else raise a clear error."""
    if isinstance(impl, str) and impl in IMPLS:
        return impl
    choices = ", ".join(repr(name) for name in IMPLS)
    raise ValueError(f"{where}: impl must be one of {choices}, got {impl!r}")


@contextlib.contextmanager
def use_impl(impl: str) -> Iterator[None]:
    """Make every cnnlib layer called inside the block use ``impl``.

    The override wins over each layer's own ``impl``, including a callable set with
    ``Conv2d(..., impl=my_conv2d)``: inside ``use_impl("native")`` that layer runs
    torch's kernel. Blocks nest (the innermost wins) and are local to the current
    thread or asyncio task. Also usable as a decorator.

    Args:
        impl: "scratch" (the ``cnnlib.ops`` functions) or "native"
            (``torch.nn.functional``). A callable is refused here because one
            function cannot serve every layer type; give it to the layer itself or
            to ``set_impl(model, fn, only=Conv2d)``.

    Example:
        >>> import torch
        >>> from cnnlib import nn
        >>> model = nn.Sequential(nn.Linear(4, 2), nn.ReLU())
        >>> with nn.use_impl("native"):
        ...     y = model(torch.zeros(3, 4))
        >>> y.shape
        torch.Size([3, 2])
    """
    if callable(impl):
        raise TypeError(
            "use_impl: impl must be 'scratch' or 'native'; a callable fits only one "
            "layer type, so pass it to the layer (impl=fn) or to "
            "set_impl(model, fn, only=LayerType)"
        )
    token = _OVERRIDE.set(_check_impl_name(impl, "use_impl"))
    try:
        yield
    finally:
        _OVERRIDE.reset(token)


def set_impl(
    model: torch.nn.Module,
    impl: Impl,
    *,
    only: type | tuple[type, ...] | None = None,
) -> torch.nn.Module:
    """Set ``impl`` on every cnnlib layer in ``model`` (the model itself included).

    Unlike ``use_impl`` this changes the layers for good (until set again). Layers
    without a choice to make (``Flatten``, or plain ``torch.nn`` modules) are left
    alone.

    Args:
        model: any module; its submodules are visited recursively.
        impl: "scratch", "native", or a callable with the op signature of the layers
            selected by ``only``.
        only: restrict the change to these layer classes, e.g. ``only=nn.Conv2d``.
            Required with a callable, since a conv2d function cannot run a ReLU.

    Returns:
        The same ``model``, changed in place, so calls can be chained.

    Example:
        >>> from cnnlib import nn
        >>> model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU())
        >>> _ = nn.set_impl(model, "native")
        >>> model[0].impl, model[1].impl
        ('native', 'native')
    """
    if callable(impl) and only is None:
        raise TypeError(
            "set_impl: a callable impl fits one layer type; say which with "
            "only=LayerType (e.g. only=nn.Conv2d)"
        )
    if not callable(impl):
        _check_impl_name(impl, "set_impl")
    for module in model.modules():
        if not isinstance(module, SwitchableLayer):
            continue
        if only is not None and not isinstance(module, only):
            continue
        module.impl = impl
    return model


class SwitchableLayer(torch.nn.Module):
    """Base class of the layers whose forward pass can run scratch, native or custom.

    A subclass names its two functions as class attributes and calls
    ``self.function`` in ``forward``::

        class ReLU(SwitchableLayer):
            scratch_fn = staticmethod(cnnlib.ops.relu)
            native_fn = staticmethod(torch.nn.functional.relu)

            def forward(self, input):
                return self.function(input, self.inplace)

    Args:
        impl: "scratch" (default), "native", or a callable with the op's signature.
    """

    scratch_fn: Callable[..., torch.Tensor]
    native_fn: Callable[..., torch.Tensor]

    def __init__(self, impl: Impl = "scratch") -> None:
        super().__init__()
        self.impl = impl

    @property
    def impl(self) -> Impl:
        """This layer's own setting (``use_impl`` may override it at call time)."""
        return self._impl

    @impl.setter
    def impl(self, value: Impl) -> None:
        if not callable(value):
            _check_impl_name(value, type(self).__name__)
        self._impl = value

    @property
    def active_impl(self) -> Impl:
        """The setting a call would use right now: the ``use_impl`` one, if any."""
        override = _OVERRIDE.get()
        return self._impl if override is None else override

    @property
    def function(self) -> Callable[..., torch.Tensor]:
        """The function a call would run right now."""
        impl = self.active_impl
        if impl == "scratch":
            return self.scratch_fn
        if impl == "native":
            return self.native_fn
        return impl

    def settings_repr(self) -> str:
        """The layer's own settings for ``repr``; subclasses override this."""
        return ""

    def extra_repr(self) -> str:
        # Show impl only when it departs from the default, so printed models stay
        # identical to torch.nn's unless something is switched.
        parts = [self.settings_repr()]
        if not (isinstance(self._impl, str) and self._impl == "scratch"):
            name = getattr(self._impl, "__name__", None)
            parts.append(f"impl={self._impl!r}" if name is None else f"impl={name}")
        return ", ".join(part for part in parts if part)


def check_input(
    layer: torch.nn.Module,
    input: object,
    ranks: tuple[int, ...] | None,
    layout: str,
    *,
    min_rank: int = 0,
    dim: int | None = None,
    size: int | None = None,
    setting: str = "",
) -> torch.Tensor:
    """Check a layer's input before any kernel sees it, with an error naming the layer.

    Args:
        layer: the layer, for its class name in the message.
        input: what ``forward`` received.
        ranks: the accepted numbers of dimensions, e.g. ``(3, 4)``; None for any.
        layout: the expected shape in words, e.g. "(N, C_in, H, W) or (C_in, H, W)".
        min_rank: the least number of dimensions, when ``ranks`` is None.
        dim, size, setting: optionally, ``input.shape[dim]`` must equal ``size``,
            the value of the constructor argument named ``setting``.
    """
    name = type(layer).__name__
    if not isinstance(input, torch.Tensor):
        raise TypeError(
            f"{name}: input must be a torch.Tensor, got {type(input).__name__}"
        )
    rank_ok = input.dim() >= min_rank if ranks is None else input.dim() in ranks
    if not rank_ok:
        raise ValueError(
            f"{name}: expected input of shape {layout}, got shape {tuple(input.shape)}"
        )
    if dim is not None and input.shape[dim] != size:
        raise ValueError(
            f"{name}: input has size {input.shape[dim]} in dimension "
            f"{dim % input.dim()} but "
            f"{setting}={size} (input shape {tuple(input.shape)}, expected {layout})"
        )
    return input
