"""Assemble docs/protocol.md from docs/sections/*.md (run: python docs/build_protocol.py)."""

import pathlib

HERE = pathlib.Path(__file__).parent
HEADER = """# Saylau protocol specification (v1)

This document is the specification: every equation, domain tag and encoding that a
second, independent verifier needs. The code cites its equation labels (P1, Z3, B2,
V1, …). Sections are assembled from `docs/sections/` by `docs/build_protocol.py`;
edit those files, then rebuild.

"""

parts = [HEADER]
for path in sorted((HERE / "sections").glob("*.md")):
    parts.append(path.read_text().rstrip() + "\n\n")
(HERE / "protocol.md").write_text("".join(parts))
print("wrote docs/protocol.md")
