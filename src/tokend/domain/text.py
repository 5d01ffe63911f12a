"""What counts as acceptable free text in names."""

import unicodedata

# Control characters and lone surrogates: invisible, unstorable in some databases
# (PostgreSQL refuses NUL) or not encodable. Spaces of every script and format
# characters (the joiner inside an emoji family) are ordinary text and allowed.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in text)
