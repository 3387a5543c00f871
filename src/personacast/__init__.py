"""personacast: lip-synced, captioned social-media videos from a portrait and a script.

    from personacast import Character, RenderJob, RenderSpec, Script, Settings, render
"""

from .errors import PersonacastError
from .models import Character, RenderResult, RenderSpec, Script, Timeline, VoiceProfile
from .pipeline import RenderJob, render
from .settings import Settings

__all__ = [
    "Character",
    "PersonacastError",
    "RenderJob",
    "RenderResult",
    "RenderSpec",
    "Script",
    "Settings",
    "Timeline",
    "VoiceProfile",
    "render",
]
__version__ = "0.1.0"
