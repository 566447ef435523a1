"""Assemble docs/protocol.md from docs/sections/*.md (run: python3 docs/build_protocol.py).

Each section file holds one numbered top-level section (``## N. Title``), numbered in file
order, with subsections ``### N.M``; a file with only ``### N.M`` headings continues the
section before it.  The table of contents is generated from those headings.
"""

import pathlib
import re

HERE = pathlib.Path(__file__).parent
HEADER = """# Saylau protocol specification (v1)

This document is the specification: every equation, domain tag and encoding that a
second, independent verifier needs. The code cites its equation labels (P1, Z3, B2,
V1, …) and section numbers (§N, §N.M). Sections are assembled from `docs/sections/` by
`docs/build_protocol.py`; edit those files, then rebuild. The published election record
is specified in `docs/election-record.md`.

"""
HEADING = re.compile(r"^(##|###) (\d+(?:\.\d+)?)\.? (.+)$")


def anchor(text: str) -> str:
    """GitHub-style anchor of a heading."""
    slug = re.sub(r"[^\w\- ]", "", text.lower(), flags=re.UNICODE)
    return slug.replace(" ", "-")


def build() -> str:
    paths = sorted((HERE / "sections").glob("*.md"))
    toc = ["## Contents", ""]
    bodies = []
    number = 0
    for path in paths:
        text = path.read_text().rstrip() + "\n\n"
        # a file without a "## N." heading continues the previous section (e.g. §4.7)
        if any(line.startswith("## ") for line in text.splitlines()):
            number += 1
        in_code = False
        for line in text.splitlines():
            if line.startswith("```"):
                in_code = not in_code
            match = None if in_code else HEADING.match(line)
            if match is None:
                continue
            level, num, title = match.groups()
            expected_top = str(number)
            if level == "##" and num != expected_top:
                raise SystemExit(f"{path.name}: top heading is §{num}, expected §{expected_top}")
            if level == "###" and not num.startswith(expected_top + "."):
                raise SystemExit(f"{path.name}: subsection §{num} outside §{expected_top}")
            indent = "" if level == "##" else "  "
            toc.append(f"{indent}* [{num} {title}](#{anchor(line.lstrip('# '))})")
        bodies.append(text)
    return HEADER + "\n".join(toc) + "\n\n" + "".join(bodies)


if __name__ == "__main__":
    (HERE / "protocol.md").write_text(build())
    print("wrote docs/protocol.md")
