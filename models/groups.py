"""Human groups of related features, so a reason reads "external scores" rather than four EXT_SOURCE columns.

Rules match feature names (raw Home Credit columns, the warehouse's derived ratios and the side-table aggregate
prefixes); the first matching rule wins. A feature no rule knows is its own group, labelled by the dictionary.
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

    def label(self, lang: str) -> str:
        return self.label_fr if lang == "fr" else self.label_en


def _group(key: str, label_fr: str, label_en: str, pattern: str) -> Group:
    return Group(key, label_fr, label_en, re.compile(pattern))


GROUPS: tuple[Group, ...] = (
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
    _group(
        "contract", "le type de contrat", "the contract type", r"^(NAME_CONTRACT_TYPE|WEEKDAY_APPR|HOUR_APPR)"
    ),
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
