"""The one error tree of personacast.

Every error says what was wrong and what to do about it, in one line, so the CLI and
the service can show it as is. ``permanent`` tells a retrying caller (the service's
workers) whether trying again could help: bad input never gets better by retrying.

    PersonacastError                      base; .permanent, .hint
    ├── InputError                        permanent: the user's input cannot be used
    │   ├── ImageError                    unreadable, corrupt or unsupported image
    │   ├── FaceError                     no face, face too small
    │   ├── TextError                     empty or over-long script text
    │   ├── FormatError                   unknown format preset or quality
    │   ├── VoiceError                    unknown voice profile or voice model
    │   ├── ConfigError                   bad character.yaml / script.yaml / settings
    │   ├── ContentError                  a topic or written script breaks a persona or safety rule
    │   ├── NotFoundError                 no such job, character, key or stored file (for this tenant)
    │   ├── ConflictError                 the request contradicts the stored state (idempotency key reuse)
    │   └── ModelWeightsError             a model's weights are missing, incomplete or fail their checksum
    ├── MissingDependencyError            permanent: an optional extra is not installed
    ├── BackendError                      a backend failed while working
    │   └── TransientBackendError         may succeed on retry (timeouts, 429, 5xx)
    └── MediaError                        encoding/decoding failed
"""

from __future__ import annotations


class PersonacastError(Exception):
    """Base of every error personacast raises on purpose."""

    permanent: bool = True

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message} ({hint})")


class InputError(PersonacastError):
    """The user's input cannot be used as given; retrying will not help."""


class ImageError(InputError):
    pass


class FaceError(InputError):
    pass


class TextError(InputError):
    pass


class FormatError(InputError):
    pass


class VoiceError(InputError):
    pass


class ConfigError(InputError):
    pass


class ContentError(InputError):
    """A script or topic breaks a content rule (the persona's bans, risky claims).
    ``violations`` lists each broken rule with the words that broke it."""

    def __init__(self, message: str, *, hint: str | None = None, violations: list[str] | None = None) -> None:
        super().__init__(message, hint=hint)
        self.violations = violations or []


class NotFoundError(InputError):
    """The thing asked for does not exist, or belongs to another tenant (the two look
    the same so that ids cannot be probed)."""


class ConflictError(InputError):
    """The request cannot apply to the current state, e.g. an idempotency key reused
    with a different request, or cancelling a finished job."""


class ModelWeightsError(InputError):
    """Weights a GPU backend needs are not on this machine (nothing is ever downloaded at
    run time) or do not match what the backend expects. The hint says how to get them."""


class MissingDependencyError(PersonacastError):
    """An optional extra needed by the chosen backend is not installed."""

    def __init__(self, backend: str, extra: str, missing_module: str) -> None:
        super().__init__(
            f"backend '{backend}' needs the Python module '{missing_module}', which is not installed",
            hint=f"install it with: pip install 'personacast[{extra}]'",
        )
        self.backend = backend
        self.extra = extra


class BackendError(PersonacastError):
    """A backend failed while doing its work."""


class TransientBackendError(BackendError):
    """A failure that may go away if the work is tried again."""

    permanent = False


class MediaError(PersonacastError):
    """Reading or writing audio/video failed."""
