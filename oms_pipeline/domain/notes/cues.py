"""Cue-word features for the local engine: what an operator would look for, per tag and language.

TF-IDF n-grams learn the phrasings in the corpus; these stems carry the domain knowledge that
transfers to phrasings the corpus does not have ("send it to my son as a *gift*"). Each tag gives two
features: a cue is affirmed somewhere, and a cue comes right after a negation ("no need for gift wrap",
"bitte nicht stornieren"). The classifier learns what the negated form means per tag (for
``no_price_on_slip`` the negation *is* the request).
"""

from __future__ import annotations

import re

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin

from oms_pipeline.domain.notes.dates import _DELIVER, _HOLD

# German puts the verb last: "bis Samstag warten" is a hold, not a deadline.
_HOLD_VERBS = r"\b(?:zurückhalten|zurückstellen|lagern|warten|aufbewahren|im urlaub|verreist|nicht da)\b"
_NOT_HOLD_VERB = r"(?![^.,;!?\n]{0,25}?" + _HOLD_VERBS + ")"

CUES: dict[str, str] = {
    "gift": r"gift|present\b|presents\b|geschenk|überrasch|surprise|cadeau|regalo|wrap|verpack|einpack|grußkart"
            r"|gruesse|card|karte\b|birthday|geburtstag|anniversary|jahrestag|verschenk|hochzeitstag|muttertag"
            r"|schleife|offrir|emball|anniversaire|carte|noël|paquet cadeau",
    "no_price_on_slip": r"pric|preis|receipt|invoice|rechnung|\bbill\b|amount|betr[äa]g|what i paid|how much|cost"
                        r"|prix|factur|precio|quittung|total|ticket de caisse|montant",
    "delivery_instructions": r"leave|drop|neighbo|nachbar|next door|gate|\btor|door|tür|bell|klingel|knock|klopf"
                             r"|\bring\b(?!\s+(?:me|us)\b)|buzz|porch|garage|entrance|eingang|abstell|abgeb"
                             r"|ablage|\bhof\b|hinterhof"
                             r"|reception|mailroom|front desk|\bcode|\bflat\b|stock\b|briefkasten|carport|shed|bin\b"
                             r"|planter|déposer|laisser|dejar|portero|terrasse|floor|lift|elevator|aufzug|dog"
                             r"|hund|paketkasten|mailbox"
                             r"|\bunit\b|treppe|stairs|steps|hedge|courtyard|alley|einfahrt|intercom|hinten herum"
                             r"|gardien|concierge|loge|voisin|digicode|sonne|frapp|boîte aux lettres|portail"
                             r"|étage|\bcour\b|entrée|accès|lobby|foyer|vestibule|doorman|caretaker|apartment"
                             r"|appartement|bâtiment|interphone",
    "signature_required": r"sign|unterschr|signatur|quittier|persönlich|in person|unattended|hand it"
                          r"|übergeb|adult|main propre|mains propres|en personne|sans surveillance|remettre",
    # Dates: a cue phrase followed by a date expression (the extractor's own patterns), plus words.
    "deliver_by": "(?:" + _DELIVER.pattern + ")" + _NOT_HOLD_VERB
                  + r"|deadline|spätestens|in time|rechtzeitig|no later|latest|da sein|au plus tard|à temps"
                    r"|date limite",
    "hold_until": _HOLD.pattern + r"|\bbis\b[^.,;!?\n]{0,30}?" + _HOLD_VERBS
                  + r"|not before|nicht vor|\bhold\b|zurückhalt|zurückstell|verschieben|postpone|delay|lagern"
                    r"|back on|moving in"
                  r"|away until|away till|be away|urlaub|verreist|(?:send|ship|deliver) (?:before"
                  r"|earlier)\s*(?:[.,;!:)]|$)"
                  r"|on holiday|out of town|not home|nicht da|erst ab|frühestens|no earlier|pas avant"
                  r"|en vacances|absents?\b|de retour|attendre|garder le colis",
    "expedite": r"urgent|dringend|eilig|asap|rush|express|overnight|next day|quick|\bfast|schnell|hurry|sofort"
                r"|today|right away|as soon as|so bald|aufpreis|pay extra|pay more|prioriti[sz]|time.sensitive"
                r"|time.critical"
                r"|heute noch|bevorzugt|vorziehen|fast.track|au plus vite|dès que possible|rapide|pressé"
                r"|faire vite",
    "address_change": r"address|adresse|moved|umgezogen|umzug|\bzip|postcode|postal|postleitzahl|\bplz\b"
                      r"|house number|hausnummer|street|straße|office|work|arbeit|firma|anschrift|berichtig"
                      r"|flat number|déménag|code postal|bureau|travail|numéro de rue",
    "cancel_request": r"cancel|storn|refund|\bvoid|geld zurück|don'?t want|nicht mehr|changed my mind|annul"
                      r"|by mistake|versehen|doppelt|duplicate|accident|no longer|stop this|löschen|zurücktret"
                      r"|nichts mehr|scrap|\bkill\b|retract|withdraw|rückgängig|widerruf|annullier"
                      r"|rembours|n'en veux plus|plus besoin|changé d'avis|par erreur|en double|abbrech"
                      r"|zurückzieh|money back",
    # "add a card", "remove the price tags", "falsche Adresse" belong to other tags: those verbs only
    # count when they do not take a card, a price or an address.
    "item_change": r"size|größe|colou?r|farbe|swap|exchange|tausch|switch|hinzuf|streich"
                   r"|\badd\b(?!\s+(?:an?\s+|some\s+)?(?:gift|card|note|message|ribbon|bow|tissue))"
                   r"|remove(?!\s+(?:the\s+|all\s+)?pric)|(?<!schilder )(?<!preise )entfern"
                   r"|ajout(?!\w*\s+(?:une?\s+)?(?:petite\s+)?carte)"
                   r"|statt|variante|wrong (?:size|colou?r)|falsche (?:größe|farbe|variante)|another|one more"
                   r"|noch ein|(?<!karte )(?<!kärtchen )dazu|substitut"
                   r"|replace|quantit"
                   r"|\bqty\b|menge|anzahl|a second\b|\binstead\b(?!\s+of)|\brather\b"
                   r"|taille|couleur|échang|remplac|retirer|à la place|trompé",
    "ship_complete": r"together|zusammen|one box|one (?:package|parcel|shipment)|single|einem paket|einer sendung"
                     r"|split|teilliefer|aufteil|complete|komplett|vollständig|at once|auf einmal|whole order"
                     r"|all items|in stock|auf lager|mehreren|multiple|partial|separate|one delivery|as one"
                     r"|verfügbar|available"
                     r"|consolidat|combine|gesammelt|gebündelt|ensemble|en une (?:seule )?fois|un seul colis"
                     r"|une seule livraison|partielle|diviser|séparer|plusieurs|disponible|einer lieferung"
                     r"|einzeln|getrennt|in one go|en même temps|one (?:delivery|drop-off)|in pieces|in parts"
                     r"|(?:until|till|wenn|bis|quand) (?:everything|alles|tout)",
    "local_pickup": r"pick ?it up|pick ?up|collect|abhol|hole .{0,20}ab\b|selbst|come by|vorbei|in store|im laden"
                    r"|nearby|local|click|retrait|recoger|stopping by|come get|coming by|grab|mitnehm|counter"
                    r"|récupér|chercher|en magasin|boutique|sur place|passe la prendre|j'habite à côté"
                    r"|drop by|pop in|swing by|come (?:in|to the (?:shop|store))|nehme .{0,12}mit\b",
    "contact_customer": r"call\b|\bphone|text me|e-?mail|contact|kontakt|reach|\banruf|rückruf|zurückruf|melden"
                        r"|bescheid|let me know|get back|in touch|talk|speak|question|frage|tell me|ring me"
                        r"|ring us|callback"
                        r"|call back|schreiben sie|whatsapp|rücksprache|give me a ring|drop me a line"
                        r"|appel|téléphon|contacte|rappel|prévenez|au courant|parler à|recontact"
                        r"|nachricht|antwort|(?<!gift )(?<!card )message(?!\s*:)|écri|ping me",
}
_NEGATION = (r"(?:\bno need (?:for|to)(?: an?| the)?\b|\bpas (?:besoin|la peine)(?: de| d'| du)?|\binutile de\b"
             r"|\bfine to\b|\bhappy to\b|\bok to\b|\bokay to\b|\bno\b|\bnot\b|n't\b|\bnever\b|\bnicht\b|\bkein\w*"
             r"|\bwithout\b|\bohne\b|\bpas\b|\bsin\b|\bsans\b|\bjamais\b|\binutile\b|\baucune?\b)")
