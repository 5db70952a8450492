"""Harden the IPython kernel that nbgrader's autograde runs student notebooks in.

Loaded as an IPython extension by ``nbgrader_config.py`` (the Execute preprocessor
starts every grading kernel with ``--IPKernelApp.extensions=cnnlib.grading.kernel``),
so it acts before the first cell of a submission runs:

* **Memory cap.** ``RLIMIT_DATA`` (private writable memory) is set to
  ``CNNLIB_GRADING_MEMORY_MB`` megabytes (default 4096). A student function that
  allocates too much gets a ``MemoryError`` or a torch allocation error in its own
  cell instead of bringing the grading machine, and every other cell, down.
* **Warnings are not failures.** nbgrader gives zero to a test cell that prints
  anything on stderr, so a ``DeprecationWarning`` would zero a correct answer. The
  kernel's stderr stream is relabelled stdout: warnings, progress bars and C++ log
  lines stay visible in the feedback; only exceptions fail a cell.
* **Short tracebacks.** Exceptions are reported in IPython's "Minimal" mode: the
  exception type and the check's message, never source lines of the test cell,
  which would show hidden tests in the feedback.
* **One thread.** torch uses ``CNNLIB_GRADING_THREADS`` threads, else
  ``OMP_NUM_THREADS`` (set by ``cnnlib.grading.parallel``), else 1: the
  assignments' tensors are small, so threads only contend with each other and with
  other kernels grading in parallel.
* **Memory held by an error is released.** After a failed cell the last traceback is
  dropped, so the locals of a function that blew the memory cap do not stay alive
  and starve the cells that follow.
* **The grader is put back before every cell.** ``cnnlib.grading`` (and the
  reference ops it compares with) is imported before any student code, so nothing
  can be patched before the grader captures what it relies on. Before each cell,
  every ``check_*`` name of the notebook, every global of the grader's and the
  reference's modules, the code of their functions, the attributes of their
  classes and the IPython shell's methods are restored to what they were then.
  Rebinding ``check_conv2d = lambda *a, **k: None``, patching
  ``cnnlib.grading.runner`` or ``cnnlib.ops.conv2d``, or overriding
  ``get_ipython().showtraceback`` in one cell therefore has no effect on the next
  test cell. (Code running in the same process can always go deeper, e.g. with
  ctypes: this stops the easy tricks, not a determined attacker. Run untrusted
  submissions in a container.)

Students never need this module: their own kernels are ordinary ones.
"""

from __future__ import annotations

import gc
import os
import sys
import types

MEMORY_ENV = "CNNLIB_GRADING_MEMORY_MB"
DEFAULT_MEMORY_MB = 4096
THREADS_ENV = "CNNLIB_GRADING_THREADS"


def memory_cap_bytes() -> int:
    """The cap in bytes, from ``CNNLIB_GRADING_MEMORY_MB`` (default 4096 MB)."""
    return int(os.environ.get(MEMORY_ENV, DEFAULT_MEMORY_MB)) * 1024 * 1024


