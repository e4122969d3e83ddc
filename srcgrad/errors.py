"""Every refusal srcgrad makes: one base class, a subclass per reason.

Each error points at the user's source (``file:line``), quotes the line and says
what to do instead, so the user can fix their code without reading srcgrad's.
"""

from __future__ import annotations


class SrcGradError(Exception):
    """Base class: srcgrad cannot (or will not) differentiate this code."""

    def __init__(
        self,
        message: str,
        filename: str | None = None,
        lineno: int | None = None,
        line: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.filename = filename
        self.lineno = lineno
        self.line = line
        self.hint = hint
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.filename is not None:
            where = f"{self.filename}:{self.lineno}: " if self.lineno else f"{self.filename}: "
        text = where + self.message
        if self.line:
            text += "\n    " + self.line.strip()
        if self.hint:
            text += "\n" + self.hint
        return text


class SourceUnavailableError(SrcGradError):
    """The function's source cannot be read (defined by exec, in a REPL, a builtin)."""


class UnsupportedSyntaxError(SrcGradError):
    """A statement or expression srcgrad does not differentiate."""


class NeedsTypesError(UnsupportedSyntaxError):
    """A method of an argument is called (``model.loss(x)``): which one depends on the
    argument's type, known when the gradient is called (it is then generated per type)."""


class NoRuleError(SrcGradError):
    """A call on a differentiated value to a function with no derivative rule."""


class RuleError(SrcGradError):
    """A derivative rule (``@srcgrad.adjoint``, ``@srcgrad.tangent``) that srcgrad cannot use."""


class NonScalarOutputError(SrcGradError):
    """``grad`` of a function whose output is not a scalar."""


class UnsupportedValueError(SrcGradError, NotImplementedError):
    """An argument srcgrad sees only when the gradient runs (an ``ord``, a ``mode``, a complex
    dtype) and does not differentiate; named at the line of your code that passed it."""


class WrtError(SrcGradError):
    """``wrt`` names no parameter of the function."""


class JitError(SrcGradError):
    """``jit=True``: numba cannot compile the generated code (or is not installed)."""
