"""The rule of ``cnnlib.ops``: ops are built from tensor primitives, not torch kernels.

Where the line is drawn, and why: an op in ``cnnlib.ops`` is course material, so the
arithmetic that the lesson is about must be visible in it. It may use

* elementwise math (``torch.exp``, ``log``, ``tanh`` as a math function, ``clamp``,
  ``where``, ``maximum``, ...), reductions (``sum``, ``amax``, ``var_mean``, ...),
* linear algebra (``matmul``, ``einsum``, ``tensordot``, ``bmm``, ``addmm``),
* indexing, ``gather``/``scatter``, ``as_strided``, and the data-movement helpers
  ``torch.nn.functional.pad``, ``unfold`` and ``fold``,

because those are the vocabulary the lessons are written in. It may not call a
ready-made kernel that *is* one of the lessons:

* anything else in ``torch.nn.functional`` (conv, pool, norm, loss, activations,
  ``one_hot``, ...), any other ``torch.nn`` object (modules, ``torch.nn.grad``);
* torch's top-level kernels: ``torch.conv*``/``convolution``, anything with
  ``pool`` in its name, ``batch_norm``/``layer_norm``/``group_norm``/
  ``instance_norm``, dropout variants, losses (``*_loss``, ``*cross_entropy*``,
  ``kl_div``), and the activation kernels ``softmax``, ``log_softmax``, ``sigmoid``,
  ``relu`` and their relatives, under ``torch.`` or ``torch.special.``;
* the same activation kernels as Tensor methods (``x.softmax(1)``, ``x.relu()``);
* the back doors ``torch._C``, ``torch._VF`` and ``torch.ops``.

The checker reads the source with ``ast`` and resolves import aliases
(``import torch.nn.functional as F``, ``from torch.nn import functional``,
``from torch.nn.functional import conv2d as c``), so renaming does not hide a call.
A reference without a call (``fn = torch.relu``) counts too. It cannot see names
built at run time (``getattr(torch, "re" + "lu")``); the grading guard, which
watches calls while code runs, covers that side.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

OPS_DIR = Path(__file__).resolve().parents[1] / "cnnlib" / "ops"

# torch.nn.functional helpers that only move data around (padding, patch extraction).
ALLOWED_FUNCTIONAL = {"pad", "unfold", "fold"}

# Last component of a forbidden torch.* or torch.special.* name.
FORBIDDEN_KERNEL = re.compile(
    r"""^(
        conv.* | convolution | cudnn_.* | mkldnn_.* | miopen_.*
      | .*pool.*
      | .*batch_norm.* | .*layer_norm.* | .*group_norm.* | .*instance_norm.*
      | .*dropout.*
      | .*_loss | .*cross_entropy.* | kl_div | nll_loss.*
      | softmax | log_softmax | _softmax | _log_softmax | .*softmax_backward.*
      | sigmoid_? | expit | logsigmoid | relu_? | relu6 | leaky_relu_? | rrelu_?
      | elu_? | selu_? | celu_? | prelu | gelu | silu | mish | hardtanh_?
      | hardsigmoid | hardswish | softplus | threshold_? | glu
      | linear | bilinear | embedding.* | local_response_norm
    )$""",
    re.VERBOSE,
)

# Tensor methods that are activation kernels, called on any tensor: x.relu().
FORBIDDEN_METHODS = {
    "softmax",
    "log_softmax",
    "sigmoid",
    "sigmoid_",
    "relu",
    "relu_",
    "prelu",
    "hardshrink",
}


def qualified_name(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """``F.conv2d`` -> ``torch.nn.functional.conv2d`` given ``F``'s import."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in aliases:
        return None
    return ".".join([aliases[node.id], *reversed(parts)])


def is_forbidden(name: str) -> bool:
    """Whether a fully qualified name is a torch kernel that ops may not use."""
    if name != "torch" and not name.startswith("torch."):
        return False
    parts = name.split(".")
    if parts[1:2] in (["_C"], ["_VF"], ["ops"]):
        return True
    if parts[1:2] == ["nn"]:
        if parts[1:3] == ["nn", "functional"] and len(parts) == 4:
            return parts[3] not in ALLOWED_FUNCTIONAL
        # ``torch.nn`` or ``torch.nn.functional`` alone is only a module name;
        # anything reached through it (modules, torch.nn.grad, init) is not allowed.
        return len(parts) > 3 or (len(parts) == 3 and parts[2] != "functional")
    return bool(FORBIDDEN_KERNEL.match(parts[-1]))


