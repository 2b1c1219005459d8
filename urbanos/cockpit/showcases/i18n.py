"""The showcase pages' messages, English and German (``?lang=``, then ``Accept-Language``)."""

from __future__ import annotations

from collections.abc import Callable

from urbanos.core.lang import pick_lang
from urbanos.core.lang import translator as make_translator

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "title": "Applications and showcases",
        "intro": "Applications, visualisations and stories built with the platform's data, and the datasets each uses.",
        "using": "Applications using the dataset {name}", "all": "All applications",
        "none": "No application is registered yet.", "none_using": "No registered application uses this dataset.",
        "datasets": "Datasets it uses", "no_datasets": "No dataset you may read is linked to it.",
        "visit": "Open the application", "owner": "Published by", "n_datasets": "{n} datasets",
        "one_dataset": "1 dataset", "image": "Screenshot of {title}", "api": "Through the CKAN Action API:",
        "applications": "Linked API tokens (usage counts)", "back": "All applications",
    },
    "de": {
        "title": "Anwendungen und Showcases",
        "intro": "Anwendungen, Visualisierungen und Geschichten, die mit den Daten der Plattform gebaut wurden, und die "
                 "Datensätze, die sie nutzen.",
        "using": "Anwendungen, die den Datensatz {name} nutzen", "all": "Alle Anwendungen",
        "none": "Noch ist keine Anwendung eingetragen.", "none_using": "Keine eingetragene Anwendung nutzt diesen Datensatz.",
        "datasets": "Genutzte Datensätze", "no_datasets": "Kein Datensatz, den Sie lesen dürfen, ist mit ihr verknüpft.",
        "visit": "Anwendung öffnen", "owner": "Veröffentlicht von", "n_datasets": "{n} Datensätze",
        "one_dataset": "1 Datensatz", "image": "Bildschirmfoto von {title}", "api": "Über die CKAN Action API:",
        "applications": "Verknüpfte API-Tokens (Nutzungszählung)", "back": "Alle Anwendungen",
    },
}


def translator(lang: str) -> Callable[..., str]:
    return make_translator(MESSAGES, lang)


__all__ = ["MESSAGES", "translator", "pick_lang"]