def cap_memory(limit: int) -> None:
    """Limit this process's private writable memory (heap and anonymous mmap)."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


def _forget_last_error(result=None) -> None:
    """After a failed cell, drop the last traceback and the frames and locals it holds.

    A traceback and its frames often form reference cycles, hence the collection;
    it costs a fraction of a second, so it runs after failed cells only.
    """
    if result is not None and result.success:
        return
    for name in ("last_type", "last_value", "last_traceback", "last_exc"):
        if hasattr(sys, name):
            setattr(sys, name, None)
    gc.collect()


GUARDED_PACKAGES = ("cnnlib.grading", "cnnlib.ops")
_MISSING = object()


class Snapshot:
    """The state of some modules, their functions and classes, and an object's methods.

    ``restore()`` puts back module globals (and removes added ones), function code,
    defaults and keyword defaults, class attributes, and the instance's own
    callable attributes, and drops instance attributes that shadow methods.
    """

    def __init__(self, packages: tuple[str, ...], instance: object = None):
        self.modules = {
            name: module
            for name, module in list(sys.modules.items())
            if module is not None
            and any(name == p or name.startswith(p + ".") for p in packages)
        }
        self.globals = {name: dict(vars(m)) for name, m in self.modules.items()}
        self.functions: list[tuple] = []
        self.classes: dict[type, dict] = {}
        for name, module in self.modules.items():
            for value in vars(module).values():
                if getattr(value, "__module__", None) != name:
                    continue
                if isinstance(value, types.FunctionType):
                    self._function(value)
                elif isinstance(value, type):
                    self._class(value)
        self.instance = instance
        if instance is not None:
            for cls in type(instance).__mro__[:-1]:
                self._class(cls)
            self.attributes = {k: v for k, v in vars(instance).items() if callable(v)}

    def _function(self, fn: types.FunctionType) -> None:
        self.functions.append((fn, fn.__code__, fn.__defaults__, fn.__kwdefaults__))

    def _class(self, cls: type) -> None:
        if cls in self.classes:
            return
        self.classes[cls] = dict(vars(cls))
        for value in vars(cls).values():
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if isinstance(value, types.FunctionType):
                self._function(value)

    def restore(self) -> None:
        for name, module in self.modules.items():
            sys.modules[name] = module
            current, saved = vars(module), self.globals[name]
            for key in [k for k in current if k not in saved]:
                del current[key]
            for key, value in saved.items():
                if current.get(key, _MISSING) is not value:
                    current[key] = value
        for fn, code, defaults, kwdefaults in self.functions:
            if fn.__code__ is not code:
                fn.__code__ = code
            if fn.__defaults__ is not defaults:
                fn.__defaults__ = defaults
            if fn.__kwdefaults__ is not kwdefaults:
                fn.__kwdefaults__ = kwdefaults
        for cls, saved in self.classes.items():
            current = vars(cls)
            for key in [k for k in current if k not in saved]:
                _try(delattr, cls, key)
            for key, value in saved.items():
                if current.get(key, _MISSING) is not value:
                    _try(setattr, cls, key, value)
        if self.instance is not None:
            own = vars(self.instance)
            for key in list(own):
                shadows = callable(getattr(type(self.instance), key, None))
                if key not in self.attributes and shadows:
                    del own[key]
            own.update(self.attributes)


def _try(action, *args) -> None:
    try:
        action(*args)
    except (AttributeError, TypeError):  # read-only slots such as __dict__
        pass


def guard_grader(ipython) -> Snapshot | None:
    """Import the grader now and restore it (and the check names) before each cell."""
    try:
        import cnnlib.grading as grading
    except Exception:  # a broken checkout: the notebook's own import will say why
        return None
    snapshot = Snapshot(GUARDED_PACKAGES, instance=ipython)
    checks = {n: getattr(grading, n) for n in grading.__all__ if n.startswith("check_")}

    def restore(*args) -> None:
        snapshot.restore()
        ns = ipython.user_ns
        for name, check in checks.items():
            if name in ns and ns[name] is not check:
                ns[name] = check

    ipython.events.register("pre_run_cell", restore)
    return snapshot


def load_ipython_extension(ipython) -> None:
    """Entry point called by IPython when the kernel starts."""
    cap_memory(memory_cap_bytes())
    # importing this module has imported torch already, so OMP_NUM_THREADS would be
    # read too late: set the thread count directly
    threads = os.environ.get(THREADS_ENV) or os.environ.get("OMP_NUM_THREADS") or "1"
    import torch

    torch.set_num_threads(max(1, int(threads)))
    # ipykernel's stderr OutStream (which also carries fd 2) sends its text under
    # this name; nbgrader treats a "stderr" stream in a test cell as a failure.
    if getattr(sys.stderr, "name", None) == "stderr":
        sys.stderr.name = "stdout"
    ipython.InteractiveTB.set_mode(mode="Minimal")
    ipython.events.register("post_run_cell", _forget_last_error)
    guard_grader(ipython)
