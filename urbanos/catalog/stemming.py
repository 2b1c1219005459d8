"""Words and stems of the catalogue's full-text index, in English and German, the same on both back ends.

Text is cut into words here, in Python, for the index and for queries alike, so SQLite and PostgreSQL see
the same tokens and give the same hits:

* :func:`tokens` folds the text (case folded, ``ß`` to ``ss``, accents and umlauts removed: ``Straße`` and
  ``strasse`` are the same word, so are ``Bänke`` and ``banke``) and splits it into runs of letters and digits.
* :func:`stem` reduces a word with a Snowball stemmer (``snowballstemmer``, pure Python): ``districts`` and
  ``district`` share ``district``, ``Bezirke`` and ``Bezirk`` share ``bezirk``.
* The index keeps each field twice: its folded words, and their stems in the languages of the dataset
  (:func:`languages_of`: its ``language`` field, both English and German when it names neither). A title or
  description given in another language (``title_translated``, ``notes_translated``) adds its words to the field,
  stemmed in its own language (:func:`language_of_code`): ``Bezirke`` of ``{"de": "Bezirke"}`` is found as ``bezirk``.
* A query word matches its folded form or any of its stems (:func:`word_forms`); a phrase matches its words,
  or their stems in one language, one after another (:func:`phrase_forms`).

:class:`TextQuery` writes the match expression: FTS5 ``MATCH`` syntax on SQLite, a ``tsquery`` literal on
PostgreSQL (read with ``CAST(? AS tsquery)``, so PostgreSQL does not cut the words again).
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

import snowballstemmer

LANGUAGES = ("english", "german")
CODES = {"english": "en", "german": "de"}
"""The suffix of a language's stem columns in the index."""
MAX_TOKEN = 100
"""Longer words are cut to this many characters (PostgreSQL refuses lexemes over 2 KB)."""
PREFIX_MIN = 3
"""A search-box word shorter than this matches whole words only (``a`` would match nearly everything)."""

_WORD = re.compile(r"[^\W_]+")
_LANGUAGE_CODES = {
    "en": "english", "eng": "english", "english": "english",
    "de": "german", "deu": "german", "ger": "german", "german": "german", "deutsch": "german",
}
_locks = {lang: threading.Lock() for lang in LANGUAGES}


def fold(text: str) -> str:
    """Case folded (``ß`` becomes ``ss``), accents and umlauts removed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str) -> list[str]:
    """The folded words of ``text``, in order."""
    return [t[:MAX_TOKEN] for t in _WORD.findall(fold(text))]


@lru_cache(maxsize=len(LANGUAGES))
def _stemmer(lang: str) -> snowballstemmer.BaseStemmer:
    return snowballstemmer.stemmer(lang)


@lru_cache(maxsize=65536)
def stem(token: str, lang: str) -> str:
    """The stem of one folded word in ``english`` or ``german``."""
    with _locks[lang]:  # a stemmer object keeps its word while it works
        return str(_stemmer(lang).stemWord(token))


def languages_of(values: Iterable[object] | object) -> tuple[str, ...]:
    """The stemmer languages of a dataset's ``language`` values (``de``, ``deu``, ``en-GB``, an EU language
    URI such as ``…/language/DEU``); both when none of them is English or German."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        values = [values] if values else []
    found: list[str] = []
    for v in values:
        code = str(v or "").strip().rstrip("/").rsplit("/", 1)[-1].lower()
        lang = language_of_code(code)
        if lang and lang not in found:
            found.append(lang)
    return tuple(lang for lang in LANGUAGES if lang in found) or LANGUAGES


def language_of_code(code: str) -> str | None:
    """The stemmer language of one language code (``de``, ``deu``, ``de-CH``, ``en-GB``), or None."""
    code = code.strip().lower()
    return _LANGUAGE_CODES.get(code) or _LANGUAGE_CODES.get(re.split(r"[-_]", code)[0])


def stems(words: Sequence[str], lang: str) -> list[str]:
    return [stem(t, lang) for t in words]


def word_forms(token: str) -> list[str]:
    """What one query word matches: its folded form and its stem in each language (without repeats)."""
    return list(dict.fromkeys([token, *(stem(token, lang) for lang in LANGUAGES)]))


def phrase_forms(words: Sequence[str]) -> list[tuple[str, ...]]:
    """What a phrase matches: its folded words, or their stems in one language, one after another."""
    return list(dict.fromkeys([tuple(words), *(tuple(stems(words, lang)) for lang in LANGUAGES)]))


class TextQuery:
    """Match expressions over the index's tokens for one back end (``sqlite`` or ``postgresql``)."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

    def term(self, token: str, prefix: bool = False) -> str:
        if self.sqlite:
            return f'"{token}"' + (" *" if prefix else "")
        return f"'{token}'" + (":*" if prefix else "")

    def phrase(self, words: Sequence[str]) -> str:
        if self.sqlite:
            return '"' + " ".join(words) + '"'
        return "(" + " <-> ".join(self.term(w) for w in words) + ")"

    def any_of(self, parts: Sequence[str]) -> str:
        return parts[0] if len(parts) == 1 else "(" + (" OR " if self.sqlite else " | ").join(parts) + ")"

    def all_of(self, parts: Sequence[str]) -> str:
        return parts[0] if len(parts) == 1 else (" AND " if self.sqlite else " & ").join(parts)

    def word(self, token: str, prefix: bool) -> str:
        """One query word: any of its forms; ``prefix``: its folded form also as the start of a longer word."""
        forms = word_forms(token)
        return self.any_of([self.term(forms[0], prefix), *(self.term(f) for f in forms[1:])])

    def words(self, words: Sequence[tuple[str, bool]]) -> str:
        return self.all_of([self.word(t, p) for t, p in words])

    def phrase_of(self, words: Sequence[str]) -> str:
        return self.any_of([self.phrase(v) if len(v) > 1 else self.term(v[0]) for v in phrase_forms(words)])


__all__ = ["LANGUAGES", "CODES", "MAX_TOKEN", "PREFIX_MIN", "TextQuery", "fold", "tokens", "stem", "stems", "languages_of",
           "language_of_code", "word_forms", "phrase_forms"]
