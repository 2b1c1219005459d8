"""The words of the budget pages, in English and German (``?lang=`` first, then ``Accept-Language``)."""

from __future__ import annotations

from collections.abc import Callable

from urbanos.core.lang import translator as make_translator

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "budgets": "Participatory budgets", "intro": "Residents propose projects and decide by vote which are funded.",
        "no_budgets": "No participatory budget yet.", "phase": "Phase", "rule": "Voting rule", "amount": "Budget",
        "phase_ideas": "Ideas", "phase_review": "Feasibility review", "phase_vote": "Vote open",
        "phase_results": "Results", "rule_equal_shares": "Method of Equal Shares",
        "rule_greedy": "Most votes within the budget", "rule_knapsack": "Most approvals within the budget (exact)",
        "projects": "Projects", "project": "Project", "cost": "Cost", "no_projects": "No projects yet.",
        "ballot": "Your ballot", "choose": "Choose the projects you support",
        "choose_hint": "Choose at least {lo} and at most {hi} projects.", "choose_hint_open": "Choose at least {lo}.",
        "credential": "Code from your letter, or your voter key",
        "credential_hint": "With the code from your letter you vote once; keep the voter key shown afterwards to "
                           "change your ballot until the vote closes.",
        "submit": "Cast my ballot", "done_cast": "Thank you: your ballot is stored.",
        "done_changed": "Your ballot is changed.", "voter_key": "Your voter key (keep it to change your ballot):",
        "refused": "Your ballot was not stored:", "results": "Results", "votes": "Votes", "share": "Share",
        "funded": "Funded", "yes": "yes", "no": "no", "spent": "{spent} of {budget} {cur} spent",
        "ballots": "Ballots: {n}", "results_link": "See the results", "compare": "Under the other rules",
        "api": "The same as JSON", "ballots_file": "All ballots (pabulib file)",
        "caption_projects": "The projects of this budget and their cost",
        "caption_results": "Each project's votes, cost and whether it is funded",
        "secrecy": "Ballots are stored without your name; after the vote closes nobody can link them to a voter.",
        "ideas": "Residents' ideas", "ideas_title": "Ideas for {title}",
        "ideas_intro": "Residents propose ideas while the budget is in its ideas phase; the stewards check each one "
                       "and accept it as a project, merge it into a project or reject it with a reason.",
        "propose": "Propose an idea", "f_title": "Title", "f_description": "Description (at most 4,000 characters)",
        "f_cost": "Estimated cost in {cur} (whole number)", "where": "Where (optional)",
        "where_help": "Latitude and longitude of the place, for example 53.5878 and 10.0453.", "lat": "Latitude",
        "lon": "Longitude", "district": "District", "district_none": "No district", "send_idea": "Send my idea",
        "thanks_idea": "Thank you: your idea is published below.", "sign_in_idea": "Sign in to propose an idea.",
        "sign_in": "Sign in", "ideas_closed": "New ideas are taken in the ideas phase only.",
        "no_ideas": "No ideas yet.", "ideas_shown": "Ideas {first} to {last} of {total}, oldest first.",
        "ideas_none_here": "No ideas on this page; there are {total} in all.",
        "earlier_ideas": "Earlier ideas", "later_ideas": "Later ideas", "ideas_pages": "More ideas",
        "more_waiting": "{n} more ideas wait for a decision; they are shown once these are decided.",
        "status": "Status", "status_proposed": "Proposed",
        "status_accepted": "Accepted as a project", "status_merged": "Merged into a project",
        "status_rejected": "Rejected", "reason": "Reason", "errors": "Not saved:",
        "author_note": "Your name is not published, and not stored with the idea either.",
        "estimated_cost": "Estimated cost", "became": "Project", "ideas_link": "Residents' ideas ({n})",
        "manage": "Manage this budget", "manage_title": "Manage: {title}", "new_budget": "New budget",
        "create": "Create the budget", "f_name": "Short name (lower-case letters, digits and hyphens)",
        "f_budget_description": "Description", "f_org": "Organisation", "f_amount": "Budget (whole {cur})",
        "f_amount_plain": "Budget (whole currency units)", "f_currency": "Currency (three letters)",
        "f_min": "Fewest projects on a ballot", "f_max": "Most projects on a ballot (empty: no limit)",
        "add_project": "Add a project", "save": "Save", "change": "Change", "review": "Review",
        "change_project": "Change the project {title}", "feasibility": "Feasibility review",
        "keep": "Keep: feasible", "drop": "Drop: not feasible", "f_reason": "Reason (published)",
        "f_checked_cost": "Checked cost in {cur}", "next_phase": "Next phase: {phase}",
        "next_phase_button": "Move to the next phase…", "confirm_title": "Move “{title}” to the phase “{phase}”?",
        "confirm_review": "No more ideas or projects can be added; the feasibility review begins.",
        "confirm_vote": "The feasible projects go to the vote; the review cannot be changed afterwards.",
        "confirm_results": "The vote closes for good: no more ballots, the ballots are counted and published, and no "
                           "ballot can be linked to a voter any more.",
        "confirm": "Yes, move to “{phase}”", "cancel": "Cancel", "codes": "Letter codes",
        "codes_count": "How many codes", "make_codes": "Make codes",
        "codes_once": "These {n} codes are shown only this once (only their hashes are stored): print them now.",
        "print": "Print", "code_letter": "Your code to vote on “{title}”", "code_where": "Vote at {url}",
        "decide": "Decide", "decision": "Decision on “{title}”", "accept": "Accept as a project",
        "merge": "Merge into a project", "reject": "Reject", "f_merge_into": "Project to merge into",
        "ideas_to_decide": "Ideas to decide", "no_ideas_to_decide": "No idea waits for a decision.",
        "saved": "Saved.", "feasible": "Feasible", "back_manage": "Back to managing the budget",
        "actions": "Actions", "from_idea": "from idea {n}", "stewards": "Budgets you manage",
        "close_vote": "Close the vote…",
        "chart": "Votes and cost of each project", "chart_desc": "Each bar is a project's votes; the label after "
                 "it gives its cost and whether it is funded. The table below holds the same figures.",
        "legend_funded": "funded", "legend_not_funded": "not funded", "rule_used": "Rule used: {rule}",
        "compare_title": "Compared with most votes",
        "compare_text": "The Method of Equal Shares funds {m} projects; funding the most-voted projects until the "
                        "money runs out would fund {n}.",
        "col_greedy": "Funded by most votes", "chart_row": "{votes} votes · {cost} {cur} · {funded}",
    },
    "de": {
        "budgets": "Bürgerhaushalte", "intro": "Einwohnerinnen und Einwohner schlagen Projekte vor und entscheiden per "
                                              "Abstimmung, welche finanziert werden.",
        "no_budgets": "Noch kein Bürgerhaushalt.", "phase": "Phase", "rule": "Abstimmungsregel", "amount": "Budget",
        "phase_ideas": "Ideen", "phase_review": "Machbarkeitsprüfung", "phase_vote": "Abstimmung läuft",
        "phase_results": "Ergebnis", "rule_equal_shares": "Methode der gleichen Anteile (Equal Shares)",
        "rule_greedy": "Meiste Stimmen im Rahmen des Budgets",
        "rule_knapsack": "Meiste Zustimmungen im Rahmen des Budgets (exakt)",
        "projects": "Projekte", "project": "Projekt", "cost": "Kosten", "no_projects": "Noch keine Projekte.",
        "ballot": "Ihr Stimmzettel", "choose": "Wählen Sie die Projekte, die Sie unterstützen",
        "choose_hint": "Wählen Sie mindestens {lo} und höchstens {hi} Projekte.",
        "choose_hint_open": "Wählen Sie mindestens {lo}.",
        "credential": "Code aus Ihrem Brief oder Ihr Abstimmungsschlüssel",
        "credential_hint": "Mit dem Code aus Ihrem Brief stimmen Sie einmal ab; mit dem danach angezeigten "
                           "Abstimmungsschlüssel können Sie Ihre Stimme bis zum Ende der Abstimmung ändern.",
        "submit": "Stimme abgeben", "done_cast": "Danke: Ihre Stimme ist gespeichert.",
        "done_changed": "Ihre Stimme ist geändert.",
        "voter_key": "Ihr Abstimmungsschlüssel (bewahren Sie ihn auf, um Ihre Stimme zu ändern):",
        "refused": "Ihre Stimme wurde nicht gespeichert:", "results": "Ergebnis", "votes": "Stimmen",
        "share": "Anteil", "funded": "Finanziert", "yes": "ja", "no": "nein",
        "spent": "{spent} von {budget} {cur} vergeben", "ballots": "Stimmzettel: {n}",
        "results_link": "Zum Ergebnis", "compare": "Nach den anderen Regeln", "api": "Dasselbe als JSON",
        "ballots_file": "Alle Stimmzettel (pabulib-Datei)",
        "caption_projects": "Die Projekte dieses Haushalts und ihre Kosten",
        "caption_results": "Stimmen und Kosten jedes Projekts und ob es finanziert wird",
        "secrecy": "Stimmzettel werden ohne Ihren Namen gespeichert; nach der Abstimmung kann niemand sie einer "
                   "Person zuordnen.",
        "ideas": "Ideen der Einwohnerinnen und Einwohner", "ideas_title": "Ideen für {title}",
        "ideas_intro": "In der Ideenphase schlagen Einwohnerinnen und Einwohner Ideen vor; die Verwaltung prüft jede "
                       "und übernimmt sie als Projekt, legt sie mit einem Projekt zusammen oder lehnt sie mit "
                       "Begründung ab.",
        "propose": "Eine Idee vorschlagen", "f_title": "Titel", "f_description": "Beschreibung (höchstens 4.000 Zeichen)",
        "f_cost": "Geschätzte Kosten in {cur} (ganze Zahl)", "where": "Ort (freiwillig)",
        "where_help": "Breiten- und Längengrad des Ortes, zum Beispiel 53.5878 und 10.0453.", "lat": "Breitengrad",
        "lon": "Längengrad", "district": "Stadtteil", "district_none": "Kein Stadtteil",
        "send_idea": "Idee absenden", "thanks_idea": "Danke: Ihre Idee ist unten veröffentlicht.",
        "sign_in_idea": "Melden Sie sich an, um eine Idee vorzuschlagen.", "sign_in": "Anmelden",
        "ideas_closed": "Neue Ideen werden nur in der Ideenphase angenommen.", "no_ideas": "Noch keine Ideen.",
        "ideas_shown": "Ideen {first} bis {last} von {total}, die ältesten zuerst.",
        "ideas_none_here": "Keine Ideen auf dieser Seite; es gibt {total} insgesamt.",
        "earlier_ideas": "Frühere Ideen", "later_ideas": "Spätere Ideen", "ideas_pages": "Weitere Ideen",
        "more_waiting": "{n} weitere Ideen warten auf eine Entscheidung; sie erscheinen, sobald diese entschieden sind.",
        "status": "Stand", "status_proposed": "Vorgeschlagen", "status_accepted": "Als Projekt übernommen",
        "status_merged": "Mit einem Projekt zusammengelegt", "status_rejected": "Abgelehnt", "reason": "Begründung",
        "errors": "Nicht gespeichert:",
        "author_note": "Ihr Name wird nicht veröffentlicht und auch nicht mit der Idee gespeichert.",
        "estimated_cost": "Geschätzte Kosten", "became": "Projekt", "ideas_link": "Ideen der Einwohnerinnen und "
                                                                                  "Einwohner ({n})",
        "manage": "Diesen Haushalt verwalten", "manage_title": "Verwalten: {title}", "new_budget": "Neuer Haushalt",
        "create": "Haushalt anlegen", "f_name": "Kurzname (Kleinbuchstaben, Ziffern und Bindestriche)",
        "f_budget_description": "Beschreibung", "f_org": "Organisation", "f_amount": "Budget (ganze {cur})",
        "f_amount_plain": "Budget (ganze Währungseinheiten)", "f_currency": "Währung (drei Buchstaben)",
        "f_min": "Mindestzahl Projekte auf einem Stimmzettel",
        "f_max": "Höchstzahl Projekte auf einem Stimmzettel (leer: keine Grenze)",
        "add_project": "Projekt hinzufügen", "save": "Speichern", "change": "Ändern", "review": "Prüfen",
        "change_project": "Projekt {title} ändern", "feasibility": "Machbarkeitsprüfung",
        "keep": "Behalten: machbar", "drop": "Streichen: nicht machbar", "f_reason": "Begründung (wird veröffentlicht)",
        "f_checked_cost": "Geprüfte Kosten in {cur}", "next_phase": "Nächste Phase: {phase}",
        "next_phase_button": "In die nächste Phase…", "confirm_title": "„{title}“ in die Phase „{phase}“ bringen?",
        "confirm_review": "Es können keine Ideen oder Projekte mehr hinzukommen; die Machbarkeitsprüfung beginnt.",
        "confirm_vote": "Die machbaren Projekte gehen in die Abstimmung; die Prüfung kann danach nicht mehr geändert "
                        "werden.",
        "confirm_results": "Die Abstimmung endet endgültig: keine Stimmzettel mehr, sie werden gezählt und "
                           "veröffentlicht, und kein Stimmzettel kann mehr einer Person zugeordnet werden.",
        "confirm": "Ja, in „{phase}“", "cancel": "Abbrechen", "codes": "Codes für Briefe",
        "codes_count": "Wie viele Codes", "make_codes": "Codes erzeugen",
        "codes_once": "Diese {n} Codes werden nur dieses eine Mal gezeigt (gespeichert sind nur ihre Hashes): "
                      "drucken Sie sie jetzt.",
        "print": "Drucken", "code_letter": "Ihr Code für die Abstimmung „{title}“", "code_where": "Abstimmen unter {url}",
        "decide": "Entscheiden", "decision": "Entscheidung über „{title}“", "accept": "Als Projekt übernehmen",
        "merge": "Mit einem Projekt zusammenlegen", "reject": "Ablehnen", "f_merge_into": "Projekt, mit dem "
                                                                                           "zusammengelegt wird",
        "ideas_to_decide": "Zu entscheidende Ideen", "no_ideas_to_decide": "Keine Idee wartet auf eine Entscheidung.",
        "saved": "Gespeichert.", "feasible": "Machbar", "back_manage": "Zurück zur Verwaltung des Haushalts",
        "actions": "Aktionen", "from_idea": "aus Idee {n}", "stewards": "Haushalte, die Sie verwalten",
        "close_vote": "Abstimmung beenden…",
        "chart": "Stimmen und Kosten jedes Projekts", "chart_desc": "Jeder Balken zeigt die Stimmen eines Projekts; "
                 "dahinter stehen seine Kosten und ob es finanziert wird. Die Tabelle unten enthält dieselben Zahlen.",
        "legend_funded": "finanziert", "legend_not_funded": "nicht finanziert", "rule_used": "Angewandte Regel: {rule}",
        "compare_title": "Im Vergleich mit den meisten Stimmen",
        "compare_text": "Die Methode der gleichen Anteile finanziert {m} Projekte; die Projekte mit den meisten "
                        "Stimmen zu finanzieren, bis das Geld verbraucht ist, ergäbe {n}.",
        "col_greedy": "Finanziert nach meisten Stimmen", "chart_row": "{votes} Stimmen · {cost} {cur} · {funded}",
    },
}


def translator(lang: str) -> Callable[..., str]:
    return make_translator(MESSAGES, lang)


__all__ = ["MESSAGES", "translator"]
