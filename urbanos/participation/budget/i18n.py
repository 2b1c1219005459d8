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
    },
}


def translator(lang: str) -> Callable[..., str]:
    return make_translator(MESSAGES, lang)


__all__ = ["MESSAGES", "translator"]
