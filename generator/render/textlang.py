"""The language tag of a runner's text written in another script than the guide's.

Guides are English; a runner's name, race or notes may be written in Japanese, Arabic,
Korean... Marked with a ``lang`` attribute, a screen reader can switch voice (in the
browser, the email and, through generator/pdf/tagging.py, the PDF's ``/Lang``), and
Pango picks the right glyph variants. The roster has no field saying which language a
name is in, so the tag comes from the script its letters are written in:

* where a script is written by essentially one language, that language (Hangul: ko,
  kana: ja, Arabic: ar, Hebrew: he, Greek: el, Thai: th, Devanagari: hi...);
* where it is shared by several large languages and a name alone does not say which,
  ``und-<Script>`` (BCP 47 "language undetermined"): Han characters without kana are
  Chinese or Japanese (``und-Hani``), Cyrillic is Russian, Ukrainian, Bulgarian,
  Serbian... (``und-Cyrl``). A wrong language would make a reader mispronounce the
  name; an undetermined one only says it is not English.

Latin-script text (any accents) gets no tag: it is read in the guide's language.
"""

from __future__ import annotations

import unicodedata
from collections import Counter

# first word of the Unicode character name -> tag, for letters only
SCRIPT_TAGS = {
    "HIRAGANA": "ja", "KATAKANA": "ja", "KATAKANA-HIRAGANA": "ja", "HANGUL": "ko",
    "ARABIC": "ar", "HEBREW": "he", "GREEK": "el", "THAI": "th", "DEVANAGARI": "hi",
    "BENGALI": "bn", "TAMIL": "ta",
    "GEORGIAN": "ka", "ARMENIAN": "hy", "ETHIOPIC": "am", "KHMER": "km", "LAO": "lo",
    "CJK": "und-Hani", "CYRILLIC": "und-Cyrl",
}


def _script(char: str) -> str | None:
    if not unicodedata.category(char).startswith("L"):
        return None  # digits, spaces, punctuation, symbols, emoji: no script of their own
    return unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]


def text_lang(text: str | None) -> str | None:
    """The language tag for ``text`` when its letters are mostly not Latin, else None."""
    scripts = Counter(s for s in map(_script, text or "") if s is not None)
    if not scripts:
        return None
    if "HIRAGANA" in scripts or "KATAKANA" in scripts:
        return "ja"  # kana only occur in Japanese, which also writes Han characters
    script, _count = scripts.most_common(1)[0]
    if script == "LATIN":
        return None
    return SCRIPT_TAGS.get(script, "und")
