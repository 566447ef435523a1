"""E-petitions: lifecycle, sponsors, moderation, anonymous signatures, counts, region tally.

``models`` (tables), ``lifecycle`` (the state machine), ``services`` (logic),
``views`` (HTML pages under ``/petitions``) and ``api`` (JSON under ``/api/v1/petitions``).
"""