def import_aliases(tree: ast.Module) -> dict[str, str]:
    """Map every name bound by an import to the dotted path it stands for."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:  # ``import torch.nn.functional`` binds ``torch``
                    root = alias.name.split(".")[0]
                    aliases[root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def forbidden_uses(source: str) -> list[str]:
    """Return ``"line N: name"`` for every forbidden kernel that ``source`` uses."""
    tree = ast.parse(source)
    aliases = import_aliases(tree)
    # ``torch.nn.functional.relu`` contains ``torch.nn.functional`` and ``torch.nn``;
    # judge only the outermost name of each chain.
    inner = {
        id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)
    }
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                # A star import from torch would hide which kernels it brings in.
                star = alias.name == "*" and node.module.split(".")[0] == "torch"
                if star or is_forbidden(name):
                    found.add((node.lineno, name))
        elif isinstance(node, (ast.Name, ast.Attribute)) and id(node) not in inner:
            name = qualified_name(node, aliases)
            if name is not None and is_forbidden(name):
                found.add((node.lineno, name))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            # A method on something that is not an imported module: a tensor.
            unresolved = qualified_name(node.func.value, aliases) is None
            if unresolved and node.func.attr in FORBIDDEN_METHODS:
                found.add((node.lineno, f"Tensor.{node.func.attr}()"))
    return [f"line {line}: {name}" for line, name in sorted(found)]


def ops_files() -> list[Path]:
    return sorted(OPS_DIR.glob("*.py"))


def test_ops_directory_is_found():
    names = {path.name for path in ops_files()}
    assert {"conv.py", "activation.py", "loss.py", "norm.py"} <= names


@pytest.mark.parametrize("path", ops_files(), ids=lambda path: path.name)
def test_ops_use_no_torch_kernels(path):
    uses = forbidden_uses(path.read_text())
    assert not uses, (
        f"cnnlib/ops/{path.name} calls torch kernels that ops must write from "
        f"primitives (see tests/test_ops_rules.py): {uses}"
    )


# --- The checker itself ------------------------------------------------------------

FORBIDDEN_SNIPPETS = {
    "functional via alias": """
        import torch.nn.functional as F
        y = F.conv2d(x, w)
    """,
    "functional module imported from torch.nn": """
        from torch.nn import functional
        y = functional.max_pool2d(x, 2)
    """,
    "functional module renamed": """
        from torch.nn import functional as Fn
        y = Fn.softmax(x, dim=1)
    """,
    "kernel imported under another name": """
        from torch.nn.functional import conv2d as c
        y = c(x, w)
    """,
    "fully qualified functional": """
        import torch
        y = torch.nn.functional.cross_entropy(x, t)
    """,
    "torch renamed": """
        import torch as th
        y = th.batch_norm(x, None, None, None, None, True, 0.1, 1e-5, False)
    """,
    "top-level conv": """
        import torch
        y = torch.conv2d(x, w)
    """,
    "top-level pooling": """
        import torch
        y = torch.max_pool2d(x, 2)
    """,
    "top-level dropout": """
        import torch
        y = torch.dropout(x, 0.5, True)
    """,
    "top-level activation": """
        import torch
        y = torch.sigmoid(x)
    """,
    "activation imported from torch": """
        from torch import log_softmax
        y = log_softmax(x, 1)
    """,
    "special expit": """
        import torch
        y = torch.special.expit(x)
    """,
    "tensor method softmax": """
        y = x.softmax(dim=1)
    """,
    "tensor method relu on an expression": """
        y = (x + 1).relu()
    """,
    "module": """
        import torch
        layer = torch.nn.Conv2d(3, 8, 3)
    """,
    "module class from torch.nn": """
        from torch import nn
        y = nn.ReLU()(x)
    """,
    "torch.nn.grad": """
        import torch
        g = torch.nn.grad.conv2d_input(shape, w, g)
    """,
    "back door": """
        import torch
        y = torch._C._nn.linear(x, w)
    """,
    "star import": """
        from torch.nn.functional import *
        y = relu(x)
    """,
    "reference without a call": """
        import torch
        activation = torch.relu
    """,
}

CLEAN_SNIPPET = """
    import torch
    import torch.nn.functional as F
    from torch.nn.functional import pad as zero_pad
    from cnnlib.ops import relu as scratch_relu

    def op(x, w):
        cols = F.unfold(x, 3)
        y = torch.einsum("ncl,ok->nol", cols, w).tanh()
        y = torch.tanh(y) + torch.exp(-y).clamp(min=0) + torch.where(y > 0, y, 0)
        y = F.fold(zero_pad(y, (1, 1)), (4, 4), 3) + torch.addmm(b, a, c)
        y = y.unfold(1, 2, 1).sum(-1).amax(dim=1) + x.as_strided((2,), (1,))
        return scratch_relu(y.scatter(1, i, 1.0).gather(1, i)), torch.maximum(y, y)
"""


@pytest.mark.parametrize(
    "snippet", FORBIDDEN_SNIPPETS.values(), ids=list(FORBIDDEN_SNIPPETS)
)
def test_checker_flags_forbidden_use(snippet):
    assert forbidden_uses(textwrap.dedent(snippet))


def test_checker_passes_primitives():
    assert forbidden_uses(textwrap.dedent(CLEAN_SNIPPET)) == []


def test_checker_reports_line_and_resolved_name():
    source = "import torch.nn.functional as F\n\n\ny = F.avg_pool2d(x, 2)\n"
    assert forbidden_uses(source) == ["line 4: torch.nn.functional.avg_pool2d"]
