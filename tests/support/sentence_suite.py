"""pySBD's German sentence-boundary suite (nipunsadvilkar/pySBD, ``tests/lang/test_deutsch.py``,
MIT licence): 35 texts with the sentences a splitter should find. pySBD itself runs groups 2 and 3
with its text cleaner on (which also joins PDF line breaks and rewrites "z.B." to "z. B."), so the
comparison is on whitespace-normalised sentences: a span splitter keeps the source's spacing.

Shared by ``tests/engine/test_sentences.py`` (our splitter) and ``bench/sentences.py`` (our
splitter against pySBD and SoMaJo, quality and speed).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CASES", "SuiteCase", "normalise"]


@dataclass(frozen=True, slots=True)
class SuiteCase:
    group: str  # "golden", "clean" or "pdf": pySBD's three lists
    text: str
    expected: tuple[str, ...]


def normalise(sentence: str) -> str:
    """Whitespace runs as one space, ends trimmed: how both sides are compared."""
    return " ".join(sentence.split())


_LUST = (
    "„Ich habe heute keine Zeit“, sagte die Frau und flüsterte leise: „Und auch keine Lust.“ "
    "Wir haben 1.000.000 Euro."
)
_LUST_SENTENCES = (
    "„Ich habe heute keine Zeit“, sagte die Frau und flüsterte leise: „Und auch keine Lust.“",
    "Wir haben 1.000.000 Euro.",
)
_JUNK_1 = (
    "Es gibt jedoch einige Vorsichtsmaßnahmen, die Du ergreifen kannst, z. B. ist es sehr "
    "empfehlenswert, dass Du Dein Zuhause von allem Junkfood befreist."
)
_JUNGE = "Was sind die Konsequenzen der Abstimmung vom 12. Juni?"

_FIT = (
    "Fit in vier Wochen",
    "Deine Anleitung für eine reine Ernährung und ein gesünderes und glücklicheres Leben",
    "RECHTLICHE HINWEISE",
    "Ohne die ausdrückliche schriftliche Genehmigung der Eigentümerin von instafemmefitness, "
    "Anna Anderson, darf dieses E-Book weder teilweise noch in vollem Umfang reproduziert, "
    "gespeichert, kopiert oder auf irgendeine Weise übertragen werden.",
    "Wenn Du das E-Book auf einem öffentlich zugänglichen Computer ausdruckst, musst Du es nach "
    "dem Ausdrucken von dem Computer löschen.",
    "Jedes E-Book wird mit einem Benutzernamen und Transaktionsinformationen versehen.",
    "Verstöße gegen dieses Urheberrecht werden im vollen gesetzlichen Umfang geltend gemacht.",
    "Obgleich die Autorin und Herausgeberin alle Anstrengungen unternommen hat, sicherzustellen, "
    "dass die Informationen in diesem Buch zum Zeitpunkt der Drucklegung korrekt sind, übernimmt "
    "die Autorin und Herausgeberin keine Haftung für etwaige Verluste, Schäden oder Störungen, "
    "die durch Fehler oder Auslassungen in Folge von Fahrlässigkeit, zufälligen Umständen oder "
    "sonstigen Ursachen entstehen, und lehnt hiermit jedwede solche Haftung ab.",
    "Dieses Buch ist kein Ersatz für die medizinische Beratung durch Ärzte.",
    "Der Leser/die Leserin sollte regelmäßig einen Arzt/eine Ärztin hinsichtlich Fragen zu "
    "seiner/ihrer Gesundheit und vor allem in Bezug auf Symptome, die eventuell einer ärztlichen "
    "Diagnose oder Behandlung bedürfen, konsultieren.",
    "Die Informationen in diesem Buch sind dazu gedacht, ein ordnungsgemäßes Training zu "
    "ergänzen, nicht aber zu ersetzen.",
    "Wie jeder andere Sport, der Geschwindigkeit, Ausrüstung, Gleichgewicht und Umweltfaktoren "
    "einbezieht, stellt dieser Sport ein gewisses Risiko dar.",
    "Die Autorin und Herausgeberin rät den Lesern dazu, die volle Verantwortung für die eigene "
    "Sicherheit zu übernehmen und die eigenen Grenzen zu beachten.",
    "Vor dem Ausüben der in diesem Buch beschriebenen Übungen solltest Du sicherstellen, dass "
    "Deine Ausrüstung in gutem Zustand ist, und Du solltest keine Risiken außerhalb Deines "
    "Erfahrungs- oder Trainingsniveaus, Deiner Fähigkeiten oder Deines Komfortbereichs eingehen.",
    "Hintergrundillustrationen Urheberrecht © 2013 bei Shuttershock, Buchgestaltung und "
    "-produktion durch Anna Anderson Verfasst von Anna Anderson",
    "Urheberrecht © 2014 Instafemmefitness.",
    "Alle Rechte vorbehalten",
    "Über mich",
)
_FIT_TEXT = (
    f"{_FIT[0]}\n\n{_FIT[1]}\n\n{_FIT[2]}\n\n{_FIT[3]} {_FIT[4]} {_FIT[5]}\n\n{_FIT[6]} {_FIT[7]}"
    f"\n\n{_FIT[8]} {_FIT[9]}\n\n{_FIT[10]} {_FIT[11]} {_FIT[12]} {_FIT[13]}\n{_FIT[14]}\n"
    f"{_FIT[15]} {_FIT[16]}\n\n{_FIT[17]}"
)
_JUNK = (
    _JUNK_1,
    "Ich persönlich kaufe kein Junkfood oder etwas, das nicht rein ist (ich traue mir da selbst "
    "nicht!).",
    "Ich finde jeden Vorwand, um das Junkfood zu essen, vor allem die Vorstellung, dass ich nicht "
    "mehr in Versuchung kommen werde, wenn ich es jetzt aufesse und es weg ist.",
    "Es ist schon komisch, was unser Verstand mitunter anstellt!",
)
_HANNOVER = (
    "Ob Sie in Hannover nur auf der Durchreise, für einen längeren Aufenthalt oder zum Besuch "
    "einer der zahlreichen Messen sind: Die Hauptstadt des Landes Niedersachsens hat viele "
    "Sehenswürdigkeiten und ist zu jeder Jahreszeit eine Reise Wert.",
    "Hannovers Ursprünge können bis zur römischen Kaiserzeit zurückverfolgt werden, und zwar "
    "durch Ausgrabungen von Tongefäßen aus dem 1. -3. Jahrhundert nach Christus, die an mehreren "
    "Stellen im Untergrund des Stadtzentrums durchgeführt wurden.",
)
_TIPS = (
    "• 1. Planen und organisieren Sie die Zeit der Schwangerschaft frühzeitig!",
    "• 2. Essen Sie gesund!",
    "• 3. Seien Sie achtsam bei der Auswahl der Nahrungsmittel!",
    "• 4. Nehmen Sie zusätzlich Folsäurepräparate und essen Sie Fisch!",
    "• 5. Treiben Sie regelmäßig Sport!",
    "• 6. Beginnen Sie mit Übungen für die Beckenbodenmuskulatur!",
    "• 7. Reduzieren Sie Ihren Alkoholgenuss!",
    "• 8. Reduzieren Sie Ihren Koffeingenuß!",
    "• 9. Hören Sie mit dem Rauchen auf!",
    "• 10. Gönnen Sie sich Erholung!",
)
_CHEESE = (
    "• einige Sorten Weichkäse",
    "• rohes oder nicht ganz durchgebratenes Fleisch",
    "• ungeputztes Gemüse und ungewaschener Salat",
    "• nicht ganz durchgebratenes Hühnerfleisch, rohe oder nur weich gekochte Eier",
)


def _one(group: str, text: str) -> SuiteCase:
    """A text that is a single sentence."""
    return SuiteCase(group, text, (text,))


CASES: tuple[SuiteCase, ...] = (
    # -- pySBD's golden rules ---------------------------------------------------------------
    SuiteCase("golden", _LUST, _LUST_SENTENCES),
    _one("golden", _JUNK_1),
    _one("golden", _JUNGE),
    # -- pySBD's "clean" rules ----------------------------------------------------------------
    SuiteCase("clean", _LUST, _LUST_SENTENCES),
    SuiteCase(
        "clean",
        "Thomas sagte: ,,Wann kommst zu mir?” ,,Das weiß ich noch nicht“, antwortete Susi, "
        ",,wahrscheinlich am Sonntag.“ Wir haben 1.000.000 Euro.",
        (
            "Thomas sagte: ,,Wann kommst zu mir?” ,,Das weiß ich noch nicht“, antwortete Susi, "
            ",,wahrscheinlich am Sonntag.“",
            "Wir haben 1.000.000 Euro.",
        ),
    ),
    _one(
        "clean",
        "„Lass uns jetzt essen gehen!“, sagte die Mutter zu ihrer Freundin, „am besten zum "
        "Italiener.“",
    ),
    _one("clean", "Wir haben 1.000.000 Euro."),
    _one("clean", "Sie bekommen 3,50 Euro zurück."),
    _one("clean", "Dafür brauchen wir 5,5 Stunden."),
    _one("clean", "Bitte überweisen Sie 5.300,25 Euro."),
    _one("clean", "1. Dies ist eine Punkteliste."),
    _one("clean", "Wir trafen Dr. med. Meyer in der Stadt."),
    _one("clean", "Wir brauchen Getränke, z. B. Wasser, Saft, Bier usw."),
    _one("clean", "Ich kann u.a. Spanisch sprechen."),
    _one("clean", "Frau Prof. Schulze ist z. Z. nicht da."),
    _one("clean", "Sie erhalten ein neues Bank-Statement bzw. ein neues Schreiben."),
    _one("clean", "Z. T. ist die Lieferung unvollständig."),
    _one("clean", "Das finden Sie auf S. 225."),
    _one("clean", "Sie besucht eine kath. Schule."),
    _one("clean", "Wir benötigen Zeitungen, Zeitschriften u. Ä. für unser Projekt."),
    _one("clean", "Das steht auf S. 23, s. vorherige Anmerkung."),
    _one("clean", "Dies ist meine Adresse: Dr. Meier, Berliner Str. 5, 21234 Bremen."),
    _one("clean", "Er sagte: „Hallo, wie geht´s Ihnen, Frau Prof. Müller?“"),
    SuiteCase("clean", _FIT_TEXT, _FIT),
    SuiteCase("clean", " ".join(_JUNK), _JUNK),
    SuiteCase("clean", f"{_HANNOVER[0]} \n{_HANNOVER[1]}", _HANNOVER),
    SuiteCase("clean", "".join(f"{tip} \n" for tip in _TIPS[2:7]), _TIPS[2:7]),
    _one("clean", _JUNGE),
    SuiteCase(
        "clean",
        "Was pro Jahr10. Zudem pro Jahr um 0.3 %11. Der gängigen Theorie nach erfolgt der Anstieg.",
        (
            "Was pro Jahr10.",
            "Zudem pro Jahr um 0.3 %11.",
            "Der gängigen Theorie nach erfolgt der Anstieg.",
        ),
    ),
    _one("clean", "s. vorherige Anmerkung."),
    _one(
        "clean",
        "Mit Inkrafttreten des Mindestlohngesetzes (MiLoG) zum 01. Januar 2015 werden in Bezug "
        "auf den Einsatz von Leistungs.",
    ),
    SuiteCase("clean", "\n" + "\n".join(f"{item}  " for item in _CHEESE).rstrip(), _CHEESE),
    # -- pySBD's PDF rules (text extracted from PDFs: lines broken mid-sentence) -------------
    SuiteCase(
        "pdf",
        "\n   \n\n   http:www.babycentre.co.uk/midwives \n\n \n\n \n\n10 steps to a healthy "
        "pregnancy (German) \n\n10 Schritte zu einer gesunden Schwangerschaft \n \n"
        + "".join(f"{tip} \n" for tip in _TIPS)
        + " \n \nZehn einfach zu befolgende Tipps sollen Ihnen helfen, eine möglichst "
        "problemlose \nSchwangerschaft zu erleben und ein gesundes Baby auf die Welt zu bringen:  "
        "\n\n1. Planen und organisieren Sie die Zeit der Schwangerschaft frühzeitig!",
        (
            "http:www.babycentre.co.uk/midwives",
            "10 steps to a healthy pregnancy (German)",
            "10 Schritte zu einer gesunden Schwangerschaft",
            *_TIPS,
            "Zehn einfach zu befolgende Tipps sollen Ihnen helfen, eine möglichst problemlose "
            "Schwangerschaft zu erleben und ein gesundes Baby auf die Welt zu bringen:",
            "1. Planen und organisieren Sie die Zeit der Schwangerschaft frühzeitig!",
        ),
    ),
    SuiteCase(
        "pdf",
        "Schwangere Frauen sollten während der \nersten drei Monate eine tägliche Dosis von 400 "
        "Mikrogramm Folsäure zusätzlich nehmen. \nFolsäure befindet sich auch in einigen Gemüse- "
        "und Müslisorten.",
        (
            "Schwangere Frauen sollten während der ersten drei Monate eine tägliche Dosis von 400 "
            "Mikrogramm Folsäure zusätzlich nehmen.",
            "Folsäure befindet sich auch in einigen Gemüse- und Müslisorten.",
        ),
    ),
    SuiteCase(
        "pdf",
        "Andere \nFischsorten (z.B. Hai, Thunfisch, Aal und Seeteufel) weisen einen erhöhten "
        "Quecksilbergehalt \nauf und sollten deshalb in der Schwangerschaft nur selten verzehrt "
        "werden.",
        (
            "Andere Fischsorten (z. B. Hai, Thunfisch, Aal und Seeteufel) weisen einen erhöhten "
            "Quecksilbergehalt auf und sollten deshalb in der Schwangerschaft nur selten verzehrt "
            "werden.",
        ),
    ),
)
