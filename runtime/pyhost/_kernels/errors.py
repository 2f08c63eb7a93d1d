"""Errors raised when a kernel is rejected, mistyped, or fails while it runs."""

__all__ = ["KernelError", "KernelSyntaxError", "KernelTypeError", "KernelLaunchError"]


class KernelError(Exception):
    """A kernel could not be translated, compiled or launched.

    ``filename``, ``lineno`` and ``source_line`` locate the offending Python line (when there is
    one) and ``construct`` names the unsupported construct.
    """

    def __init__(self, message, *, filename=None, lineno=None, source_line=None, construct=None,
                 kernel=None):
        self.message = message
        self.filename = filename
        self.lineno = lineno
        self.source_line = source_line
        self.construct = construct
        self.kernel = kernel
        super().__init__(self._format())

    def _format(self):
        text = self.message
        if self.filename is not None and self.lineno is not None:
            text = f"{self.filename}:{self.lineno}: {text}"
        if self.source_line:
            text += f"\n    {self.source_line.strip()}"
        return text

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self.filename, self.lineno, self.source_line,
                           self.construct, self.kernel))


def _rebuild(cls, message, filename, lineno, source_line, construct, kernel):
    return cls(message, filename=filename, lineno=lineno, source_line=source_line,
               construct=construct, kernel=kernel)


class KernelSyntaxError(KernelError):
    """The function uses a construct that kernels do not support (try, lambda, lists, ...)."""


class KernelTypeError(KernelError):
    """Types do not fit: a float array index, a missing annotation, mixed array and number..."""


class KernelLaunchError(KernelError):
    """A launch was refused (wrong arguments, dimensions) or the device failed."""
