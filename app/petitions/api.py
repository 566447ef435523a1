"""JSON API ``/api/v1/petitions`` (open data, citizens, moderators, trustees, anonymous signing).

One blueprint (:data:`bp`, in :mod:`app.petitions.api_common`) whose routes live in three
modules by audience: :mod:`app.petitions.api_open`, :mod:`app.petitions.api_citizens`,
:mod:`app.petitions.api_moderation`.  Importing this module registers all of them.
Signing (``POST /<id>/signatures``) is anonymous and looks at no session.
"""

from __future__ import annotations

from app.petitions import api_citizens, api_moderation, api_open
from app.petitions.api_common import bp

__all__ = ["api_citizens", "api_moderation", "api_open", "bp"]