# A negation reaches at most two words ahead and never across punctuation ("nicht einfach abstellen,
# jemand unterschreibt" negates the drop-off, not the signature).
# "prices on the slip are fine", "Adresse stimmt": the cue is mentioned only to say nothing is needed.
_APPROVAL = re.compile(
    r"^\w*(?:[\s,]+[\w']+){0,3}?[\s,]+(?:is|are|ist|sind|looks?|seems?|est|sont|c'est)\s+(?:all\s+|totally\s+|)"
    r"(?:fine|ok|okay|correct|right|in ordnung|good|kein problem|correcte?|bonne?|parfait)\b"
    r"|^\w*[\s,]+(?:[\w']+\s+){0,2}?(?:passt|stimmt)\b(?!\s+nicht)"
    r"|^\w*(?:[\s,]+[\w']+){0,3}?[\s,]+(?:beiliegen|can stay|mit rein|drin sein|dabei sein)\b"
    r"|^\w*\s+in\b(?!\s+\w)",  # "leave the receipt in"
    re.IGNORECASE,
)
# German negates after the verb: "ich hole es nicht ab", "ist nicht eilig". Only for cues that are
# verbs or adjectives: "Preis nicht sichtbar" is a no-price request, "PLZ stimmt nicht" a change.
_POST_NEGATED_TAGS = {"local_pickup", "contact_customer", "expedite", "signature_required", "gift"}
_POST_NEGATION = re.compile(r"^\w*(?:\s+[\w']+){0,2}?\s+(?:nicht|isn't|is not|not|pas)\b(?!\s+mehr)",
                            re.IGNORECASE)
