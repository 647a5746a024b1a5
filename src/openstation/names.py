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
# Characters NFKC leaves alone that still read as a slash, or show nothing at all.
_SLASHES = {"\u2044", "\u2215", "\u29f8", "\u29f9", "\uff0f", "\u2cc6"}
_INVISIBLE = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}
_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def principal_problem(name: str) -> str | None:
    """What makes an account, group or shared-folder name pass for another one (on top of
    `lookalike_problem`): a compatibility form ("admin" in fullwidth letters) or letters of
    two of the Latin, Cyrillic and Greek scripts ("admin" with a Cyrillic "a")."""
    if unicodedata.normalize("NFKC", name) != name:
        return "must not use compatibility characters (fullwidth letters and the like)"
    scripts = {script for char in name if char.isalpha()
               for script in _SCRIPTS if unicodedata.name(char, "").startswith(script)}
    if len(scripts) > 1:
        return "must not mix letters of different scripts"
    return None


def skeleton(name: str) -> str:
    """The form two names that read the same share (case and compatibility folded)."""
    return unicodedata.normalize("NFKC", name).casefold()


def normal(name: str) -> str:
    """The form a name is stored and compared in."""
    return unicodedata.normalize("NFC", name)


def lookalike_problem(name: str) -> str | None:
    """Why `name` could pass for another name or a path, or None."""
    for char in name:
        if unicodedata.category(char) in ("Cc", "Cf") or char in _INVISIBLE:
            return (f"must not contain control or invisible characters "
                    f"(U+{ord(char):04X})")
        if char in _SLASHES:
            return f"must not contain characters that read as '/' (U+{ord(char):04X})"
    folded = unicodedata.normalize("NFKC", name)
    if folded.strip() in (".", ".."):
        return "must not read as '.' or '..'"
    if folded != name and any(sep in folded for sep in _LOOKALIKE_SEPARATORS):
        return "must not contain characters that read as '/' or '\\'"
    return None
