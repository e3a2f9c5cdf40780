"""What a visitor can be told: errors and notes with a code and the numbers a translation needs.

``str()`` of each is the English sentence the library has always given (the CLI, logs and tests
read it). The app words the same thing in the visitor's language from ``code`` and ``params``
(``app/errors.py`` looks up ``errors.<code>`` in its catalogs), so ``core`` never needs to know
the language. A param that has a code itself (the class a problem is about, the error behind a
skipped file) is worded the same way.
"""

from __future__ import annotations

from collections.abc import Callable


class CodedError(Exception):
    """Base of the errors a visitor can meet: an English message, a ``code`` such as
    ``"image.too_large"`` and ``params`` such as ``{"name": "cat.jpg", "limit_mb": 10}``."""

    def __init__(self, message: str, *, code: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.code, self.params = code, params

    def renamed(self, change: Callable[[str], str]) -> CodedError:
        """The same error, ``change`` applied to its message and text params (a temporary path -> a file name)."""
        params = {k: change(v) if type(v) is str else v for k, v in self.params.items()}
        return type(self)(change(str(self)), code=self.code, **params)


class InputError(CodedError, ValueError):
    """Settings or data that cannot work together (n_way above the classes a split has, say)."""


class MissingError(CodedError, FileNotFoundError):
    """A folder or file that is not there."""


class Message(str):
    """A sentence for a visitor that is not an error (a note about an upload, a problem to fix first):
    an ordinary ``str`` holding the English, with ``code`` and ``params`` like ``CodedError``."""

    code: str | None
    params: dict[str, object]

    def __new__(cls, text: str, *, code: str | None = None, **params: object) -> Message:
        message = super().__new__(cls, text)
        message.code, message.params = code, params
        return message