_COMPILED = [re.compile(f"(?:{p})", re.IGNORECASE) for p in CUES.values()]
_POST = [tag in _POST_NEGATED_TAGS for tag in CUES]
# French elides an article or pronoun into the cue word: "pas besoin d'emballage", "inutile de m'appeler".
_NEGATED = [re.compile(_NEGATION + r"(?:[ \t]+[\w']+){0,2}?[ \t]+(?:[dlmjnst]')?(?:" + p + ")", re.IGNORECASE)
            for p in CUES.values()]


class CueFeatures(BaseEstimator, TransformerMixin):
    """Two binary features per tag: a cue word is affirmed (not negated); a cue word follows a negation."""

    def __init__(self, weight: float = 1.0):
        self.weight = weight

    def fit(self, notes, y=None):  # noqa: D401 - sklearn API
        """Stateless: nothing to learn."""
        return self

    def transform(self, notes) -> sparse.csr_matrix:
        """A sparse matrix of shape (n_notes, 2 * n_tags)."""
        rows = np.zeros((len(notes), 2 * len(_COMPILED)), dtype=np.float64)
        for i, note in enumerate(notes):
            for j, (cue, neg, post) in enumerate(zip(_COMPILED, _NEGATED, _POST, strict=True)):
                matches = list(cue.finditer(note))
                if not matches:
                    continue
                hits = [m.start() for m in matches]
                approved = sum(1 for m in matches if _APPROVAL.match(note[m.end():m.end() + 40])
                               or (post and _POST_NEGATION.match(note[m.end():m.end() + 30])))
                negated_ends = {m.end() for m in neg.finditer(note)}
                negated = sum(1 for start in hits if any(start < end <= start + 40 for end in negated_ends))
                # Affirmed: some occurrence is not right after a negation ("don't cancel" is not a cancel).
                if negated + approved < len(hits):
                    rows[i, 2 * j] = self.weight
                if negated:
                    rows[i, 2 * j + 1] = self.weight
        return sparse.csr_matrix(rows)
