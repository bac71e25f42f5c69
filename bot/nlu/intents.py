"""What the message wants, from keyword families."""

import re

from bot.nlu.patterns import Pattern
from bot.nlu.request import Intent
from bot.nlu.words import _fold

_RESCHEDULE = Pattern(
    r"(?<![ms]e )\b(?:deplac|decal|report|repouss)(?:er|e|ee|es|ees|ez|ons|erait|erais|erai|"
    r"ions|able)\b"
    r"|\bavanc(?:er|e|ee)\s+(?:mon|ma|le|la|l'|notre|un\s+peu|l'?\s?heure)"
    r"|\b(?:changer|modifier|change|modifie|changement|modification)\s+(?:(?:de|du|mon|ma|le|la|"
    r"l'|notre|d'|my|the|our|of)\s*)*(?:rdv|rendez\s+vous|date|heure|horaire|creneau|jour|"
    r"reservation|appointment|appt|booking|time|day)"
    r"|\bchanger\s+pour\b|\breschedul|\bpostpon|\brebook"
    r"|\b(?:move|push|shift|switch|swap|bring)\s+(?:my|the|our|this|that|it)\b"
    r"|\bmove\s+\w+'?s?\s+(?:appointment|appt|booking)"
)
# "my appointment on Monday, can we make it Tuesday instead?"
_INSTEAD = Pattern(r"\b(?:instead|make\s+it|a\s+la\s+place|plutot\s+que|rather\s+than)\b")
_EXPLICIT_CANCEL = Pattern(r"\b(?:annul|cancel|desist|decommand)")
_CANNOT_COME = Pattern(
    r"\b(?:pourrai|pourrais|peux|peut|pourra|pourrons|pouvons|vais|serai|serais|sera)\s+pas\s+"
    r"(?:pouvoir\s+)?(?:venir|honorer|etre\s+(?:la|present|presente|disponible|dispo)|"
    r"me\s+(?:rendre|deplacer|presenter)|y\s+aller|assister)"
    r"|\bne\s+(?:viendrai|viendra|viendrons|viens)\s+pas\b|\bempechement\b"
    r"|\b(?:can'?t|cannot|can\s+not|won'?t|will\s+not|unable\s+to|not\s+be\s+able\s+to|"
    r"couldn'?t|not\s+going\s+to)\s+(?:be\s+able\s+to\s+)?(?:make\s+it|come|attend|"
    r"be\s+there|make\s+(?:my|the|our|it))|\bcall(?:ing)?\s+off\b"
)
# "je ne peux pas le matin, plutôt l'après-midi": a preference, not a cancellation
_ALTERNATIVE = Pattern(r"\b(?:plutot|sinon|par\s+contre|mais|instead|rather|but|prefer)")
# "je ne peux pas jeudi, plutôt vendredi": what comes before the turn is ruled out
_UNAVAILABLE = Pattern(
    r"\b(?:peux|peut|pourrai|pourrais|pourra|suis|serai|serais)\s+pas\b|\bpas\s+dispo"
    r"|\b(?:can'?t|cannot|won'?t|not\s+available|unavailable)\b"
)
_MY_APPOINTMENT = Pattern(
    r"\b(?:mon|le|notre|my|the|our)\s+(?:rdv|rendez\s+vous|appointment|appt|booking)"
)
_CONFIRM = Pattern(
    r"\b(?:je|j'|nous)\s*(?:vous\s+|le\s+|la\s+)?(?:re)?confirm"
    r"|\bconfirm(?:e|ons)\s+(?:ma|mon|notre|le|la|pour|bien)\b"
    r"|\b(?:i|we)\s+(?:hereby\s+|can\s+)?confirm|\bconfirming\b|\bconfirmed\b"
    r"|\bje\s+serai\s+(?:bien\s+)?(?:la|present|presente)\b|\bj'y\s+serai\b"
    r"|\bnous\s+serons\s+(?:bien\s+)?la\b|\b(?:i'?ll|i\s+will|we'?ll)\s+be\s+there\b"
    r"|\bc'?\s?est\s+(?:bien\s+)?confirme\b"
)
# A question about one's own appointment asks for the list: a "when" word and an appointment of
# the sender's, in either order, within one sentence ("j'ai rendez-vous à quelle heure lundi ?",
# "c'est quand mon rdv", "what time is my appointment?").
_WHEN = (
    r"\b(?:quand|a\s+quelle\s+(?:heure|date)|quel\s+jour|quelle\s+(?:heure|date)|when|"
    r"what\s+(?:time|day|date))\b"
)
_OWN_APPOINTMENT = (
    r"\b(?:(?:mon|mes|notre|nos)\s+(?:\w+\s+)?|(?:j'?\s?ai|nous\s+avons|on\s+a|ai\s+je|avons\s+nous|"
    r"est\s+ce\s+que\s+j'?\s?ai)\s+(?:bien\s+)?(?:un\s+|une\s+|des\s+)?)(?:rdv|rendez\s+vous|"
    r"rendezvous|seance)s?\b"
    r"|\b(?:my|our)\s+(?:\w+\s+)?(?:appointment|appt|booking)s?\b"
    r"|\b(?:i|we)\s+(?:have|got|had)\s+(?:an?\s+|my\s+)?(?:appointment|appt|booking)s?\b"
    r"|\b(?:am\s+i|are\s+we)\s+(?:booked|scheduled|coming|expected)\b"
)
_SENTENCE = r"[^.?!;]{0,40}?"
_LIST = Pattern(
    rf"{_WHEN}{_SENTENCE}(?:{_OWN_APPOINTMENT})|(?:{_OWN_APPOINTMENT}){_SENTENCE}{_WHEN}"
    r"|\bmes\s+(?:\w+\s+){0,2}?(?:rdv|rendez\s+vous|rendezvous)"
    r"|\b(?:ai\s+je|est\s+ce\s+que\s+j'?\s?ai)\s+(?:bien\s+)?(?:un|des)\s+(?:rdv|rendez\s+vous)"
    r"|\bmy\s+(?:\w+\s+)?appointments\b|\bwhat\s+(?:appointments|bookings)\b"
    r"|\bdo\s+i\s+have\s+(?:an?|any)\s+(?:appointment|booking)|\b(?:list|show)\s+(?:me\s+)?my\b"
    r"|\b(?:l'?\s?heure|la\s+date|le\s+jour|l'?\s?horaire)\s+(?:de|du)\s+(?:mon|notre)\s+"
    r"(?:\w+\s+)?(?:rdv|rendez\s+vous)|\bremind\s+me\b"
)
# A condition states no wish: "… si vous avez une annulation", "if someone cancels", "en cas de
# désistement". It runs from "si"/"if" and a subject to the end of its clause. Polite requests
# ("si vous pouviez annuler", "s'il est possible de décaler", "if you could move it", "s'il vous
# plaît") and indirect questions ("savoir si") are no conditions.
_POLITE = (
    r"\s*(?:vous\s+|te\s+|est\s+|etait\s+|serait\s+|is\s+|was\s+|were\s+|'?s\s+)?(?:possible|"
    r"pouv\w*|peu[tx]|pourr\w*|voul\w*|voud\w*|plai\w*|could|can(?!'?t)|would|may|might|please|"
    r"don'?t\s+mind|ok|okay|alright|fine|convenient)\b"
)
_CLAUSE = r"[^,.;:!?]*?(?=[,.;:!?]|\b(?:je|j'|nous|i|i'?d|i'?ll|we|merci|thanks)\b|$)"
_CONDITION = Pattern(
    r"(?:\b(?:si|s')\s*(?:jamais\s+)?(?:il|ils|elle|on|quelqu'?\s?un|qqn|une?|des|le|la|les|c'|"
    r"ca|cela|personne|vous|je|j'|nous|tu)"
    r"|\b(?:if|in\s+case|should)\s+(?:there|someone|somebody|anyone|anybody|any|a|an|one|it|"
    rf"the|they|he|she|you|i|we))\b(?!{_POLITE}){_CLAUSE}"
    rf"|\b(?:au\s+cas\s+ou|en\s+cas\s+d'?|in\s+case\s+of){_CLAUSE}"
)
_INDIRECT_QUESTION = Pattern(
    r"\b(?:savoir|voir|demander|know|wonder|wondering|check|see|ask|asking)\s+$"
)
# a freed slot is something to book, not a cancellation: "vous avez eu une annulation ?"
_FREED_SLOT = Pattern(
    r"\b(?:avez|aurez|auriez|aviez|avez\s+vous|auriez\s+vous|a\s+t\s+il|y\s+a|y\s+aurait|"
    r"have|has|got|any)\s+(?:(?:eu|vous|il|un|une|des|de|d'|a|an|any|had|been)\s*)*"
    r"(?:annulations?|desistements?|cancellations?)\b"
)
_WAITING_LIST = Pattern(r"\b(?:liste\s+d'?\s?attente|waiting\s+list|waitlist)\b")


