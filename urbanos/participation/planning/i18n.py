"""The words of the planning pages, in English and German (``?lang=`` first, then ``Accept-Language``)."""

from __future__ import annotations

from collections.abc import Callable

from urbanos.core.lang import translator as make_translator

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "projects": "Planning projects", "intro": "Say on the map what you think of the city's plans.",
        "no_projects": "No planning project yet.", "period": "Open from {start} to {end}", "closed": "Closed",
        "api": "The same as JSON", "map": "Map of the project area and its contributions",
        "contributions": "Contributions", "no_contributions": "No contribution yet.", "category": "Category",
        "all_categories": "All categories", "filter": "Show", "by": "by {author}", "rating": "Rating {score}",
        "comments": "{n} comments", "heatmap": "Show the heat map by district (contributions weighted by ratings)",
        "contribute": "Your contribution", "title": "Title", "text": "Your text (up to 4,000 characters)",
        "where": "Where", "map_help": "Click on the map to set the place, or type its coordinates.",
        "lat": "Latitude", "lon": "Longitude", "send": "Send my contribution",
        "sign_in": "Sign in to the portal (any token) to contribute.", "errors": "Your contribution was not stored:",
        "thanks": "Thank you: your contribution is listed below.", "downloads": "Downloads",
        "geojson": "Contributions as GeoJSON", "csv": "Contributions as CSV", "heat_json": "Heat map as GeoJSON",
        "anonymous": "Contributions are published under a label such as \"Contributor 7\", never with your name.",
        "choose": "Choose a category", "contributor": "Contributor",
        "rubric": "Rubric", "all_rubrics": "All rubrics", "no_rubric": "No rubric",
        "rubric_help": "Optional: a rubric of the category you chose.", "edited": "edited by its author",
        "hidden_items": "Hidden by moderation", "hidden_intro": "Only the project's stewards see this list.",
        "hidden_none": "Nothing is hidden.", "reason": "Reason: {reason}", "unhide": "Show again",
        "shown_again": "Shown again.", "contribution": "contribution", "comment_on": "Comment on contribution {id}",
        "shape": "What you mark", "shape_point": "A place", "shape_line": "A line (a route, a street section)",
        "line_points": "Points of the line", "line_undo": "Remove the last point",
        "line_help": "Choose \"A line\", then click on the map for each point, or type one point a line as "
                     "latitude, longitude (e.g. 53.5521, 9.9934).",
    },
    "de": {
        "projects": "Planungsvorhaben", "intro": "Sagen Sie auf der Karte, was Sie von den Plänen der Stadt halten.",
        "no_projects": "Noch kein Planungsvorhaben.", "period": "Beteiligung vom {start} bis {end}",
        "closed": "Beendet", "api": "Dasselbe als JSON", "map": "Karte des Plangebiets und der Beiträge",
        "contributions": "Beiträge", "no_contributions": "Noch kein Beitrag.", "category": "Kategorie",
        "all_categories": "Alle Kategorien", "filter": "Anzeigen", "by": "von {author}", "rating": "Bewertung {score}",
        "comments": "{n} Kommentare", "heatmap": "Heatmap nach Stadtteil zeigen (Beiträge nach Bewertung gewichtet)",
        "contribute": "Ihr Beitrag", "title": "Titel", "text": "Ihr Text (bis 4.000 Zeichen)", "where": "Ort",
        "map_help": "Klicken Sie in die Karte, um den Ort zu setzen, oder geben Sie die Koordinaten ein.",
        "lat": "Breitengrad", "lon": "Längengrad", "send": "Beitrag senden",
        "sign_in": "Melden Sie sich im Portal an (ein beliebiger Token), um beizutragen.",
        "errors": "Ihr Beitrag wurde nicht gespeichert:", "thanks": "Danke: Ihr Beitrag steht unten in der Liste.",
        "downloads": "Downloads", "geojson": "Beiträge als GeoJSON", "csv": "Beiträge als CSV",
        "heat_json": "Heatmap als GeoJSON",
        "anonymous": "Beiträge erscheinen unter einer Bezeichnung wie \"Teilnehmende 7\", nie mit Ihrem Namen.",
        "choose": "Kategorie wählen", "contributor": "Teilnehmende",
        "rubric": "Rubrik", "all_rubrics": "Alle Rubriken", "no_rubric": "Keine Rubrik",
        "rubric_help": "Optional: eine Rubrik der gewählten Kategorie.", "edited": "von der verfassenden Person bearbeitet",
        "hidden_items": "Durch Moderation ausgeblendet", "hidden_intro": "Nur die Moderation des Vorhabens sieht diese Liste.",
        "hidden_none": "Nichts ist ausgeblendet.", "reason": "Grund: {reason}", "unhide": "Wieder zeigen",
        "shown_again": "Wieder sichtbar.", "contribution": "Beitrag", "comment_on": "Kommentar zu Beitrag {id}",
        "shape": "Was Sie markieren", "shape_point": "Einen Ort", "shape_line": "Eine Linie (einen Weg, einen Straßenabschnitt)",
        "line_points": "Punkte der Linie", "line_undo": "Letzten Punkt entfernen",
        "line_help": "Wählen Sie \"Eine Linie\" und klicken Sie für jeden Punkt in die Karte, oder geben Sie je Zeile einen "
                     "Punkt als Breite, Länge ein (z. B. 53.5521, 9.9934).",
    },
}


def translator(lang: str) -> Callable[..., str]:
    return make_translator(MESSAGES, lang)


__all__ = ["MESSAGES", "translator"]
