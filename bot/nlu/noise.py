"""What only looks like a date: greetings, symptom durations, ruled-out days."""

from bot.nlu.patterns import Pattern
from bot.nlu.words import _CARDINAL_WORDS, _WEEKDAYS

# greetings and wishes that name a part of the day or a holiday without asking for it
_GREETING = Pattern(
    r"\b(?:bonne|bon|good|have\s+a\s+(?:nice|good|great|lovely))\s+(?:fin\s+de\s+)?"
    r"(?:journee|soiree|nuit|apres\s*midi|aprem|matinee|week\s*end|semaine|annee|fetes?|"
    r"morning|afternoon|evening|night|day|weekend|week|holidays?)\b"
    r"|\b(?:joyeux|joyeuses|merry|happy)\s+(?:noel|paques|fetes|christmas|easter|new\s+year|"
    r"holidays?)\b|\bmerci\s+d'?\s?avance\b"
)
# how long a symptom has lasted is no request: "mal depuis hier", "since Monday"
_SINCE = Pattern(
    r"\b(?:depuis|since|il\s+y\s+a|ca\s+fait)\s+(?:"
    r"(?:ce|cette|this|last|hier|yesterday|avant\s+hier)\b(?:\s+(?:matin|soir|nuit|night|"
    r"morning|evening|week|semaine))?"
    rf"|(?:le\s+|la\s+)?(?:{_WEEKDAYS})\b"
    rf"|(?:\d+|{_CARDINAL_WORDS}|quelques|plusieurs|a\s+few|several)\s+(?:jours?|semaines?|"
    r"mois|days?|weeks?|months?|heures?|hours?)\b)"
)
# "sauf lundi", "pas le matin": what follows is ruled out, not asked for
_NEGATION = (
    r"(?P<neg>\b(?:sauf|except(?:e|ed)?|hormis|a\s+part|other\s+than|but\s+not|pas\s+le|"
    r"pas\s+la|pas\s+en|not\s+on|not\s+in\s+the)\s+(?:le\s+|la\s+|en\s+|the\s+|on\s+)?)?"
)