def mentions_waitlist(text: str) -> bool:
    """``liste d'attente``, ``waiting list``: the patient asks about waiting for a freed place."""
    return _WAITING_LIST.search(_fold(text)) is not None


def _blank_conditions(text: str) -> str:
    """The text without what is only a condition or a freed slot: no intent is read in them."""

    def blank(match: re.Match[str]) -> str:
        if _INDIRECT_QUESTION.search(text, max(0, match.start() - 12), match.start()):
            return match.group()  # "je voulais savoir si vous pouviez…" asks
        return " " * len(match.group())

    text = _CONDITION.sub(blank, text)
    return _FREED_SLOT.sub(lambda match: " " * len(match.group()), text)


_QUESTION = Pattern(
    r"\b(?:horaires?|ouverts?|ouvertes?|ouvrez|fermes?|fermez|fermee?s?|fermeture|adresse|"
    r"parking|garer|stationner|metro|prix|tarifs?|combien|coute|coutent|cout|rembours\w*|"
    r"mutuelle|carte\s+vitale|tiers\s+payant|secu|cheques?|especes|carte\s+bancaire|paiement|"
    r"payer|conventionn\w*|depassements?|honoraires|devis|renseignements?|infos?|informations?)\b"
    r"|\b(?:vous\s+faites|faites\s+vous|vous\s+prenez|prenez\s+vous|vous\s+acceptez|"
    r"acceptez\s+vous|c'?\s?est\s+ou|ou\s+(?:etes|se\s+trouve|vous\s+trouvez)|vous\s+etes\s+ou|"
    r"jusqu'?\s?a\s+quelle\s+heure|a\s+quelle\s+heure\s+(?:vous|ouvr|ferm)|combien\s+de\s+temps|"
    r"comment\s+(?:ca\s+se\s+passe|faire|venir))\b"
    r"|\b(?:open|opening|close|closing|closed|opening\s+hours|office\s+hours|address|"
    r"what\s+time\s+do\s+you|where\s+are\s+you|"
    r"located|parking|price|prices|pricing|cost|costs|how\s+much|fees?|insurance|payment|cash|"
    r"do\s+you\s+(?:accept|take|do|offer|treat)|how\s+long)\b"
)
# "j'arrive dans 5 minutes", "running late": news about today's visit, not a request
_ON_THE_WAY = Pattern(
    r"\b(?:j'?\s?arrive|(?:je\s+suis|serai)\s+en\s+retard|on\s+my\s+way|running\s+late|"
    r"(?:i'?ll|i\s+will)\s+be\s+late|stuck\s+in\s+traffic|dans\s+les\s+bouchons)\b"
)
_BOOKING = Pattern(
    r"\b(?:rdv|rendez\s+vous|rendezvous|rv|appointment|appt|book|booking|reserv\w*|creneaux?|"
    r"disponibles?|disponibilites?|dispos?|availab\w*|slots?|see\s+me|fit\s+me\s+in|"
    r"squeeze\s+me\s+in)\b"
)
_WEAK_BOOKING = Pattern(
    r"\b(?:possible|possibles|possibe|moyen|jouable|irait|venir|passer|come\s+in|come\s+by|"
    r"get\s+in|anything|any\s+chance|prendre)\b"
)
_SYMPTOM = Pattern(
    r"\b(?:mal\s+(?:a|aux)|douleurs?|rage\s+de\s+dents?|carie|abces|gonfle|saigne|cassee?|"
    r"perdu\s+(?:un|une|mon|ma)|pain|hurts?|toothache|broken|chipped|cracked|swollen|bleeding)\b"
)
_ASAP = Pattern(
    r"\b(?:(?:le|au)\s+plus\s+(?:tot|vite|rapidement)(?:\s+possible)?|des\s+que\s+possible|"
    r"rapidement|quickly|dans\s+les\s+plus\s+brefs\s+delais|sans\s+tarder|"
    r"en\s+urgence|urgent|urgente|urgemment|urgence|asap|as\s+soon\s+as\s+possible|earliest|"
    r"soonest|emergency|urgently|first\s+available|next\s+available|"
    r"(?:premier|prochain)e?\s+(?:creneau|rdv|rendez\s+vous|place)\s+(?:dispo|disponible|"
    r"libre|possible))\b"
)


