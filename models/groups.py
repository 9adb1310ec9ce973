"""Human groups of related features, so a reason reads "external scores" rather than four EXT_SOURCE columns.

Rules match feature names (raw Home Credit columns, the warehouse's derived ratios and the side-table aggregate
prefixes); the first matching rule wins. A feature no rule knows is its own group, labelled by the dictionary.

Each group has a noun-phrase label (for sentences: "à cause des scores externes") and a headline addressed to the
client ("Vos notes de crédit externes"). Two groups are never told to a client as a reason: the calendar of the
application (weekday, hour: an artefact of when the file was keyed in, nothing the client is or did) and gender
(a protected attribute, excluded from the model's inputs; the rule stays so an old artifact cannot leak it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Group:
    key: str
    label_fr: str
    label_en: str
    pattern: re.Pattern[str]
    headline_fr: str = ""
    headline_en: str = ""

    def label(self, lang: str) -> str:
        return self.label_fr if lang == "fr" else self.label_en

    def headline(self, lang: str) -> str:
        """The group as a client hears it ("Vos revenus"), falling back on the noun-phrase label."""
        text = self.headline_fr if lang == "fr" else self.headline_en
        return text or self.label(lang)

    @property
    def is_reason(self) -> bool:
        return self.key not in NOT_REASONS


NOT_REASONS = frozenset({"calendar", "gender"})
CALENDAR = re.compile(r"(WEEKDAY_APPR|HOUR_APPR)")  # not model inputs either (models.training)

_HEADLINES = {
    "external_scores": ("Vos notes de crédit externes", "Your external credit ratings"),
    "age": ("Votre âge", "Your age"),
    "employment": ("Votre emploi", "Your employment"),
    "loan_burden": ("Le montant et les remboursements du crédit", "The loan amount and repayments"),
    "income": ("Vos revenus", "Your income"),
    "family": ("Votre situation familiale", "Your family situation"),
    "education": ("Votre niveau d'études", "Your education"),
    "contract": ("Le type de crédit demandé", "The type of credit requested"),
    "assets": ("Votre logement et vos biens", "Your housing and assets"),
    "region": ("Votre lieu de résidence", "Where you live"),
    "social_circle": ("Les impayés dans votre entourage", "Defaults among your acquaintances"),
    "documents": ("Les documents fournis", "The documents provided"),
    "contact": ("Vos coordonnées et pièces d'identité", "Your contact details and identity papers"),
    "bureau": ("Vos crédits auprès d'autres organismes", "Your credits with other lenders"),
    "previous": ("Vos demandes de crédit précédentes", "Your previous credit applications"),
    "pos_cash": ("Vos crédits en magasin", "Your in-store credits"),
    "instalments": ("Vos remboursements passés", "Your past repayments"),
    "credit_card": ("Vos cartes de crédit", "Your credit cards"),
}


def _group(key: str, label_fr: str, label_en: str, pattern: str) -> Group:
    headline_fr, headline_en = _HEADLINES.get(key, ("", ""))
    return Group(key, label_fr, label_en, re.compile(pattern), headline_fr, headline_en)


GROUPS: tuple[Group, ...] = (
    # First, so that side-table aggregates of the application hour (PREV_HOUR_APPR_...) land here too.
    _group(
        "calendar",
        "le jour et l'heure de la demande",
        "the day and hour of the application",
        CALENDAR.pattern,
    ),
    _group("external_scores", "les scores externes", "the external scores", r"^EXT_SOURCE"),
    _group("age", "l'âge", "age", r"^(DAYS_BIRTH|AGE)"),
    _group(
        "employment",
        "l'emploi",
        "employment",
        r"^(DAYS_EMPLOYED|YEARS_EMPLOYED|EMPLOYED|NAME_INCOME_TYPE|OCCUPATION_TYPE|ORGANIZATION_TYPE"
        r"|FLAG_EMP_PHONE)",
    ),
    _group(
        "loan_burden",
        "le montant et la charge du crédit",
        "the loan amount and repayment burden",
        r"^(AMT_CREDIT|AMT_ANNUITY|AMT_GOODS_PRICE|PAYMENT_RATE|ANNUITY_INCOME|CREDIT_INCOME|INCOME_CREDIT"
        r"|CREDIT_TERM|CREDIT_TO_GOODS|GOODS_)",
    ),
    _group("income", "les revenus", "income", r"^(AMT_INCOME|INCOME_PER_PERSON|INCOME)"),
    _group(
        "family",
        "la situation familiale",
        "family situation",
        r"^(CNT_CHILDREN|CNT_FAM_MEMBERS|NAME_FAMILY_STATUS|NAME_TYPE_SUITE)",
    ),
    _group("education", "le niveau d'études", "education", r"^NAME_EDUCATION_TYPE"),
    _group("gender", "le genre", "gender", r"^CODE_GENDER"),
    _group("contract", "le type de contrat", "the contract type", r"^NAME_CONTRACT_TYPE"),
    _group(
        "assets",
        "le logement et les biens",
        "housing and assets",
        r"^(FLAG_OWN_|OWN_CAR_AGE|CAR_AGE|NAME_HOUSING_TYPE|.*_(AVG|MODE|MEDI)$)",
    ),
    _group("region", "la région", "the region", r"^(REGION_|REG_|LIVE_)"),
    _group("social_circle", "l'entourage", "the social circle", r"SOCIAL_CIRCLE"),
    _group("documents", "les documents fournis", "documents provided", r"^(FLAG_DOCUMENT|DOCUMENT_COUNT)"),
    _group(
        "contact",
        "les coordonnées et l'ancienneté des pièces",
        "contact details and identity records",
        r"^(DAYS_ID_PUBLISH|DAYS_REGISTRATION|DAYS_LAST_PHONE|PHONE_CHANGE|FLAG_MOBIL|FLAG_.*PHONE|FLAG_EMAIL"
        r"|FLAG_CONT)",
    ),
    _group(
        "bureau",
        "l'historique au bureau de crédit",
        "the credit bureau history",
        r"^(BURO_|BUREAU_|ACTIVE_|CLOSED_|AMT_REQ_CREDIT_BUREAU)",
    ),
    _group("previous", "les demandes précédentes", "previous applications", r"^(PREV_|APPROVED_|REFUSED_)"),
    _group("pos_cash", "les crédits point de vente", "point-of-sale loans", r"^POS_"),
    _group("instalments", "l'historique des remboursements", "the repayment history", r"^INSTAL_"),
    _group("credit_card", "les cartes de crédit", "credit cards", r"^CC_"),
)


def group_of(feature: str) -> Group | None:
    """The first group whose rule matches the feature name, or None (the feature is its own group)."""
    for group in GROUPS:
        if group.pattern.search(feature):
            return group
    return None
