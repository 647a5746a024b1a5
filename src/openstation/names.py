"""Names people give things (accounts, groups, shared folders, files): one normal form, and
no characters that make one name look like another (pure).

Every name created through the device is NFC-normalised, so "é" typed on macOS (NFD) and on
Windows (NFC) is one name. Refused: control and format characters (Unicode categories Cc and
Cf: zero-width spaces, bidirectional overrides that show "exe.txt" for "txt.exe"), and names
that read as "." or ".." or hold a slash once compatibility forms are folded (U+2025 TWO DOT
LEADER, two U+FF0E FULLWIDTH FULL STOPs, U+FF0F FULLWIDTH SOLIDUS).
"""

from __future__ import annotations

import unicodedata

_LOOKALIKE_SEPARATORS = ("/", "\\")


def normal(name: str) -> str:
    """The form a name is stored and compared in."""
    return unicodedata.normalize("NFC", name)


def lookalike_problem(name: str) -> str | None:
    """Why `name` could pass for another name or a path, or None."""
    for char in name:
        if unicodedata.category(char) in ("Cc", "Cf"):
            return (f"must not contain control or invisible formatting characters "
                    f"(U+{ord(char):04X})")
    folded = unicodedata.normalize("NFKC", name)
    if folded.strip() in (".", ".."):
        return "must not read as '.' or '..'"
    if folded != name and any(sep in folded for sep in _LOOKALIKE_SEPARATORS):
        return "must not contain characters that read as '/' or '\\'"
    return None
