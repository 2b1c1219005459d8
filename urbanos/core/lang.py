"""The languages of the platform's pages: which one a request asks for, and message tables that fall back to
English. Every capability's pages use these, so that ``?lang=`` and ``Accept-Language`` mean the same everywhere."""

from __future__ import annotations

from collections.abc import Callable, Mapping

LANGS = ("en", "de")
"""The languages of the pages; the first is the fallback."""
MAX_ACCEPT_PARTS = 20
"""How many entries of ``Accept-Language`` are looked at (the header is the client's to make long)."""


def pick_lang(query_lang: str | None, accept_language: str | None, langs: tuple[str, ...] = LANGS) -> str:
    """``?lang=`` when it names one of ``langs``, else the entry of ``Accept-Language`` with the highest ``q`` that
    does (the first of equals), else the first of ``langs``."""
    if query_lang and query_lang.lower()[:2] in langs:
        return query_lang.lower()[:2]
    best, best_q = langs[0], -1.0
    for part in (accept_language or "").split(",")[:MAX_ACCEPT_PARTS]:
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower()[:2]
        try:
            q = float(params.strip()[2:]) if params.strip().startswith("q=") else 1.0
        except ValueError:
            q = 0.0
        if code in langs and q > best_q:
            best, best_q = code, q
    return best


def translator(messages: Mapping[str, Mapping[str, str]], lang: str) -> Callable[..., str]:
    """``t(key, **values)``: message ``key`` of ``messages[lang]`` (English when that language has none, the key
    itself when no language has it), formatted with ``values``."""
    table = messages.get(lang) or messages["en"]

    def t(key: str, **kw: object) -> str:
        text = table.get(key) or messages["en"].get(key) or key
        return text.format(**kw) if kw else text

    return t


__all__ = ["LANGS", "MAX_ACCEPT_PARTS", "pick_lang", "translator"]
