"""Stage 3: rewrite a function (and the helpers it calls, inlined) into A-normal form.

Each statement of the result applies one primitive. Sub-expressions that do not depend
on the differentiated arguments ("inactive") stay as the user wrote them; every active
value gets a name derived from the user's variable or from the operation (``mul``,
``exp``), and a name assigned twice is renamed (``x_1``) so each is assigned once.

One module per part: ``primitives`` (what is known by syntax), ``analysis`` (facts about
user code), ``core`` (the normalizer), ``statements``, ``control``, ``expressions`` and
``inlining`` (its parts).
"""

from __future__ import annotations

from typing import Any

from ..ir import Program
from ..optimize import share_common_subexpressions
from ..parse import ParsedFunction
from ..rules.registry import NAMES_FOR_GENERATED_CODE
from ..trees import gc_paused
from .core import Normalizer
from .primitives import APPEND, COPY, LIST_ITEM, RESULT

__all__ = [
    "APPEND",
    "COPY",
    "LIST_ITEM",
    "NAMES_FOR_GENERATED_CODE",
    "RESULT",
    "Normalizer",
    "normalize",
]


@gc_paused
def normalize(
    parsed: ParsedFunction,
    wrt: list[str],
    bound_self: Any = None,
    varargs: int | None = None,
    kinds: dict[str, type] | None = None,
) -> Program:
    """The A-normal form of ``parsed``, with ``wrt`` parameters as the active inputs
    (``varargs``: specialized for a call that passes that many arguments to ``*args``;
    ``kinds``: for arguments of these classes, whose methods it calls)."""
    return share_common_subexpressions(Normalizer(parsed, wrt, bound_self, varargs, kinds).run())
