"""Builds the labelled order-note corpus (``corpus.jsonl``) from seeded templates.

Run ``python -m oms_pipeline.sandbox.note_corpus`` to regenerate; the output is byte-stable
for a given seed. Each template is a sentence *structure* with alternations (``{a|b|}``) and slots
(``<DD>`` a deliver-by date, ``<HD>`` a hold-until date, ``<ITEM>``, ``<MSG>``...). Templates are
dealt round-robin into six buckets per (language, intent); bucket 5 is the held-out test split and
buckets 0-4 are the cross-validation groups. Multi-intent notes only combine templates of the same
bucket, so no template ever appears on both sides of a split: the held-out F1 measures phrasing the
model has not seen, not re-rendered sentences.

Languages: English (about half the notes), German and French, the languages the store sells in.
About a fifth of the rendered parts carry a typo (dropped, swapped or doubled letter), and the
no-intent templates are mostly negations that mention an intent's words ("no need for gift wrap",
"pas besoin de m'appeler").

Expected dates are computed here from the date *spec* (weekday, day of month, offset, absolute),
independently of :mod:`oms_pipeline.domain.notes.dates`, with the semantics documented there.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

# What the local engine trains on, beside it in domain/notes.
CORPUS_PATH = Path(__file__).resolve().parents[1] / "domain" / "notes" / "corpus.jsonl"
SEED = 20260506
BUCKETS = 6
TEST_BUCKET = 5

# (language, tags, template). Tags use the NoteTag values. "" tags = no intent (negations, chatter).
T = tuple[str, tuple[str, ...], str]
TEMPLATES: list[T] = [
    # -- gift -----------------------------------------------------------------------------------
    ("en", ("gift",), "{this is|it's|its} a gift{| for my <REL>}{|, please wrap it|, gift wrap please}"),
    ("en", ("gift",), "{please|pls|} gift wrap {the <ITEM>|this|everything|it}"),
    ("en", ("gift",), "{Birthday|Christmas|Anniversary|Graduation} present for my <REL>{|!| :)}"),
    ("en", ("gift",), "can you add a {gift card|card|note} {saying|that says|with} \"<MSG>\""),
    ("en", ("gift",), "{sending|shipping} this {directly |straight |}to my <REL> as a {surprise|gift|present}"),
    ("en", ("gift",), "gift message: <MSG>"),
    ("en", ("gift",), "{please |}include a {little |}note: <MSG>"),
    ("de", ("gift",), "{das ist|es ist|ist} ein Geschenk{| für meine <RELDE>}{|, bitte einpacken}"),
    ("de", ("gift",), "bitte {als Geschenk verpacken|geschenkverpackt schicken|schön einpacken}"),
    ("de", ("gift",), "{Geburtstagsgeschenk|Weihnachtsgeschenk|Geschenk} für {meine <RELDE>|meinen Mann|meinen Sohn}"),
    ("de", ("gift",), "Grußkarte {bitte |}mit dem Text: <MSGDE>"),
    ("de", ("gift",), "{bitte |}eine Karte beilegen{|:} \"<MSGDE>\""),
    ("de", ("gift",), "{soll eine|als} Überraschung für {meine <RELDE>|einen Freund}{| sein}"),
    # -- no_price_on_slip ------------------------------------------------------------------------
    ("en", ("no_price_on_slip",), "{please |pls |}{don't|do not} {include|put} {the |}{prices|price|receipt|invoice} "
                                  "{in the box|on the packing slip|in the parcel|}"),
    ("en", ("no_price_on_slip",), "no {prices|price tags|receipt|invoice} {please|in the package|on the slip}"),
    ("en", ("no_price_on_slip",), "{please |}remove {the |all |}price{s| tags| labels} {before shipping|from"
                                  " the box|}"),
    ("en", ("no_price_on_slip",), "{the recipient|they|my <REL>} {shouldn't|should not|must not} see {the price"
                                  "|what I paid"
                                  "|how much it cost}"),
    ("en", ("no_price_on_slip",), "{packing slip|slip} without {prices|amounts|the total}{ please|, thanks|}"),
    ("en", ("no_price_on_slip",), "{can you |could you |}leave the {invoice|receipt|bill} out of the {box"
                                  "|parcel|package}"),
    ("de", ("no_price_on_slip",), "{bitte |}keine {Rechnung|Preise|Preisschilder} {beilegen|in das Paket|ins Paket}"),
    ("de", ("no_price_on_slip",), "Lieferschein {bitte |}ohne {Preise|Preisangaben|Beträge}"),
    ("de", ("no_price_on_slip",), "{bitte |}die Rechnung {nicht beilegen|separat per E-Mail schicken|weglassen}"),
    ("de", ("no_price_on_slip",), "{der Beschenkte|meine <RELDE>|sie} soll den Preis nicht sehen"),
    ("de", ("no_price_on_slip",), "{bitte |}Preisschilder entfernen"),
    # -- delivery_instructions ------------------------------------------------------------------
    ("en", ("delivery_instructions",), "{please |pls |}leave {it |the parcel |the package |}{at|by} the <PLACE>"),
    ("en", ("delivery_instructions",), "{if I'm|if we're|if nobody is} not {home|in}, {leave it with|give it to} "
                                       "{the neighbour|the neighbor|my neighbour|next door}{| at number <N>}"),
    ("en", ("delivery_instructions",), "gate code {is |}<CODE>{|, then <PLACE>}"),
    ("en", ("delivery_instructions",), "{the |}doorbell {doesn't|does not|dont} work{|, please knock| - call instead"
                                       "|, knock loudly}"),
    ("en", ("delivery_instructions",), "{please |}{ring|buzz} {flat|apartment|unit} <N>{| twice| and wait}"),
    ("en", ("delivery_instructions",), "{drop|put} {it |}{behind|under|in} the {bin|planter|porch bench|blue box}"),
    ("en", ("delivery_instructions",), "{deliver|bring it} to the {side|back|rear} entrance{|, not the front}"),
    ("de", ("delivery_instructions",), "{bitte |}{beim Nachbarn|bei den Nachbarn|bei Familie Meier} abgeben"),
    ("de", ("delivery_instructions",), "{bitte |}{vor der|an der} {Haustür|Garage|Hintertür|Terrasse} abstellen"),
    ("de", ("delivery_instructions",), "Torcode {ist |}<CODE>{|, dann links}"),
    ("de", ("delivery_instructions",), "{die |}Klingel {geht nicht|ist kaputt|funktioniert nicht}{|, bitte klopfen}"),
    ("de", ("delivery_instructions",), "Ablageort: {Garage|Gartenhaus|Carport|Briefkasten}"),
    ("de", ("delivery_instructions",), "{bitte |}im {Hinterhof|Hof} {abgeben|abstellen}{|, <N>. Stock}"),
    # -- signature_required ---------------------------------------------------------------------
    ("en", ("signature_required",), "{please |}{require|request|get} a signature{| on delivery| at the door}"),
    ("en", ("signature_required",), "{someone|an adult|I} {must|has to|needs to|will} sign for {it|the parcel|this}"),
    ("en", ("signature_required",), "{do not|don't|please don't} leave {it |}unattended{|, signature needed}"),
    ("en", ("signature_required",), "{signature|signed} delivery{| only| please}"),
    ("en", ("signature_required",), "{expensive item|high value}, {needs|requires} {a signature|signing}"),
    ("en", ("signature_required",), "hand it to {me|a person} {in person|directly}, {no drop off|nobody else}"),
    ("de", ("signature_required",), "{bitte |}nur gegen Unterschrift{| zustellen| abgeben}"),
    ("de", ("signature_required",), "{bitte |}persönlich übergeben{|, nicht abstellen}"),
    ("de", ("signature_required",), "{Zustellung|Lieferung} mit Unterschrift{| bitte}"),
    ("de", ("signature_required",), "{nicht|bitte nicht} {vor der Tür|einfach} abstellen, {ich|jemand}"
                                    " unterschreibe{|n}"),
    ("de", ("signature_required",), "Empfang {muss|soll} {quittiert|unterschrieben} werden"),
    # -- deliver_by -----------------------------------------------------------------------------
    ("en", ("deliver_by",), "{I |we |}{need|needs|must have} {it|this|the <ITEM>} by <DD>"),
    ("en", ("deliver_by",), "{must|has to|needs to} arrive {no later than|by} <DD>{| please}"),
    ("en", ("deliver_by",), "{it's|this is} for {a wedding|an event|a party} on <DD>, {please make sure it arrives"
                            "|it has to be there|needs to be delivered} {in time|}"),
    ("en", ("deliver_by",), "{please |}deliver {before|prior to} <DD-1>"),
    ("en", ("deliver_by",), "{can you|could you|will you} get it {here|to me} by <DD>?"),
    ("en", ("deliver_by",), "{deadline|latest delivery}: <DD>"),
    ("de", ("deliver_by",), "{ich brauche|wir brauchen} {es|das|die Sachen} bis <DDDE>"),
    ("de", ("deliver_by",), "{muss|sollte} {spätestens|bis} <DDDE> {ankommen|da sein|geliefert werden}"),
    ("de", ("deliver_by",), "{bitte |}vor <DDDE-1> liefern"),
    ("de", ("deliver_by",), "Lieferung {bitte |}bis spätestens <DDDE>"),
    ("de", ("deliver_by",), "{Geburtstag|Hochzeit|Feier} ist am <DDDE>, {bitte rechtzeitig|muss bis dahin da sein}"),
    # -- hold_until -----------------------------------------------------------------------------
    ("en", ("hold_until",), "{please |}{don't|do not} ship {before|until} <HD>"),
    ("en", ("hold_until",), "{we're|I'm|we are|I am} away until <HD>{|, please hold it|, hold the order}"),
    ("en", ("hold_until",), "{please |}hold {the order|my order|it} until <HD>"),
    ("en", ("hold_until",), "{ship|send it} {only |}after <HD+1>{| please| thx}"),
    ("en", ("hold_until",), "no earlier than <HD>{| please}"),
    ("en", ("hold_until",), "{could you|can you|please} wait until <HD> {to ship|before shipping|to send it}"),
    ("de", ("hold_until",), "{bitte |}nicht vor <HDDE> {versenden|liefern|schicken}"),
    ("de", ("hold_until",), "{bitte |}erst ab <HDDE> {versenden|liefern|zustellen}"),
    ("de", ("hold_until",), "{wir sind|ich bin} bis <HDDE> {im Urlaub|verreist|nicht da}{|, bitte zurückhalten}"),
    ("de", ("hold_until",), "{bitte |}nach <HDDE+1> {liefern|versenden}"),
    ("de", ("hold_until",), "{Versand|Lieferung} {bitte |}frühestens <HDDE>"),
    # -- expedite -------------------------------------------------------------------------------
    ("en", ("expedite",), "{this is |it's |}{urgent|very urgent|super urgent}{|!|!!| please}"),
    ("en", ("expedite",), "{please |pls |}ship {asap|as soon as possible|right away|today}"),
    ("en", ("expedite",), "{can you|could you|please} {upgrade to|use} {express|overnight|next day} {shipping"
                          "|delivery}"),
    ("en", ("expedite",), "{rush order|rush this please|in a hurry}{|, thanks|!}"),
    ("en", ("expedite",), "{I'll|I will|happy to} pay {extra|more} for faster {shipping|delivery}"),
    ("en", ("expedite",), "{need|needs} {it|this} {really |}{quickly|fast|urgently}"),
    ("de", ("expedite",), "{bitte |}{dringend|eilig|schnellstmöglich}{| versenden| liefern}"),
    ("de", ("expedite",), "{es ist|ist} {sehr |}eilig{|!|, danke}"),
    ("de", ("expedite",), "{bitte |}{Expressversand|Express} {wenn möglich|bitte|}"),
    ("de", ("expedite",), "{ich zahle|gerne} {auch |}{mehr|den Aufpreis} für {schnelleren|Express-}Versand"),
    ("de", ("expedite",), "{bitte |}so schnell wie möglich {schicken|versenden|liefern}"),
    # -- address_change -------------------------------------------------------------------------
    ("en", ("address_change",), "{I |we |}{moved|have moved|just moved}{|, please} {update|change} the"
                                " {shipping |}address"
                                "{| to <STREET>}"),
    ("en", ("address_change",), "{wrong|incorrect} address{| entered|!}{|, it should be <STREET>}"),
    ("en", ("address_change",), "{please |}{ship|send} to {my work|my office|a different} address {instead|}"),
    ("en", ("address_change",), "{the |}{zip|postcode|postal code} is wrong, {it's|should be} <ZIP>"),
    ("en", ("address_change",), "new address: <STREET>"),
    ("en", ("address_change",), "{typo|mistake} in {my|the} {street|address|house number}{|, sorry}"),
    ("de", ("address_change",), "{bitte |}{die |}Lieferadresse ändern{|: <STREETDE>| auf <STREETDE>}"),
    ("de", ("address_change",), "{falsche|fehlerhafte} Adresse {angegeben|eingegeben}{|, richtig ist <STREETDE>}"),
    ("de", ("address_change",), "{ich bin|wir sind} umgezogen{|, neue Adresse: <STREETDE>}"),
    ("de", ("address_change",), "{bitte |}an {meine Arbeitsadresse|die Firma|eine andere Adresse} schicken"),
    ("de", ("address_change",), "{die |}Postleitzahl {ist falsch|stimmt nicht}, {richtig|korrekt} ist <ZIP>"),
    # -- cancel_request -------------------------------------------------------------------------
    ("en", ("cancel_request",), "{please |pls |}cancel {my|this|the} order{|, thanks| asap}"),
    ("en", ("cancel_request",), "{I|we} {want|would like|need} to cancel{| this| my order}"),
    ("en", ("cancel_request",), "{ordered by mistake|accidental order|duplicate order}, {please cancel|cancel"
                                " it|void it}"),
    ("en", ("cancel_request",), "{I |}{changed my mind|don't want it anymore|no longer need it}{|, refund please}"),
    ("en", ("cancel_request",), "{can|could} {you|I} {still |}cancel{| this| the order}?"),
    ("en", ("cancel_request",), "{please |}{refund and cancel|stop this order|don't send it, cancel}"),
    ("de", ("cancel_request",), "{bitte |}{Bestellung|die Bestellung} stornieren{|, danke}"),
    ("de", ("cancel_request",), "{ich möchte|wir möchten} {die Bestellung |}stornieren"),
    ("de", ("cancel_request",), "{aus Versehen|versehentlich|doppelt} bestellt, bitte {stornieren|löschen}"),
    ("de", ("cancel_request",), "{brauche|will} {es|das} nicht mehr{|, bitte Geld zurück}"),
    ("de", ("cancel_request",), "Storno {bitte|!|}"),
    # -- item_change ----------------------------------------------------------------------------
    ("en", ("item_change",), "{please |can you |}{change|switch|swap} the size to <SIZE>"),
    ("en", ("item_change",), "{I |}{ordered|picked} the wrong {size|colour|color}, {can I have|I need|please"
                             " send} <COLOR>"
                             " instead"),
    ("en", ("item_change",), "{please |}{exchange|swap} the <ITEM> for {a|the} <COLOR> one"),
    ("en", ("item_change",), "{can you|could you} {add|include} {another|one more|a second} <ITEM> {to the order|}"),
    ("en", ("item_change",), "{please |}remove the <ITEM> from {my|the} order"),
    ("en", ("item_change",), "{actually|sorry}, {I meant|I wanted} size <SIZE>{|, not the other one}"),
    ("de", ("item_change",), "{bitte |}{die Größe|Größe} {auf <SIZE> ändern|<SIZE> statt der bestellten}"),
    ("de", ("item_change",), "{bitte |}{die Farbe|Farbe} {ändern|tauschen}{|: <COLORDE>| auf <COLORDE>}"),
    ("de", ("item_change",), "{ich habe|hab} die falsche {Größe|Farbe|Variante} bestellt"),
    ("de", ("item_change",), "{bitte |}noch {ein|einen|eine} <ITEMDE> {hinzufügen|dazu packen}"),
    ("de", ("item_change",), "{bitte |}<ITEMDE> {aus der Bestellung |}{entfernen|streichen}"),
    # -- ship_complete --------------------------------------------------------------------------
    ("en", ("ship_complete",), "{please |}{ship|send} {everything|it all|all items} {together|in one box|at once}"),
    ("en", ("ship_complete",), "{I'd rather|I prefer to|I want to} wait {and get|for} {everything|all items} in one "
                               "{shipment|parcel|delivery}"),
    ("en", ("ship_complete",), "{no|don't} split {shipments|shipping|the order}{| please}"),
    ("en", ("ship_complete",), "{only ship|ship} when {everything|all items|the whole order} {is in stock|is available"
                               "|is ready}"),
    ("en", ("ship_complete",), "{one|a single} {package|parcel|box} {only|please}"),
    ("en", ("ship_complete",), "{hold|keep} {everything|the order} until {it's|it is} complete"),
    ("de", ("ship_complete",), "{bitte |}alles {zusammen|in einem Paket|auf einmal} {schicken|versenden|liefern}"),
    ("de", ("ship_complete",), "{keine|bitte keine} Teillieferung{|en}"),
    ("de", ("ship_complete",), "{erst |}versenden, wenn alles {da|verfügbar|auf Lager} ist"),
    ("de", ("ship_complete",), "{lieber|gerne} {komplett|vollständig} {liefern|in einer Sendung}"),
    ("de", ("ship_complete",), "{bitte |}nicht {aufteilen|in mehreren Paketen schicken}"),
    # -- local_pickup ---------------------------------------------------------------------------
    ("en", ("local_pickup",), "{I'll|I will|we'll|we will} {pick it up|collect it|come get it} {in store|from the shop|"
                              "myself|}"),
    ("en", ("local_pickup",), "{local |in-store |store }pick{ |-|}up{| please| instead of shipping}"),
    ("en", ("local_pickup",), "{no need to ship|don't ship it|don't post it}, {I live nearby|I'm local|I'll come by}"),
    ("en", ("local_pickup",), "{can I|could I} {collect|pick up} {it|the order} {on <DAYNAME>|tomorrow|this weekend}?"),
    ("en", ("local_pickup",), "{collection|click and collect|click & collect}{| please| order}"),
    ("en", ("local_pickup",), "{I'm|I am} {coming|stopping} by the {store|shop|warehouse} to get it"),
    ("de", ("local_pickup",), "{ich hole|wir holen} {es|die Bestellung|das} {selbst |}ab"),
    ("de", ("local_pickup",), "{Abholung|Selbstabholung} {im Laden|im Geschäft|vor Ort}{| bitte}"),
    ("de", ("local_pickup",), "{bitte nicht|nicht} {versenden|verschicken}, {ich komme vorbei|hole es ab}"),
    ("de", ("local_pickup",), "{kann ich|können wir} {es|die Ware} {am <DAYNAMEDE>|morgen|am Wochenende} abholen?"),
    ("de", ("local_pickup",), "{Click & Collect|Abholen im Laden}"),
    # -- contact_customer -----------------------------------------------------------------------
    ("en", ("contact_customer",), "{please |pls |}{call|phone|text} me{| before shipping| before you send it}"
                                  "{| on <PHONE>| at <PHONE>}"),
    ("en", ("contact_customer",), "{please |}{email|contact|reach out to} me {about|regarding} {the order|this|sizing}"
                                  "{| at <EMAIL>}"),
    ("en", ("contact_customer",), "{I have|quick} {a question|questions} {about|on} the <ITEM>, {can someone"
                                  "|could you} "
                                  "{get back to me|call me}"),
    ("en", ("contact_customer",), "{let me know|tell me} {if|when} {it's out of stock|there's a delay|it ships}"),
    ("en", ("contact_customer",), "{need to|want to} {talk|speak} to {someone|customer service|a person} {first|}"),
    ("en", ("contact_customer",), "{get in touch|reach me} {before dispatch|before shipping}{| on <PHONE>}"),
    ("de", ("contact_customer",), "{bitte |}{rufen Sie mich an|melden Sie sich}{| unter <PHONE>}{| vor dem Versand}"),
    ("de", ("contact_customer",), "{bitte |}{kurz |}{per E-Mail|telefonisch} {melden|Bescheid geben}{| an <EMAIL>}"),
    ("de", ("contact_customer",), "{ich habe eine Frage|Frage} zu{r Größe| <ITEMDE>}, bitte {kontaktieren"
                                  "|zurückrufen}"),
    ("de", ("contact_customer",), "{bitte |}Bescheid geben, {falls|wenn} {es Verzögerungen gibt|etwas fehlt}"),
    ("de", ("contact_customer",), "{Rückruf|Kontakt} {erwünscht|bitte}{| unter <PHONE>}"),
    # -- more phrasings per intent (so each bucket holds several structures) ---------------------
    ("en", ("gift",), "{it's|this is} for my <REL>'s {birthday|anniversary|graduation}{|, can you wrap it}"),
    ("en", ("gift",), "{surprise|present} for {someone special|my <REL>}, {please make it look nice|nice"
                      " wrapping please"
                      "|}"),
    ("en", ("gift",), "{write|put} \"<MSG>\" on the {card|gift tag}"),
    ("de", ("gift",), "{bitte |}{mit|in} Geschenkpapier {einpacken|verpacken}"),
    ("de", ("gift",), "{ist zum|für den} {Geburtstag|Hochzeitstag|Muttertag} {meiner <RELDE>|von meinem Vater}"),
    ("en", ("gift", "no_price_on_slip"), "{it's|this is} a {gift|present} so {no prices|hide the price"
                                         "|no invoice} please"),
    ("en", ("no_price_on_slip",), "{please |}{hide|omit} {the |}{prices|cost|amounts} on the {packing slip|documents}"),
    ("de", ("no_price_on_slip",), "{bitte |}ohne {Rechnung|Kassenbon|Preis} {verschicken|versenden|schicken}"),
    ("de", ("no_price_on_slip",), "{den |}Preis {bitte |}{nicht sichtbar machen|abdecken|nicht angeben}"),
    ("en", ("delivery_instructions",), "{there's|there is} a {dog|cat} in the {yard|garden}, {please |}{use"
                                       "|come to} the "
                                       "{side gate|front door}"),
    ("en", ("delivery_instructions",), "{parcel box|safe place|mailbox} {is |}{by|next to} the <PLACE>"),
    ("en", ("delivery_instructions",), "{3rd|2nd|top} floor, {no lift|no elevator}{|, call up}"),
    ("de", ("delivery_instructions",), "{bitte |}in den {Briefkasten|Paketkasten} {legen|werfen|stecken}"),
    ("de", ("delivery_instructions",), "{Hund|Katze} im Garten, {bitte |}{am Tor klingeln|vorne klingeln}"),
    ("en", ("signature_required",), "{proof of delivery|ID check} {needed|required}{|, sign on receipt}"),
    ("en", ("signature_required",), "{not safe|unsafe} to leave {outside|on the porch}, {get|take} a signature"),
    ("de", ("signature_required",), "{Unterschrift|Empfangsbestätigung} {erforderlich|notwendig|nötig}"),
    ("de", ("signature_required",), "{nur|bitte nur} an {mich|den Empfänger} persönlich {aushändigen|übergeben}"),
    ("en", ("deliver_by",), "{it has to|it needs to|needs to} be {here|delivered} {by|no later than} <DD>"),
    ("en", ("deliver_by",), "{my|our} {flight|trip} {leaves|is} {on|by} <DD>, {need it before then|send it in time}"),
    ("de", ("deliver_by",), "{die Sachen|das Paket} {muss|müssen} bis <DDDE> {hier|bei mir} sein"),
    ("de", ("deliver_by",), "{wird|brauche ich} {spätestens|bis} <DDDE> {gebraucht|}"),
    ("en", ("hold_until",), "{please |}{keep|hold} {it|the parcel} {in the warehouse |}{until|till} <HD>"),
    ("en", ("hold_until",), "{not home|out of town|on holiday} until <HD>{, ship after that|, send after that|}"),
    ("de", ("hold_until",), "{bitte |}bis <HDDE> {zurückhalten|warten|lagern}{| und dann schicken}"),
    ("de", ("hold_until",), "{Versand|Lieferung} {bitte |}nicht vor <HDDE>"),
    ("en", ("expedite",), "{quickest|fastest} {shipping|option|way} {please|possible}"),
    ("en", ("expedite",), "{running late|last minute}{| gift}, {please hurry|need it fast}"),
    ("de", ("expedite",), "{bitte |}{heute noch|sofort} {verschicken|rausschicken|versenden}"),
    ("de", ("expedite",), "{brauche|benötige} {es|das} {ganz |}{schnell|dringend}"),
    ("en", ("address_change",), "{deliver|ship} to {my|the} {new|updated} address{|, not the old one}"),
    ("en", ("address_change",), "{the |}{house number|flat number|apartment number} is wrong{|, should be <N>}"),
    ("de", ("address_change",), "{die |}Hausnummer {ist falsch|stimmt nicht}{|, richtig ist <N>}"),
    ("de", ("address_change",), "neue {Lieferadresse|Anschrift}{|: <STREETDE>}"),
    ("en", ("cancel_request",), "{found it cheaper|wrong item ordered}, {please cancel|cancel the order|cancel it}"),
    ("en", ("cancel_request",), "{cancel|kill|scrap} {the whole order|everything|this purchase} {please|}"),
    ("de", ("cancel_request",), "{bitte |}{den Auftrag|die Bestellung} {zurückziehen|stornieren|annullieren}"),
    ("de", ("cancel_request",), "{möchte|will} {vom Kauf zurücktreten|nichts mehr bestellen}"),
    ("en", ("item_change",), "{please |}{replace|substitute} the <ITEM> with {a|the} <COLOR> {one|version}"),
    ("en", ("item_change",), "{wrong variant|wrong size} {selected|chosen}, {want|need} <SIZE>"),
    ("de", ("item_change",), "{bitte |}statt {der|dem} <ITEMDE> {eine andere Farbe|Größe <SIZE>} {schicken|senden}"),
    ("de", ("item_change",), "{andere|falsche} Größe {gewählt|erwischt}, bitte <SIZE>"),
    ("en", ("ship_complete",), "{I don't want|please no} {multiple|partial|separate} {deliveries|shipments|parcels}"),
    ("en", ("ship_complete",), "{wait|hold off} {until|till} {everything|all of it} {is ready|can ship together}"),
    ("de", ("ship_complete",), "{alles|die ganze Bestellung} {gemeinsam|zusammen} {verschicken|senden}"),
    ("de", ("ship_complete",), "{bitte |}{erst|nur} {komplett|vollständig} {schicken|versenden}"),
    ("en", ("local_pickup",), "{I'm|I am} {local|around the corner|nearby}, {will collect|I'll swing by and grab it}"),
    ("en", ("local_pickup",), "{reserve|hold} it {for collection|at the counter|for pickup}"),
    ("de", ("local_pickup",), "{ich komme|komme} {morgen|am <DAYNAMEDE>} {vorbei|in den Laden} und {hole|nehme}"
                              " es mit"),
    ("de", ("local_pickup",), "{bitte |}zur Abholung {bereitlegen|bereitstellen|zurücklegen}"),
    ("en", ("contact_customer",), "{please |}{give me a ring|drop me a line|send me a message}{| about the order}"),
    ("en", ("contact_customer",), "{questions|a question} about {delivery|the fit|the colour}, {reply to me|get"
                                  " in touch}"),
    ("de", ("contact_customer",), "{bitte |}{schreiben Sie mir|kontaktieren Sie mich}{| per WhatsApp| per Mail}"),
    ("de", ("contact_customer",), "{bitte |}{telefonisch|per Telefon} {Rücksprache|Kontakt} {halten|aufnehmen}"),
    # -- more negations ----------------------------------------------------------------------------
    ("en", (), "{not urgent|no hurry|it's not urgent}{|, whenever suits|, standard shipping is fine}"),
    ("en", (), "{no need to|don't} {change|swap} anything{|, the size is right}"),
    ("en", (), "{please |}{don't|do not} {call|phone|text} me{|, I can't pick up at work}"),
    ("en", (), "{I won't|I will not|can't} {pick it up|collect it}{|, please ship it}"),
    ("en", (), "{no|without} gift {wrap|wrapping|message}{| please|, thanks}"),
    ("en", (), "{I'm not|we're not} cancelling{|, just checking in}"),
    ("en", (), "{no|there's no} {special|delivery} instructions{|, thanks}"),
    ("de", (), "{nicht|kein} {dringend|Eilauftrag}{|, Standardversand reicht}"),
    ("de", (), "{kein|ohne} Geschenkpapier{| nötig|, danke}"),
    ("de", (), "{ich hole|wir holen} es {nicht|nicht selbst} ab{|, bitte schicken}"),
    ("de", (), "{bitte |}{nichts ändern|keine Änderung}{|, passt so}"),
    ("de", (), "{die |}Rechnung {kann|darf} {gerne |}{beiliegen|mit rein}"),
    ("de", (), "{keine Storno|nicht stornieren bitte|bitte keine Stornierung}"),
    ("de", (), "{bitte |}nicht anrufen{|, lieber per Mail| danke}"),
    # -- more chatter ----------------------------------------------------------------------------
    ("en", (), "{fingers crossed|can't wait|so excited}{| for this| to get it}{|!}"),
    ("en", (), "{my|our} {last|first} order {was perfect|arrived fine|went great}"),
    ("de", (), "{war|ist} {schon |}{top|prima|super} {beim letzten Mal|letztes Mal}"),
    ("de", (), "{kann es kaum erwarten|ich freu mich}{|!}"),
    # -- third wave: more structures per intent --------------------------------------------------
    ("en", ("gift",), "{wrapping|gift wrapping|gift box} {please|would be lovely|if possible}"),
    ("en", ("gift",), "{my <REL> will love this|hoping my <REL> likes it}, {it's|this is} {their|her|his} present"),
    ("en", ("gift",), "{can you|please} {make it|pack it} {gift-ready|nicely as a gift|as a present}"),
    ("de", ("gift",), "{bitte |}{mit Schleife|hübsch|nett} {verpacken|einpacken}, {ist ein Geschenk|wird verschenkt}"),
    ("de", ("gift",), "{zum Verschenken|wird verschenkt}{|, danke}"),
    ("en", ("no_price_on_slip",), "{please |}{make sure|ensure} {there's|there is} no {price|invoice|receipt} "
                                  "{inside|in the box|included}"),
    ("en", ("gift", "no_price_on_slip"), "{gift receipt only|only a gift receipt}{| please|, no prices}"),
    ("de", ("no_price_on_slip",), "{bitte |}{nur einen Geschenkbeleg|keinen Kassenbon|keinen Lieferschein mit Preis}"
                                  "{| beilegen}"),
    ("en", ("delivery_instructions",), "{the |}{buzzer|intercom} {is broken|doesn't work}{|, please phone up"
                                       "| - knock}"),
    ("en", ("delivery_instructions",), "{hide|tuck} {it|the box} {behind|under} the {hedge|steps|bench}"),
    ("en", ("delivery_instructions",), "{our|the} {house|building} is {at the back|behind the shop|round the corner}, "
                                       "{use the alley|go through the courtyard}"),
    ("de", ("delivery_instructions",), "{bitte |}{über den Hof|durch die Einfahrt|hinten herum} {kommen|liefern}"),
    ("de", ("delivery_instructions",), "{Paket|Sendung} {bitte |}{in die Garage|auf die Terrasse|unter die Treppe} "
                                       "{stellen|legen}"),
    ("en", ("signature_required",), "{make sure|ensure} {someone|the recipient} signs{| for it}{| please}"),
    ("en", ("signature_required",), "{adult signature|signature on receipt} {required|needed|only}"),
    ("de", ("signature_required",), "{bitte |}{mit|gegen} {Empfangsbestätigung|Unterschrift} {übergeben|aushändigen}"),
    ("en", ("deliver_by",), "{it's|this is} {needed|required} {for|by} <DD>{, thanks|}"),
    ("en", ("deliver_by",), "{party|event|trip} is {on|this} <DD> so {it must|it needs to} {arrive"
                            "|be here} before then"),
    ("de", ("deliver_by",), "{es muss|das muss} {bis|spätestens bis} <DDDE> {da sein|ankommen}"),
    ("en", ("hold_until",), "{please |}{delay|postpone} {shipping|dispatch|the shipment} until <HD>"),
    ("en", ("hold_until",), "{we're|I'm} {moving in|back} on <HD>, {don't|do not} {send|deliver} {before|earlier}"),
    ("de", ("hold_until",), "{bitte |}{Versand|Lieferung} {bis|auf} <HDDE> {verschieben|zurückstellen}"),
    ("en", ("expedite",), "{time sensitive|time-critical|very time sensitive}{|, please prioritise|!}"),
    ("en", ("expedite",), "{please |}{prioritise|prioritize|fast-track} {my|this} order"),
    ("de", ("expedite",), "{bitte |}{priorisieren|bevorzugt behandeln|vorziehen}{|, ist eilig}"),
    ("en", ("address_change",), "{I put|I entered|I typed} the {old|wrong} address{|, sorry}{|, new one is <STREET>}"),
    ("en", ("address_change",), "{please |}{correct|fix|update} the {delivery|shipping} address{| to <STREET>}"),
    ("de", ("address_change",), "{bitte |}{die Adresse|die Anschrift} {korrigieren|berichtigen|aktualisieren}"),
    ("en", ("cancel_request",), "{please |}{don't send|do not ship} {anything|it}, I {want to|'d like to} cancel"),
    ("en", ("cancel_request",), "{withdraw|retract} {my|the} order{| please}"),
    ("de", ("cancel_request",), "{Bestellung|Auftrag} {bitte |}{rückgängig machen|annullieren|widerrufen}"),
    ("en", ("item_change",), "{please |}{change|update} {the|my} {quantity|qty} to <N>"),
    ("en", ("item_change",), "{I'd like|I want} the <ITEM> in <COLOR> {instead|rather}"),
    ("de", ("item_change",), "{bitte |}{die Menge|Anzahl} auf <N> {ändern|erhöhen|reduzieren}"),
    ("en", ("ship_complete",), "{everything|all of it} {in|as} {one|a single} {delivery|shipment}{| please}"),
    ("en", ("ship_complete",), "{consolidate|combine} {the items|my items|everything} into one {box|parcel}"),
    ("de", ("ship_complete",), "{bitte |}{gesammelt|gebündelt} {versenden|schicken|liefern}"),
    ("en", ("local_pickup",), "{I'd like to|I want to|can I} {collect|pick up} {in person|from your store"
                              "|at the shop}"),
    ("en", ("local_pickup",), "{don't|no need to} {deliver|ship}, {I'll|we'll} {grab it|get it} {at"
                              "|from} the {store|shop}"),
    ("de", ("local_pickup",), "{ich |}{nehme|hole} {es|das Paket} {im Laden|im Geschäft|bei euch} {mit|ab}"),
    ("en", ("contact_customer",), "{please |}{ring|call} {me|us} {back|} {asap|when you can|before dispatch}"),
    ("en", ("contact_customer",), "{I'd like|we'd like} {a call|a callback|an email} {about|regarding} {this"
                                  "|the order}"),
    ("de", ("contact_customer",), "{bitte |}{um Rückruf|um Kontakt|um Antwort} {bitten|gebeten}{| unter <PHONE>}"),
    # -- third wave: negations ---------------------------------------------------------------------
    ("en", (), "{it's|this is} for {me|myself}, {no wrapping|no gift wrap} {needed|necessary}"),
    ("en", (), "{signature|signing} {isn't|is not} {needed|necessary}"),
    ("en", (), "{keep|leave} the {order|items} as {is|they are}, {no changes|nothing to change}"),
    ("en", (), "{standard|normal|regular} shipping is {fine|ok|perfect}"),
    ("de", (), "{Standardversand|normaler Versand} {reicht|ist ok|genügt}"),
    ("de", (), "{kein|ohne} {Rückruf|Kontakt} {nötig|erforderlich}"),
    ("de", (), "{Unterschrift|Unterschreiben} {nicht nötig|ist nicht nötig|brauche ich nicht}"),
    # -- no intent: negations that mention an intent's words ------------------------------------
    ("en", (), "{no need for|no need to} {gift wrap|gift wrapping|a gift card}{|, it's for me|, thanks}"),
    ("en", (), "{it's|this is} not a gift{|, it's for me|, just for myself}"),
    ("en", (), "{don't|do not|please don't} cancel{| my order|, I still want it}{|!|, thanks}"),
    ("en", (), "{no|there's no} rush{| at all|, whenever|, take your time}"),
    ("en", (), "{no|don't need a} signature {needed|required|}{|, no worries|, thanks}"),
    ("en", (), "{the |}address is {correct|right|fine}{|, no changes|, thanks}"),
    ("en", (), "{happy to|fine to} receive {separate|multiple} {parcels|shipments|boxes}"),
    ("en", (), "{no need to|you don't need to|don't} {call|contact|email} me"),
    ("en", (), "{prices|the receipt} on the slip {is|are} fine"),
    ("de", (), "{kein|bitte kein} Geschenk{|, ist für mich|, für mich selbst}"),
    ("de", (), "{bitte nicht|nicht} stornieren{|, ich will es noch|!}"),
    ("de", (), "{keine Eile|es eilt nicht|hat keine Eile}{|, danke|!}"),
    ("de", (), "{keine|Keine} Unterschrift {nötig|notwendig|erforderlich}"),
    ("de", (), "{die |}Adresse {stimmt|ist richtig|passt}{|, danke}"),
    ("de", (), "{Teillieferungen sind|Teillieferung ist} {ok|in Ordnung|kein Problem}"),
    ("de", (), "{kein Anruf nötig|Sie müssen mich nicht anrufen}"),
    # -- no intent: chatter --------------------------------------------------------------------
    ("en", (), "{thanks|thank you|thx|ty}{!|!!|| so much| :)}"),
    ("en", (), "{love|loving} your {shop|store|products}{!| <3|, keep it up}"),
    ("en", (), "{third|second|fifth} order {from you|this year}{|, always great}"),
    ("en", (), "{found you|heard about you} {on instagram|through a friend|on google}"),
    ("en", (), "{keep up the great work|you guys rock|great service last time}"),
    ("en", (), "{hope you have|have} a {great|nice|lovely} {day|week|weekend}"),
    ("en", (), "{the |}<ITEM> {looked|looks} {amazing|great|lovely} {on the website|in the photos|}"),
    ("en", (), "{n/a|none|-|.|ok|nothing}"),
    ("de", (), "{danke|vielen Dank|Danke schön}{!|| :)}"),
    ("de", (), "{tolle|super|schöne} {Produkte|Seite|Shop}{!|, weiter so}"),
    ("de", (), "{schon meine|meine} {zweite|dritte} Bestellung{| bei euch}"),
    ("de", (), "{schönes Wochenende|schönen Tag noch|liebe Grüße}"),
    ("de", (), "{über|durch} {Instagram|eine Freundin|Google} {gefunden|auf euch gestoßen}"),
    ("de", (), "{bin gespannt|freue mich schon}{| auf die <ITEMDE>}"),
    # -- fourth wave: more structures for the tags that generalise worst ---------------------------
    ("en", ("gift",), "{my|our} {nephew|niece|godson|colleague} {will love|is getting} this{|, wrap it please|!}"),
    ("en", ("gift",), "{add|include} {a|some} {ribbon|bow|tissue paper}{| please|, it's a present}"),
    ("de", ("gift",), "{ein kleines|ein} {Mitbringsel|Präsent|Dankeschön} für {meine <RELDE>|die Nachbarn}"),
    ("de", ("gift",), "{bitte |}{Karte|Kärtchen} dazu{|:} \"<MSGDE>\""),
    ("en", ("no_price_on_slip",), "{don't|do not|please don't} {show|print|list} {the |}{prices|price|cost|amount}"
                                  "{| anywhere| on anything}"),
    ("en", ("no_price_on_slip",), "{send|email} the {invoice|receipt|bill} to me{| separately|, not in the box}"),
    ("de", ("no_price_on_slip",), "{die |}{Preise|Beträge} {bitte |}{schwärzen|nicht drucken|weglassen}"),
    ("de", ("no_price_on_slip",), "{Rechnung|Beleg} {bitte |}{nur|lieber} per {Mail|E-Mail}{|, nicht ins Paket}"),
    ("en", ("delivery_instructions",), "{leave|put} {it|the box} {inside|in} the {porch|lobby|vestibule|foyer}"),
    ("en", ("delivery_instructions",), "{concierge|doorman|caretaker} {will take|can accept|accepts} {it|parcels}"),
    ("en", ("delivery_instructions",), "{use|try} the {side|back|garden} {door|gate}{|, front one is locked}"),
    ("de", ("delivery_instructions",), "{bitte |}beim {Hausmeister|Pförtner|Empfang} {lassen|abgeben}"),
    ("de", ("delivery_instructions",), "{Eingang|Zugang} {ist |}{hinten|im Hof|links neben der Garage}"),
    ("en", ("signature_required",), "{must|has to} be {signed for|handed over in person}{| please}"),
    ("en", ("signature_required",), "{please |}{no|don't} {safe place|leave-at-door|drop-off}, {I'll sign|get it"
                                    " signed}"),
    ("en", ("signature_required",), "{valuable|fragile and expensive} {contents|item}, {signature|signing}"
                                    " {on delivery|please}"),
    ("de", ("signature_required",), "{nur|bitte nur} {persönlich|an mich} {zustellen|aushändigen}{|, Unterschrift}"),
    ("de", ("signature_required",), "{Lieferung|Paket} {bitte |}{nicht ablegen|nur mit Unterschrift}"),
    ("en", ("deliver_by",), "{would love|hoping} to have it by <DD>"),
    ("de", ("deliver_by",), "{wäre super|wäre toll}, wenn es bis <DDDE> {da ist|ankommt}"),
    ("en", ("hold_until",), "{please |}{don't|do not} {deliver|send} {until|before} <HD>{|, nobody is home}"),
    ("de", ("hold_until",), "{bitte |}{erst|frühestens} {ab|am} <HDDE> {zustellen|schicken}"),
    ("en", ("expedite",), "{I need|need} {this|it} {as quickly as possible|by the fastest route|express}"),
    ("de", ("expedite",), "{bitte |}{mit Express|per Express|express} {schicken|versenden}{|, es eilt}"),
    ("en", ("address_change",), "{ship|send} {it |}to {my|our} {parents'|holiday|second} address{| instead}"
                                "{|: <STREET>}"),
    ("de", ("address_change",), "{bitte |}{an|zu} {meinen Eltern|meiner Arbeitsstelle} {liefern|schicken}"
                                "{| statt nach Hause}"),
    ("en", ("cancel_request",), "{please |}{void|cancel} {it|the order}{|, I ordered twice|, bought elsewhere}"),
    ("de", ("cancel_request",), "{Bestellung|Kauf} {bitte |}{abbrechen|canceln|stornieren}{|, danke}"),
    ("en", ("item_change",), "{can you|please} {make it|send} {a size|size} <SIZE> {instead|rather than the one I"
                             " picked}"),
    ("en", ("item_change",), "{swap|change} {the colour|the color|it} to <COLOR>{| please}"),
    ("de", ("item_change",), "{bitte |}{umtauschen|tauschen} {gegen|in} Größe <SIZE>"),
    ("de", ("item_change",), "{bitte |}{eine|die} {andere|zweite} Farbe{|: <COLORDE>} {nehmen|schicken}"),
    ("en", ("ship_complete",), "{don't|do not|please don't} {send|ship} {anything|it} {in pieces|in parts"
                               "|partially}"),
    ("en", ("ship_complete",), "{I'd like|we want} {one|a single} {delivery|drop-off}{| for everything}"),
    ("de", ("ship_complete",), "{bitte |}{alle Artikel|alles} {in einer|in einer einzigen} {Lieferung|Sendung}"),
    ("de", ("ship_complete",), "{bitte |}{warten|erst schicken}, bis {alles|die ganze Bestellung} {da|komplett}"
                               " ist"),
    ("en", ("local_pickup",), "{we'll|I'll} {drop by|pop in|come in} {to|and} {collect|pick it up}"),
    ("de", ("local_pickup",), "{bitte |}{im Laden|im Geschäft} {zurücklegen|hinterlegen}, {ich hole es|hole ab}"),
    ("en", ("contact_customer",), "{please |}{contact|text|message} me{| first| before shipping}{| at <EMAIL>}"),
    ("de", ("contact_customer",), "{bitte |}{kurz |}{anrufen|zurückrufen|eine Nachricht schicken}{| unter <PHONE>}"),
    # -- fourth wave: negations and chatter --------------------------------------------------------
    ("en", (), "{nothing special|no special requests|no requests}{|, thanks|!}"),
    ("en", (), "{no need to|don't} {hold|delay} it{|, ship whenever|, any time is fine}"),
    ("en", (), "{leave|put} the {invoice|receipt|prices} in{|, it's for me}"),
    ("en", (), "{not|it's not} for a gift{|, no wrapping}"),
    ("de", (), "{nichts|keine} {Besonderes|besonderen Wünsche}{|, danke}"),
    ("de", (), "{Rechnung|Preise} {dürfen|können} {gerne |}{drin sein|beiliegen}{|, ist für mich}"),
    ("de", (), "{muss nicht|braucht nicht} {schnell|express} {gehen|sein}"),
    # -- French ----------------------------------------------------------------------------------
    ("fr", ("gift",), "{c'est|c'est un|il s'agit d'un} cadeau{| pour ma <RELFR>| pour mon <RELMFR>}"),
    ("fr", ("gift",), "{merci de|pouvez-vous} {faire un paquet cadeau|l'emballer en cadeau|emballer joliment}"),
    ("fr", ("gift",), "{cadeau d'anniversaire|cadeau de Noël|surprise} pour {ma <RELFR>|mon <RELMFR>}"),
    ("fr", ("gift",), "{ajoutez|merci d'ajouter} une {carte|petite carte} {avec|:} \"<MSGFR>\""),
    ("fr", ("gift",), "message {pour la carte|cadeau} : <MSGFR>"),
    ("fr", ("gift",), "{à offrir|pour offrir}{|, merci|, emballage cadeau svp}"),
    ("fr", ("no_price_on_slip",), "{merci de ne pas|ne pas} {mettre|joindre|inclure} {la facture|le prix|les prix}"
                                  "{| dans le colis}"),
    ("fr", ("no_price_on_slip",), "{pas de|sans} {prix|facture|ticket de caisse} {dans le colis|svp|merci}"),
    ("fr", ("no_price_on_slip",), "{le destinataire|ma <RELFR>} ne doit pas voir le prix"),
    ("fr", ("no_price_on_slip",), "{bon de livraison|bordereau} sans {prix|montant}{| svp}"),
    ("fr", ("no_price_on_slip",), "{envoyez|merci d'envoyer} la facture par {mail|e-mail}{|, pas dans le colis}"),
    ("fr", ("delivery_instructions",), "{merci de |}{laisser|déposer} le colis {chez le gardien|à la loge"
                                       "|devant la porte|chez le voisin}"),
    ("fr", ("delivery_instructions",), "{digicode|code de la porte|code portail} {:|} <CODE>{|, puis <N>e étage}"),
    ("fr", ("delivery_instructions",), "{la |}sonnette ne marche pas{|, merci de frapper|, appelez en bas}"),
    ("fr", ("delivery_instructions",), "{si je suis absent|en cas d'absence}, {laisser|déposer} chez {le voisin"
                                       "|la voisine} du <N>"),
    ("fr", ("delivery_instructions",), "{mettre|déposer} dans la boîte aux lettres{| svp}"),
    ("fr", ("delivery_instructions",), "{entrée|accès} par {la cour|le portail|l'arrière}{| du bâtiment}"),
    ("fr", ("signature_required",), "{remise|livraison} {contre signature|en main propre|en mains propres}"
                                    "{| uniquement}"),
    ("fr", ("signature_required",), "{ne pas|merci de ne pas} laisser le colis {devant la porte|sans surveillance}"
                                    ", {je signerai|signature obligatoire}"),
    ("fr", ("signature_required",), "signature {obligatoire|exigée|requise}{| à la livraison}"),
    ("fr", ("signature_required",), "{merci de |}{le remettre|remettre le colis} {en personne|au destinataire}"),
    ("fr", ("deliver_by",), "{j'en ai besoin|il me le faut|nous en avons besoin} pour <DDFR>"),
    ("fr", ("deliver_by",), "{doit|devrait} arriver {au plus tard|pour} <DDFR>"),
    ("fr", ("deliver_by",), "{livrer|livraison} {svp |}avant <DDFR-1>"),
    ("fr", ("deliver_by",), "c'est pour {un mariage|une fête|un anniversaire} prévu <DDFR>, {merci de"
                            " livrer à temps|il faut que ça arrive à temps}"),
    ("fr", ("deliver_by",), "{date limite|livraison au plus tard} : <DDFR>"),
    ("fr", ("hold_until",), "{merci de ne pas|ne pas} {expédier|envoyer|livrer} avant <HDFR>"),
    ("fr", ("hold_until",), "{je suis|nous sommes} {en vacances|absents}, {de retour|retour} <HDFR>{|, merci de"
                            " garder le colis}"),
    ("fr", ("hold_until",), "{expédier|envoyer} {uniquement |seulement |}après <HDFR+1>"),
    ("fr", ("hold_until",), "{merci d'attendre|pouvez-vous attendre} <HDFR> {pour expédier|avant d'envoyer}"),
    ("fr", ("hold_until",), "pas avant <HDFR>{| svp|, merci}"),
    ("fr", ("expedite",), "{c'est |}{urgent|très urgent|assez urgent}{|!| svp}"),
    ("fr", ("expedite",), "{merci d'expédier|expédiez} {au plus vite|dès que possible|rapidement|aujourd'hui}"),
    ("fr", ("expedite",), "{livraison express|envoi express|express} {svp|si possible|merci}"),
    ("fr", ("expedite",), "{je suis pressé|je suis pressée|c'est pressé}{|, merci de faire vite}"),
    ("fr", ("expedite",), "{je paie|je suis prêt à payer} {plus|un supplément} pour {une livraison rapide"
                          "|l'express}"),
    ("fr", ("address_change",), "{j'ai|nous avons} déménagé{|, merci de changer l'adresse|, nouvelle adresse :"
                                " <STREETFR>}"),
    ("fr", ("address_change",), "{mauvaise|erreur d'} adresse{|, la bonne est <STREETFR>}"),
    ("fr", ("address_change",), "{le code postal|le numéro de rue} est faux{|, c'est <ZIP>}"),
    ("fr", ("address_change",), "{merci de |}{livrer|envoyer} à {mon bureau|mon travail|une autre adresse}"),
    ("fr", ("address_change",), "{nouvelle adresse|adresse corrigée} : <STREETFR>"),
    ("fr", ("cancel_request",), "{merci d'annuler|annulez|veuillez annuler} {ma commande|la commande|cette"
                                " commande}"),
    ("fr", ("cancel_request",), "{je voudrais|je souhaite|je veux} annuler{| ma commande}{|, merci}"),
    ("fr", ("cancel_request",), "{commande passée par erreur|commande en double}, {merci d'annuler|annulez svp}"),
    ("fr", ("cancel_request",), "{je n'en veux plus|je n'en ai plus besoin|j'ai changé d'avis}{|, remboursement"
                                " svp}"),
    ("fr", ("cancel_request",), "{annulation|remboursement et annulation} {svp|merci|}"),
    ("fr", ("item_change",), "{merci de |}changer la taille {en|pour} <SIZE>"),
    ("fr", ("item_change",), "{je me suis trompé|erreur} de {taille|couleur}, {je voudrais|envoyez} <COLORFR>"
                             "{| à la place}"),
    ("fr", ("item_change",), "{échanger|remplacer} {le|la} <ITEMFR> {par|contre} {un|une} <COLORFR>"),
    ("fr", ("item_change",), "{pouvez-vous ajouter|merci d'ajouter} {un autre|une autre|encore un} <ITEMFR>"),
    ("fr", ("item_change",), "{merci de |}retirer {le|la} <ITEMFR> de {ma|la} commande"),
    ("fr", ("ship_complete",), "{merci d'envoyer|envoyez} tout {ensemble|en une seule fois|dans un seul colis}"),
    ("fr", ("ship_complete",), "{pas de|sans} livraison partielle{| svp}"),
    ("fr", ("ship_complete",), "{n'expédiez|n'envoyez} que quand tout est {disponible|en stock|prêt}"),
    ("fr", ("ship_complete",), "{un seul colis|une seule livraison} {svp|merci|uniquement}"),
    ("fr", ("ship_complete",), "{ne pas|merci de ne pas} {diviser|séparer} la commande"),
    ("fr", ("local_pickup",), "{je viendrai|je passe|je passerai} {la chercher|le récupérer|chercher la commande}"
                              "{| en magasin| à la boutique}"),
    ("fr", ("local_pickup",), "{retrait|récupération} {en magasin|à la boutique|sur place}{| svp}"),
    ("fr", ("local_pickup",), "{pas besoin d'expédier|ne pas envoyer}, {j'habite à côté|je passe la prendre}"),
    ("fr", ("local_pickup",), "{puis-je|est-ce que je peux} {récupérer|retirer} la commande {<DAYNAMEFR>|demain}"
                              " ?"),
    ("fr", ("local_pickup",), "{click and collect|click & collect|retrait}{| merci}"),
    ("fr", ("contact_customer",), "{merci de |}{m'appeler|me téléphoner|me contacter}{| avant l'envoi}"
                                  "{| au <PHONE>}"),
    ("fr", ("contact_customer",), "{pouvez-vous|merci de} me {recontacter|rappeler|répondre} {par mail|par"
                                  " téléphone|}{| à <EMAIL>}"),
    ("fr", ("contact_customer",), "{j'ai une question|question} sur {la taille|le <ITEMFR>}, {rappelez-moi"
                                  "|contactez-moi}"),
    ("fr", ("contact_customer",), "{prévenez-moi|tenez-moi au courant} {en cas de retard|s'il manque quelque"
                                  " chose}"),
    ("fr", ("contact_customer",), "{j'aimerais|je voudrais} {parler à quelqu'un|être rappelé}{| avant l'envoi}"),
    ("fr", (), "{pas besoin|pas la peine} {d'emballage cadeau|de paquet cadeau}{|, c'est pour moi}"),
    ("fr", (), "{ce n'est pas|pas} un cadeau{|, c'est pour moi}"),
    ("fr", (), "{ne pas|surtout ne pas} annuler{|, je la veux toujours|!}"),
    ("fr", (), "{pas urgent|rien ne presse|aucune urgence}{|, merci|, livraison standard ok}"),
    ("fr", (), "{pas besoin de|inutile de} {m'appeler|me contacter|signature}"),
    ("fr", (), "{l'adresse est correcte|adresse ok|l'adresse est bonne}{|, merci}"),
    ("fr", (), "{plusieurs colis|des colis séparés} {c'est ok|pas de problème|ça me va}"),
    ("fr", (), "{je ne viendrai pas|je ne passerai pas} {la chercher|en magasin}{|, merci d'expédier}"),
    ("fr", (), "{merci|merci beaucoup|mille mercis}{|!| :)}"),
    ("fr", (), "{j'adore|super} {votre boutique|vos produits}{|!|, continuez}"),
    ("fr", (), "{deuxième|troisième} commande {chez vous|cette année}{|, toujours parfait}"),
    ("fr", (), "{bonne journée|bon week-end|belle soirée}{|!}"),
    ("fr", (), "{trouvé|découvert} {sur Instagram|grâce à une amie|sur Google}"),
    ("fr", (), "{hâte de recevoir|j'ai hâte de voir} {le <ITEMFR>|ma commande}{|!}"),
    # -- fifth wave: more phrasings in all three languages -----------------------------------------
    ("en", ("gift",), "{sending|it's going} {to|straight to} {my|our} <REL>{| for their birthday}, {it's a present|gift"
                      " wrap if you can}"),
    ("en", ("gift",), "{please |}{pop|put} a {gift|greeting} card in{| with \"<MSG>\"}"),
    ("de", ("gift",), "{geht|ist} direkt an {meine <RELDE>|meinen Bruder} als {Geschenk|Überraschung}"),
    ("fr", ("gift",), "{c'est pour|à offrir à} {ma <RELFR>|mon <RELMFR>}, {joli emballage svp|merci d'emballer}"),
    ("fr", ("gift",), "{glissez|mettez} une carte {dans le colis|avec le cadeau}{| : <MSGFR>}"),
    ("en", ("no_price_on_slip",), "{no|without any} {pricing|price info|prices} {in the parcel|on the paperwork"
                                  "|inside}{| please}"),
    ("de", ("no_price_on_slip",), "{bitte |}{keine|ohne} {Preisangaben|Preise} {im Paket|auf dem Lieferschein}"),
    ("fr", ("no_price_on_slip",), "{retirez|enlevez} {les étiquettes de prix|le prix} {svp|avant l'envoi|}"),
    ("fr", ("no_price_on_slip",), "{aucun prix|aucune facture} dans le colis{| svp|, c'est un cadeau}"),
    ("en", ("delivery_instructions",), "{knock|ring} {loudly|twice|at the side door}{|, I work from home}"),
    ("en", ("delivery_instructions",), "{apartment|flat} <N>, {buzz|ring} {up|the bell}{| and wait}"),
    ("de", ("delivery_instructions",), "{bitte |}{zweimal|laut} {klingeln|klopfen}{|, Klingel ist leise}"),
    ("de", ("delivery_instructions",), "{wenn niemand da ist|falls ich nicht da bin}, {in die Garage|beim Nachbarn}"
                                       " {stellen|abgeben}"),
    ("fr", ("delivery_instructions",), "{sonnez|frappez} {deux fois|fort}{| à la porte de derrière}"),
    ("fr", ("delivery_instructions",), "{appartement|bâtiment} <N>, {interphone|digicode} <CODE>"),
    ("en", ("signature_required",), "{please |}{obtain|collect} a signature{| from the recipient}{| on delivery}"),
    ("de", ("signature_required",), "{bitte |}{unterschreiben lassen|quittieren lassen}{| beim Empfang}"),
    ("fr", ("signature_required",), "{faites signer|merci de faire signer} {le destinataire|à la livraison}"),
    ("en", ("deliver_by",), "{need|we need} {it|this|the <ITEM>} {before|ahead of} <DD-1>{| at the latest}"),
    ("de", ("deliver_by",), "{bitte |}{unbedingt|sicher} bis <DDDE> {zustellen|liefern}"),
    ("fr", ("deliver_by",), "{impérativement|absolument} pour <DDFR>"),
    ("en", ("hold_until",), "{please |}{start|begin} {shipping|delivery} {only |}from <HD>"),
    ("de", ("hold_until",), "{wir sind|ich bin} {erst|ab} <HDDE> wieder {da|zu Hause}"),
    ("fr", ("hold_until",), "{merci de |}{garder|conserver} le colis {en entrepôt |}jusqu'à <HDFR>"),
    ("en", ("expedite",), "{please |}{send|get} it out {today|immediately|first thing}{| if possible}"),
    ("de", ("expedite",), "{bitte |}{umgehend|sofort|noch heute} {losschicken|verschicken}"),
    ("fr", ("expedite",), "{envoi|expédition} {immédiate?|rapide} {svp|merci|si possible}"),
    ("en", ("address_change",), "{my|the} {address|street} {has changed|is different now}{|: <STREET>}"),
    ("de", ("address_change",), "{meine|die} {Adresse|Anschrift} hat sich geändert{|: <STREETDE>}"),
    ("fr", ("address_change",), "{changement|modification} d'adresse{| : <STREETFR>}"),
    ("en", ("cancel_request",), "{I'd like|I want} {my money back|a refund} and {the order cancelled|no delivery}"),
    ("de", ("cancel_request",), "{bitte |}{nicht versenden|nichts schicken}, {ich storniere|Stornierung bitte}"),
    ("fr", ("cancel_request",), "{ne pas envoyer|n'envoyez rien}, {j'annule|annulation svp}"),
    ("en", ("item_change",), "{make|change} {it|the <ITEM>} {two|three|<N>} {instead of one|units}"),
    ("de", ("item_change",), "{bitte |}{statt|anstelle} {Größe|Farbe} {<SIZE>|<COLORDE>} {die andere|eine andere}"
                             " {schicken|nehmen}"),
    ("fr", ("item_change",), "{changez|modifiez} la quantité {à|en} <N>{| svp}"),
    ("en", ("ship_complete",), "{send|ship} {it|the order} {in one go|all at once|as one parcel}{| please}"),
    ("de", ("ship_complete",), "{bitte |}{nicht einzeln|nicht getrennt} {verschicken|liefern}"),
    ("fr", ("ship_complete",), "{je préfère|merci de} tout recevoir {en même temps|d'un coup}"),
    ("en", ("local_pickup",), "{I'll|we'll} {come to|visit} the {shop|store|showroom} to {collect|get} it"),
    ("de", ("local_pickup",), "{bitte |}{zum Abholen|für Abholung} {bereithalten|vorbereiten}"),
    ("fr", ("local_pickup",), "{je viens|je passerai} {au magasin|à la boutique} {la récupérer|demain}"),
    ("en", ("contact_customer",), "{please |}{ping|message|WhatsApp} me {when you can|about this|before sending}"),
    ("de", ("contact_customer",), "{bitte |}{schreibt|antwortet} mir {kurz|per Mail|eine Nachricht}"),
    ("fr", ("contact_customer",), "{écrivez-moi|envoyez-moi un message} {avant l'envoi|svp|par mail}"),
    # -- fifth wave: negations --------------------------------------------------------------------
    ("en", (), "{no|zero} {need|reason} to {sign|get a signature}{| for it}"),
    ("en", (), "{I|we} {won't|will not|can't} come {to the shop|in store}{|, post it please}"),
    ("en", (), "{not|it isn't} {in a hurry|time sensitive}{| at all}"),
    ("en", (), "{no|not a} {gift|present}{|, don't wrap it}"),
    ("de", (), "{kein|bitte kein} {Express|Eilversand} {nötig|notwendig}"),
    ("de", (), "{nicht|bitte nicht} {einpacken|als Geschenk verpacken}{|, ist für mich}"),
    ("de", (), "{ich komme|wir kommen} {nicht|nicht selbst} vorbei{|, bitte schicken}"),
    ("fr", (), "{pas de|sans} signature {nécessaire|requise}{|, laissez le colis}"),
    ("fr", (), "{pas besoin de|inutile de} {changer|modifier} {la commande|quoi que ce soit}"),
    ("fr", (), "{ne pas|merci de ne pas} {m'appeler|me téléphoner}{|, je travaille}"),
    ("fr", (), "{rien à signaler|aucune demande particulière}{|, merci}"),
]

FILL = {
    "REL": ["mum", "mom", "dad", "sister", "brother", "wife", "husband", "daughter", "son", "grandma", "friend",
            "boss"],
    "RELDE": ["Mutter", "Schwester", "Frau", "Tochter", "Oma", "Freundin", "Tante"],
    "ITEM": ["mug", "scarf", "candle", "hoodie", "notebook", "sneakers", "lamp", "teapot", "poster", "bag"],
    "ITEMDE": ["Tasse", "Schal", "Kerze", "Lampe", "Tasche", "Mütze", "Vase", "Decke"],
    "MSG": ["Happy birthday, love you!", "Congrats on the new job", "Merry Christmas from all of us",
            "Thinking of you", "Happy anniversary xx", "Get well soon"],
    "MSGDE": ["Alles Gute zum Geburtstag!", "Frohe Weihnachten", "Herzlichen Glückwunsch", "Gute Besserung",
              "Alles Liebe, deine Anna"],
    "PLACE": ["back door", "front porch", "garage", "side gate", "reception", "mailroom", "shed", "front desk"],
    "CODE": ["4411", "1234", "#2580", "9090", "7731#", "0042"],
    "N": ["2", "3", "4", "12", "5B", "7"],
    "STREET": ["12 Baker Street", "45 Elm Road", "221B Baker St.", "9 Mill Lane", "1600 Pennsylvania Ave"],
    "STREETDE": ["Hauptstraße 5", "Bahnhofstr. 12a", "Lindenweg 7", "Kirchgasse 2"],
    "ZIP": ["10115", "SW1A 1AA", "80331", "90210", "EC1A 1BB"],
    "SIZE": ["M", "L", "XL", "S", "42", "38", "10"],
    "COLOR": ["blue", "black", "green", "red", "the grey"],
    "COLORDE": ["blau", "schwarz", "grün", "rot"],
    "PHONE": ["+49 171 2345678", "(555) 123-4567", "+44 20 7946 0958", "555-867-5309"],
    "EMAIL": ["me@example.com", "jo.smith@mail.net", "anna@example.de"],
    "DAYNAME": ["Saturday", "Friday", "Monday"],
    "DAYNAMEDE": ["Samstag", "Freitag", "Montag"],
    "RELFR": ["mère", "sœur", "femme", "fille", "grand-mère", "amie", "tante"],
    "RELMFR": ["père", "frère", "mari", "fils", "ami", "neveu"],
    "ITEMFR": ["tasse", "écharpe", "bougie", "sweat", "carnet", "lampe", "théière", "sac"],
    "MSGFR": ["Joyeux anniversaire !", "Joyeux Noël à tous", "Félicitations pour ton nouveau poste",
              "Je pense à toi", "Bon rétablissement", "Bisous, Claire"],
    "STREETFR": ["12 rue de la Paix", "5 avenue Victor Hugo", "8 bis rue des Lilas", "27 boulevard Voltaire"],
    "COLORFR": ["bleu", "noir", "vert", "rouge", "le gris"],
    "DAYNAMEFR": ["samedi", "vendredi", "lundi"],
}

_EN_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_DE_WEEKDAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]
_EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December"]
_DE_MONTHS = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
              "November", "Dezember"]
_FR_WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
_FR_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre"]
_WEEKDAY_NAMES = {"en": _EN_WEEKDAYS, "de": _DE_WEEKDAYS, "fr": _FR_WEEKDAYS}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _future(today: date, month: int, day: int) -> date:
    for year in (today.year, today.year + 1):
        try:
            d = date(year, month, day)
        except ValueError:
            continue
        if d >= today:
            return d
    raise ValueError("no future date")  # pragma: no cover


def _date_expr(rng: random.Random, lang: str, today: date) -> tuple[str, date, dict]:
    """A date expression, the date it means and its spec (independent of dates.py)."""
    kind = rng.choice(["weekday", "dom", "offset", "tomorrow", "next_week", "absolute_name", "absolute_num"])
    if kind == "weekday":
        wd = rng.randrange(7)
        ahead = (wd - today.weekday()) % 7 or 7
        text = _WEEKDAY_NAMES[lang][wd]
        if rng.random() < 0.3:
            text = {"en": f"next {text}", "de": f"nächsten {text}", "fr": f"{text} prochain"}[lang]
        return text, today + timedelta(days=ahead), {"kind": kind, "weekday": wd}
    if kind == "dom":
        day = rng.randint(1, 28)
        month, year = today.month, today.year
        if day < today.day:
            month, year = (1, year + 1) if month == 12 else (month + 1, year)
        text = {"en": f"the {_ordinal(day)}", "de": f"dem {day}.", "fr": f"le {day}"}[lang]
        return text, date(year, month, day), {"kind": kind, "day": day}
    if kind == "offset":
        n, unit = rng.choice([(2, "days"), (3, "days"), (5, "days"), (10, "days"), (1, "week"), (2, "weeks")])
        days = n * (7 if unit.startswith("week") else 1)
        if lang == "en":
            text = f"{rng.choice(['in', 'within'])} {n} {unit}"
        elif lang == "fr":
            text = f"dans {n} " + {"days": "jours", "week": "semaine", "weeks": "semaines"}[unit]
        else:
            text = f"in {n} " + {"days": "Tagen", "week": "Woche", "weeks": "Wochen"}[unit]
        return text, today + timedelta(days=days), {"kind": kind, "days": days}
    if kind == "tomorrow":
        return {"en": "tomorrow", "de": "morgen", "fr": "demain"}[lang], today + timedelta(days=1), {"kind": kind}
    if kind == "next_week":
        text = {"en": "next week", "de": "nächster Woche", "fr": "la semaine prochaine"}[lang]
        return text, today + timedelta(days=7 - today.weekday()), {"kind": kind}
    target = today + timedelta(days=rng.randint(2, 60))
    if kind == "absolute_name":
        if lang == "en":
            text = rng.choice([f"{_EN_MONTHS[target.month - 1]} {_ordinal(target.day)}",
                               f"{target.day} {_EN_MONTHS[target.month - 1]}",
                               f"{_EN_MONTHS[target.month - 1][:3]} {target.day}"])
        elif lang == "fr":
            text = f"{target.day} {_FR_MONTHS[target.month - 1]}"
        else:
            text = f"{target.day}. {_DE_MONTHS[target.month - 1]}"
        return text, _future(today, target.month, target.day), {"kind": kind, "month": target.month,
                                                                "day": target.day}
    if lang == "en":
        text = rng.choice([target.isoformat(), f"{target.month}/{target.day}"])
    elif lang == "fr":
        text = rng.choice([f"{target.day:02d}/{target.month:02d}/{target.year}", f"{target.day}/{target.month}"])
    else:
        text = rng.choice([f"{target.day:02d}.{target.month:02d}.{target.year}", f"{target.day}.{target.month}."])
    return text, target, {"kind": kind, "iso": target.isoformat()}


_ALT = re.compile(r"\{([^{}]*)\}")
_SLOT = re.compile(r"<([A-Z]+)([+-]1)?>")


def _render(template: str, lang: str, rng: random.Random, today: date) -> tuple[str, dict]:
    text = _ALT.sub(lambda m: rng.choice(m.group(1).split("|")), template)
    found: dict = {}

    def slot(m: re.Match[str]) -> str:
        name, shift = m.group(1), m.group(2)
        if name in ("DD", "DDDE", "DDFR", "HD", "HDDE", "HDFR"):
            expr, when, spec = _date_expr(rng, name[2:].lower() or "en", today)
            # "before X" means X - 1 and "after X" means X + 1 (see dates.py).
            when += timedelta(days={"-1": -1, "+1": 1, None: 0}[shift])
            key = "deliver_by" if name.startswith("DD") else "hold_until"
            found[key] = when
            found[key + "_spec"] = {**spec, "shift": int(shift or 0), "expr": expr}
            return expr
        return rng.choice(FILL[name])

    text = _SLOT.sub(slot, text)
    return re.sub(r"\s+", " ", text).strip(" ,"), found


def _typo(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    i = rng.randrange(len(words))
    w = words[i]
    if len(w) > 3 and w.isalpha():
        j = rng.randrange(1, len(w) - 1)
        op = rng.choice(["drop", "swap", "double"])
        w = {"drop": w[:j] + w[j + 1:], "swap": w[:j] + w[j + 1] + w[j] + w[j + 2:], "double": w[:j] + w[j] + w[j:]}[op]
        words[i] = w
    return " ".join(words)


def _style(text: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.15:
        text = text.lower()
    elif r < 0.2:
        text = text.upper()
    elif r < 0.7:
        text = text[:1].upper() + text[1:]
    if rng.random() < 0.2:
        text = _typo(text, rng)
    return text


def _buckets(rng: random.Random) -> dict[int, int]:
    by_group: dict[tuple[str, tuple[str, ...]], list[int]] = {}
    for i, (lang, tags, _) in enumerate(TEMPLATES):
        by_group.setdefault((lang, tags), []).append(i)
    bucket: dict[int, int] = {}
    for key in sorted(by_group):
        ids = by_group[key]
        rng.shuffle(ids)
        offset = rng.randrange(BUCKETS)
        for k, i in enumerate(ids):
            bucket[i] = (k + offset) % BUCKETS
    return bucket


def build_corpus(n: int = 4000, seed: int = SEED) -> list[dict]:
    """Render ``n`` labelled notes (see the module doc for how splits stay template-disjoint)."""
    rng = random.Random(seed)
    bucket = _buckets(rng)
    pools: dict[tuple[str, int, bool], list[int]] = {}
    for i, (lang, tags, _) in enumerate(TEMPLATES):
        pools.setdefault((lang, bucket[i], bool(tags)), []).append(i)
    rows: list[dict] = []
    base = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    for k in range(n):
        r = rng.random()
        lang = "en" if r < 0.5 else "de" if r < 0.78 else "fr"
        b = rng.randrange(BUCKETS)
        r = rng.random()
        n_intents, n_chatter = (0, 1) if r < 0.22 else (1, 0) if r < 0.62 else (1, 1) if r < 0.75 else (
            2, 0) if r < 0.9 else (2, 1) if r < 0.97 else (3, 0)
        intent_pool = pools.get((lang, b, True), [])
        chatter_pool = pools.get((lang, b, False), [])
        chosen: list[int] = []
        while len(chosen) < n_intents:
            t = rng.choice(intent_pool)
            if all(not set(TEMPLATES[t][1]) & set(TEMPLATES[c][1]) for c in chosen):
                chosen.append(t)
        chosen += rng.sample(chatter_pool, min(n_chatter, len(chatter_pool)))
        rng.shuffle(chosen)
        created = base + timedelta(days=rng.randrange(0, 330), hours=rng.randrange(0, 14))
        today = created.date()
        parts, tags, fields = [], set(), {}
        for t in chosen:
            text, found = _render(TEMPLATES[t][2], lang, rng, today)
            parts.append(_style(text, rng))
            tags.update(TEMPLATES[t][1])
            fields.update(found)
        sep = rng.choice([". ", ", ", " - ", "! ", "\n", " ", ". "])
        note = sep.join(parts) + rng.choice(["", "", ".", "!", " :)", " thx", ""])
        template_ids = "+".join(f"{TEMPLATES[t][0]}{t:03d}" for t in sorted(chosen))
        rows.append({
            "id": f"n{k:05d}",
            "note": note,
            "language": lang,
            "tags": sorted(tags),
            "created_at": created.isoformat(),
            "deliver_by": fields["deliver_by"].isoformat() if "deliver_by" in fields else None,
            "hold_until": fields["hold_until"].isoformat() if "hold_until" in fields else None,
            "deliver_by_spec": fields.get("deliver_by_spec"),
            "hold_until_spec": fields.get("hold_until_spec"),
            "templates": template_ids,
            "group": b,
            "split": "test" if b == TEST_BUCKET else "train",
        })
    return rows


def write_corpus(path: Path = CORPUS_PATH, n: int = 4000, seed: int = SEED) -> str:
    """Write the corpus as JSONL; returns the sha256 of the file."""
    text = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in build_corpus(n, seed))
    path.write_text(text, encoding="utf-8")
    return hashlib.sha256(text.encode()).hexdigest()


if __name__ == "__main__":
    print(write_corpus())