def _wanted_from(text: str) -> int:
    """Where the wanted days start: after the turn of "je ne peux pas X, plutôt Y", else 0."""
    unavailable = _UNAVAILABLE.search(text)
    turn = unavailable and _ALTERNATIVE.search(text, unavailable.end())
    return turn.start() if turn else 0


def _intent(text: str, speaks_of_time: bool, wants_something: bool) -> Intent:
    """The intent, from the most specific keyword family to the least."""
    wish = _blank_conditions(text)
    if _RESCHEDULE.search(wish) or (_INSTEAD.search(wish) and _MY_APPOINTMENT.search(wish)):
        return Intent.RESCHEDULE
    if _EXPLICIT_CANCEL.search(wish):
        return Intent.CANCEL
    if _CANNOT_COME.search(wish):
        if not _ALTERNATIVE.search(wish):
            return Intent.CANCEL
        return Intent.RESCHEDULE if _MY_APPOINTMENT.search(wish) else Intent.BOOK
    if _CONFIRM.search(wish):
        return Intent.CONFIRM
    if _LIST.search(wish):
        return Intent.LIST
    # a cancellation only in a condition or as a freed slot is someone else's: a slot to take
    freed_slot = _EXPLICIT_CANCEL.search(text) is not None
    strong = _BOOKING.search(text) or _WAITING_LIST.search(text) or freed_slot
    if _QUESTION.search(text) and not strong:
        return Intent.QUESTION
    if _ON_THE_WAY.search(text) and not strong:
        return Intent.OTHER
    if strong or wants_something or _WEAK_BOOKING.search(wish) or _SYMPTOM.search(text):
        return Intent.BOOK
    return Intent.BOOK if speaks_of_time else Intent.OTHER
