"""What counts as acceptable free text in names."""

import unicodedata

# Control characters and lone surrogates: invisible, unstorable in some databases
# (PostgreSQL refuses NUL) or not encodable. Spaces of every script and format
# characters (the joiner inside an emoji family) are ordinary text and allowed.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs"})


REPLACEMENT = "\ufffd"


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in text)


def storable(text: str, max_length: int) -> str:
    """``text`` as any database can keep it: control characters and lone surrogates
    replaced by U+FFFD, cut to ``max_length`` characters. For text a client chose
    that is recorded rather than refused (a leaked URL, a User-Agent)."""
    if has_control_characters(text):
        text = "".join(
            REPLACEMENT if unicodedata.category(char) in _REFUSED_CATEGORIES else char
            for char in text
        )
    return text[:max_length]
