"""French and English labels, units and display rules for every raw application column and every feature.

Labels are written for clients and relationship managers, not data scientists ("Âge", "Revenu annuel"), because
the scorer uses them to explain decisions. Side-table aggregates are labelled by rule: the prefix names the
source ("BURO" → credits at other institutions), the stem names the column, the suffix the statistic, e.g.
``BURO_DAYS_CREDIT_MAX`` → "Autres crédits : ancienneté des crédits (max)".
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    fr: str
    en: str
    unit: str  # days | day_count | months | years | money | ratio | score | count | flag | category | hour | number


_APPLICATION: dict[str, tuple[str, str, str]] = {
    "SK_ID_CURR": ("Identifiant client", "Client id", "number"),
    "TARGET": ("Défaut de paiement (1 = oui)", "Payment default (1 = yes)", "flag"),
    "NAME_CONTRACT_TYPE": ("Type de crédit", "Contract type", "category"),
    "CODE_GENDER": ("Sexe", "Sex", "category"),
    "FLAG_OWN_CAR": ("Possède une voiture", "Owns a car", "category"),
    "FLAG_OWN_REALTY": ("Propriétaire de son logement", "Owns real estate", "category"),
    "CNT_CHILDREN": ("Nombre d'enfants", "Number of children", "count"),
    "AMT_INCOME_TOTAL": ("Revenu annuel", "Annual income", "money"),
    "AMT_CREDIT": ("Montant du crédit", "Credit amount", "money"),
    "AMT_ANNUITY": ("Annuité du crédit", "Loan annuity", "money"),
    "AMT_GOODS_PRICE": ("Prix du bien financé", "Price of the goods", "money"),
    "NAME_TYPE_SUITE": ("Accompagnant lors de la demande", "Accompanied by", "category"),
    "NAME_INCOME_TYPE": ("Source de revenus", "Income type", "category"),
    "NAME_EDUCATION_TYPE": ("Niveau d'études", "Education", "category"),
    "NAME_FAMILY_STATUS": ("Situation familiale", "Family status", "category"),
    "NAME_HOUSING_TYPE": ("Logement", "Housing", "category"),
    "REGION_POPULATION_RELATIVE": (
        "Densité de population de la région",
        "Region population density",
        "number",
    ),
    "DAYS_BIRTH": ("Âge", "Age", "days"),
    "DAYS_EMPLOYED": ("Ancienneté dans l'emploi", "Time in current job", "days"),
    "DAYS_REGISTRATION": ("Ancienneté de l'enregistrement", "Time since registration change", "days"),
    "DAYS_ID_PUBLISH": ("Ancienneté de la pièce d'identité", "Age of identity document", "days"),
    "OWN_CAR_AGE": ("Âge de la voiture", "Age of the car", "years"),
    "FLAG_MOBIL": ("Téléphone mobile fourni", "Mobile phone given", "flag"),
    "FLAG_EMP_PHONE": ("Téléphone professionnel fourni", "Work phone of employer given", "flag"),
    "FLAG_WORK_PHONE": ("Téléphone au travail fourni", "Work phone given", "flag"),
    "FLAG_CONT_MOBILE": ("Mobile joignable", "Mobile reachable", "flag"),
    "FLAG_PHONE": ("Téléphone fixe fourni", "Home phone given", "flag"),
    "FLAG_EMAIL": ("E-mail fourni", "E-mail given", "flag"),
    "OCCUPATION_TYPE": ("Profession", "Occupation", "category"),
    "CNT_FAM_MEMBERS": ("Taille du foyer", "Household size", "count"),
    "REGION_RATING_CLIENT": ("Note de la région (1 à 3)", "Region rating (1 to 3)", "number"),
    "REGION_RATING_CLIENT_W_CITY": (
        "Note de la région et de la ville (1 à 3)",
        "Region and city rating (1 to 3)",
        "number",
    ),
    "WEEKDAY_APPR_PROCESS_START": ("Jour de la demande", "Weekday of the application", "category"),
    "HOUR_APPR_PROCESS_START": ("Heure de la demande", "Hour of the application", "hour"),
    "REG_REGION_NOT_LIVE_REGION": (
        "Région de résidence différente de la région déclarée",
        "Lives outside the registered region",
        "flag",
    ),
    "REG_REGION_NOT_WORK_REGION": (
        "Travaille hors de la région déclarée",
        "Works outside the registered region",
        "flag",
    ),
    "LIVE_REGION_NOT_WORK_REGION": (
        "Travaille hors de sa région de résidence",
        "Works outside home region",
        "flag",
    ),
    "REG_CITY_NOT_LIVE_CITY": (
        "Ville de résidence différente de la ville déclarée",
        "Lives outside the registered city",
        "flag",
    ),
    "REG_CITY_NOT_WORK_CITY": (
        "Travaille hors de la ville déclarée",
        "Works outside the registered city",
        "flag",
    ),
    "LIVE_CITY_NOT_WORK_CITY": ("Travaille hors de sa ville de résidence", "Works outside home city", "flag"),
    "ORGANIZATION_TYPE": ("Secteur de l'employeur", "Employer sector", "category"),
    "EXT_SOURCE_1": ("Score externe 1", "External score 1", "score"),
    "EXT_SOURCE_2": ("Score externe 2", "External score 2", "score"),
    "EXT_SOURCE_3": ("Score externe 3", "External score 3", "score"),
    "FONDKAPREMONT_MODE": ("Fonds de rénovation de l'immeuble", "Building repair fund", "category"),
    "HOUSETYPE_MODE": ("Type d'habitation", "House type", "category"),
    "TOTALAREA_MODE": (
        "Surface totale de l'immeuble (normalisée)",
        "Building total area (normalised)",
        "number",
    ),
    "WALLSMATERIAL_MODE": ("Matériau des murs", "Wall material", "category"),
    "EMERGENCYSTATE_MODE": ("Immeuble en état d'urgence", "Building in emergency state", "category"),
    "OBS_30_CNT_SOCIAL_CIRCLE": (
        "Proches observés (30 jours de retard)",
        "Social circle observed (30 days late)",
        "count",
    ),
    "DEF_30_CNT_SOCIAL_CIRCLE": (
        "Proches en défaut (30 jours de retard)",
        "Social circle defaulted (30 days late)",
        "count",
    ),
    "OBS_60_CNT_SOCIAL_CIRCLE": (
        "Proches observés (60 jours de retard)",
        "Social circle observed (60 days late)",
        "count",
    ),
    "DEF_60_CNT_SOCIAL_CIRCLE": (
        "Proches en défaut (60 jours de retard)",
        "Social circle defaulted (60 days late)",
        "count",
    ),
    "DAYS_LAST_PHONE_CHANGE": ("Dernier changement de téléphone", "Last phone change", "days"),
}
_BUILDING_STEMS: dict[str, tuple[str, str]] = {
    "APARTMENTS": ("appartements", "apartments"),
    "BASEMENTAREA": ("surface du sous-sol", "basement area"),
    "YEARS_BEGINEXPLUATATION": ("début d'exploitation", "start of use"),
    "YEARS_BUILD": ("âge de construction", "construction age"),
    "COMMONAREA": ("parties communes", "common area"),
    "ELEVATORS": ("ascenseurs", "elevators"),
    "ENTRANCES": ("entrées", "entrances"),
    "FLOORSMAX": ("étages (max)", "floors (max)"),
    "FLOORSMIN": ("étages (min)", "floors (min)"),
    "LANDAREA": ("surface du terrain", "land area"),
    "LIVINGAPARTMENTS": ("logements habités", "living apartments"),
    "LIVINGAREA": ("surface habitable", "living area"),
    "NONLIVINGAPARTMENTS": ("logements non habités", "non-living apartments"),
    "NONLIVINGAREA": ("surface non habitable", "non-living area"),
}
_BUILDING_SUFFIXES = {"AVG": ("moyenne", "mean"), "MODE": ("mode", "mode"), "MEDI": ("médiane", "median")}
_REQUEST_PERIODS = {
    "HOUR": ("heure", "hour"),
    "DAY": ("jour", "day"),
    "WEEK": ("semaine", "week"),
    "MON": ("mois", "month"),
    "QRT": ("trimestre", "quarter"),
    "YEAR": ("année", "year"),
}

_DERIVED: dict[str, tuple[str, str, str]] = {
    "DAYS_EMPLOYED_ANOM": (
        "Sans emploi salarié (retraité, sans emploi)",
        "Not employed (pensioner, unemployed)",
        "flag",
    ),
    "DAYS_EMPLOYED_PERC": (
        "Part de la vie passée dans l'emploi actuel",
        "Share of life in current job",
        "ratio",
    ),
    "INCOME_CREDIT_PERC": ("Revenu rapporté au crédit", "Income to credit", "ratio"),
    "INCOME_PER_PERSON": ("Revenu par personne du foyer", "Income per household member", "money"),
    "ANNUITY_INCOME_PERC": (
        "Part du revenu consacrée au remboursement",
        "Share of income spent on the loan",
        "ratio",
    ),
    "PAYMENT_RATE": (
        "Taux de remboursement annuel (annuité / crédit)",
        "Yearly repayment rate (annuity / credit)",
        "ratio",
    ),
    "CREDIT_TO_GOODS": ("Crédit rapporté au prix du bien", "Credit to goods price", "ratio"),
    "GOODS_INCOME_PERC": ("Prix du bien rapporté au revenu", "Goods price to income", "ratio"),
    "EXT_SOURCES_MEAN": ("Scores externes (moyenne)", "External scores (mean)", "score"),
    "EXT_SOURCES_MIN": ("Scores externes (min)", "External scores (min)", "score"),
    "EXT_SOURCES_MAX": ("Scores externes (max)", "External scores (max)", "score"),
    "EXT_SOURCES_PROD": ("Scores externes (produit)", "External scores (product)", "score"),
    "EXT_SOURCES_NAN": ("Scores externes manquants", "Missing external scores", "count"),
    "CAR_AGE_TO_AGE": ("Âge de la voiture rapporté à l'âge", "Car age to client age", "ratio"),
    "PHONE_CHANGE_TO_AGE": ("Changement de téléphone rapporté à l'âge", "Phone change to age", "ratio"),
    "DOCUMENT_COUNT": ("Nombre de justificatifs fournis", "Documents provided", "count"),
}

# Side-table aggregates: source prefix, column stem, statistic suffix.
_PREFIXES: dict[str, tuple[str, str]] = {
    "BURO": ("Autres crédits", "Other credits"),
    "ACTIVE": ("Autres crédits en cours", "Other active credits"),
    "CLOSED": ("Autres crédits clos", "Other closed credits"),
    "PREV": ("Demandes précédentes", "Previous applications"),
    "APPROVED": ("Demandes précédentes acceptées", "Approved previous applications"),
    "REFUSED": ("Demandes précédentes refusées", "Refused previous applications"),
    "POS": ("Prêts précédents (relevés mensuels)", "Previous loans (monthly)"),
    "INSTAL": ("Échéances passées", "Past instalments"),
    "CC": ("Carte de crédit", "Credit card"),
}
_STEMS: dict[str, tuple[str, str, str]] = {
    "DAYS_CREDIT": ("ancienneté des crédits", "credit age", "days"),
    "DAYS_CREDIT_ENDDATE": ("échéance prévue", "planned end", "days"),
    "DAYS_CREDIT_UPDATE": ("dernière mise à jour", "last update", "days"),
    "CREDIT_DAY_OVERDUE": ("jours de retard actuels", "days overdue now", "day_count"),
    "AMT_CREDIT_MAX_OVERDUE": ("plus gros impayé", "largest overdue amount", "money"),
    "AMT_CREDIT_SUM": ("montant", "amount", "money"),
    "AMT_CREDIT_SUM_DEBT": ("dette restante", "remaining debt", "money"),
    "AMT_CREDIT_SUM_OVERDUE": ("montant impayé", "overdue amount", "money"),
    "AMT_CREDIT_SUM_LIMIT": ("plafond", "credit limit", "money"),
    "AMT_ANNUITY": ("annuité", "annuity", "money"),
    "CNT_CREDIT_PROLONG": ("prolongations", "extensions", "count"),
    "MONTHS_BALANCE": ("relevé le plus ancien", "oldest monthly record", "months"),
    "STATUS_LATE": ("mois en retard", "months in arrears", "count"),
    "AMT_APPLICATION": ("montant demandé", "amount asked", "money"),
    "AMT_CREDIT": ("montant accordé", "amount granted", "money"),
    "APP_CREDIT_PERC": ("demandé / accordé", "asked / granted", "ratio"),
    "AMT_DOWN_PAYMENT": ("apport", "down payment", "money"),
    "AMT_GOODS_PRICE": ("prix du bien", "goods price", "money"),
    "HOUR_APPR_PROCESS_START": ("heure de la demande", "application hour", "hour"),
    "RATE_DOWN_PAYMENT": ("taux d'apport", "down payment rate", "ratio"),
    "DAYS_DECISION": ("date de décision", "decision date", "days"),
    "CNT_PAYMENT": ("nombre d'échéances", "number of payments", "count"),
    "REFUSED": ("part de refus", "share refused", "ratio"),
    "DAYS_LAST_DUE_1ST_VERSION": ("dernière échéance prévue", "planned last due date", "days"),
    "DAYS_TERMINATION": ("date de fin", "termination date", "days"),
    "CNT_INSTALMENT_FUTURE": ("échéances restantes", "instalments left", "count"),
    "SK_DPD": ("jours de retard", "days past due", "day_count"),
    "SK_DPD_DEF": ("jours de retard significatifs", "days past due (significant)", "day_count"),
    "STATUS_COMPLETED": ("part des prêts terminés", "share completed", "ratio"),
    "DPD": ("jours de retard", "days late", "day_count"),
    "DBD": ("jours d'avance", "days early", "day_count"),
    "LATE": ("échéances en retard", "late instalments", "ratio"),
    "PAYMENT_PERC": ("part payée", "share paid", "ratio"),
    "PAYMENT_DIFF": ("reste à payer", "unpaid amount", "money"),
    "AMT_INSTALMENT": ("montant dû", "amount due", "money"),
    "AMT_PAYMENT": ("montant payé", "amount paid", "money"),
    "DAYS_ENTRY_PAYMENT": ("date de paiement", "payment date", "days"),
    "AMT_BALANCE": ("solde", "balance", "money"),
    "AMT_CREDIT_LIMIT_ACTUAL": ("plafond", "limit", "money"),
    "UTILISATION": ("utilisation du plafond", "limit used", "ratio"),
    "AMT_DRAWINGS_CURRENT": ("retraits et achats", "drawings", "money"),
    "AMT_DRAWINGS_ATM_CURRENT": ("retraits au distributeur", "ATM withdrawals", "money"),
    "AMT_PAYMENT_TOTAL_CURRENT": ("remboursements", "repayments", "money"),
    "AMT_INST_MIN_REGULARITY": ("mensualité minimale", "minimum instalment", "money"),
    "CNT_DRAWINGS_CURRENT": ("nombre de retraits et achats", "number of drawings", "count"),
}
_STATS: dict[str, tuple[str, str]] = {
    "MIN": ("min", "min"),
    "MAX": ("max", "max"),
    "MEAN": ("moyenne", "mean"),
    "SUM": ("total", "total"),
    "VAR": ("variance", "variance"),
}
_TOTAL_KEYS: dict[str, tuple[str, str]] = {  # non-aggregate table-level columns of ``features``
    "split": ("Échantillon (apprentissage / test)", "Split (train / test)"),
}

# Raw side-table columns, for the COMMENT ON of the raw tables (English, after the Kaggle column dictionary).
RAW_SIDE_COLUMNS: dict[str, str] = {
    "SK_ID_CURR": "Client id (application)",
    "SK_ID_BUREAU": "Bureau credit id",
    "SK_ID_PREV": "Previous credit id",
    "CREDIT_ACTIVE": "Status of the bureau credit (Active, Closed, Sold, Bad debt)",
    "CREDIT_CURRENCY": "Currency of the bureau credit",
    "DAYS_CREDIT": "Days before the application when the bureau credit was applied for",
    "CREDIT_DAY_OVERDUE": "Days past due on the bureau credit at application time",
    "DAYS_CREDIT_ENDDATE": "Remaining days of the bureau credit at application time",
    "DAYS_ENDDATE_FACT": "Days since the bureau credit ended (closed credits)",
    "AMT_CREDIT_MAX_OVERDUE": "Largest overdue amount so far",
    "CNT_CREDIT_PROLONG": "Number of extensions",
    "AMT_CREDIT_SUM": "Bureau credit amount",
    "AMT_CREDIT_SUM_DEBT": "Current debt (can be negative)",
    "AMT_CREDIT_SUM_LIMIT": "Credit limit (credit cards)",
    "AMT_CREDIT_SUM_OVERDUE": "Amount overdue now",
    "CREDIT_TYPE": "Type of bureau credit",
    "DAYS_CREDIT_UPDATE": "Days since the last bureau update",
    "AMT_ANNUITY": "Annuity",
    "MONTHS_BALANCE": "Month of the record relative to the application (-1 = last)",
    "STATUS": "Monthly status: 0 on time, 1-5 late by 30-day buckets, C closed, X unknown",
    "NAME_CONTRACT_TYPE": "Contract type",
    "AMT_APPLICATION": "Amount asked for",
    "AMT_CREDIT": "Amount granted",
    "AMT_DOWN_PAYMENT": "Down payment",
    "AMT_GOODS_PRICE": "Price of the goods",
    "WEEKDAY_APPR_PROCESS_START": "Weekday of the application",
    "HOUR_APPR_PROCESS_START": "Hour of the application",
    "FLAG_LAST_APPL_PER_CONTRACT": "Last application for this contract (Y/N)",
    "NFLAG_LAST_APPL_IN_DAY": "Last application of that day (1/0)",
    "RATE_DOWN_PAYMENT": "Down payment rate",
    "RATE_INTEREST_PRIMARY": "Interest rate (normalised)",
    "RATE_INTEREST_PRIVILEGED": "Privileged rate (normalised)",
    "NAME_CASH_LOAN_PURPOSE": "Purpose of a cash loan (XAP/XNA = not applicable)",
    "NAME_CONTRACT_STATUS": "Contract status",
    "DAYS_DECISION": "Days before the application of the decision",
    "NAME_PAYMENT_TYPE": "Payment method",
    "CODE_REJECT_REASON": "Reason for refusal (XAP = not refused)",
    "NAME_TYPE_SUITE": "Who accompanied the client",
    "NAME_CLIENT_TYPE": "New, repeat or refreshed client",
    "NAME_GOODS_CATEGORY": "Category of goods",
    "NAME_PORTFOLIO": "Portfolio (POS, Cash, Cards)",
    "NAME_PRODUCT_TYPE": "Product type (x-sell, walk-in)",
    "CHANNEL_TYPE": "Acquisition channel",
    "SELLERPLACE_AREA": "Seller area",
    "NAME_SELLER_INDUSTRY": "Seller industry",
    "CNT_PAYMENT": "Term of the previous credit (number of payments)",
    "NAME_YIELD_GROUP": "Interest rate group",
    "PRODUCT_COMBINATION": "Product combination",
    "DAYS_FIRST_DRAWING": "Days of first drawing (365243 = none)",
    "DAYS_FIRST_DUE": "Days of first due date",
    "DAYS_LAST_DUE_1ST_VERSION": "Days of planned last due date",
    "DAYS_LAST_DUE": "Days of last due date",
    "DAYS_TERMINATION": "Days of expected termination",
    "NFLAG_INSURED_ON_APPROVAL": "Insurance requested (1/0)",
    "CNT_INSTALMENT": "Term (number of instalments)",
    "CNT_INSTALMENT_FUTURE": "Instalments left to pay",
    "SK_DPD": "Days past due this month",
    "SK_DPD_DEF": "Days past due this month, ignoring small debts",
    "NUM_INSTALMENT_VERSION": "Version of the instalment calendar (0 = credit card)",
    "NUM_INSTALMENT_NUMBER": "Instalment number",
    "DAYS_INSTALMENT": "Day the instalment was due",
    "DAYS_ENTRY_PAYMENT": "Day the instalment was paid",
    "AMT_INSTALMENT": "Amount due",
    "AMT_PAYMENT": "Amount paid",
    "AMT_BALANCE": "Balance",
    "AMT_CREDIT_LIMIT_ACTUAL": "Card limit",
    "AMT_DRAWINGS_ATM_CURRENT": "ATM withdrawals this month",
    "AMT_DRAWINGS_CURRENT": "Drawings this month",
    "AMT_DRAWINGS_OTHER_CURRENT": "Other drawings this month",
    "AMT_DRAWINGS_POS_CURRENT": "Purchases this month",
    "AMT_INST_MIN_REGULARITY": "Minimum instalment this month",
    "AMT_PAYMENT_CURRENT": "Paid this month",
    "AMT_PAYMENT_TOTAL_CURRENT": "Total paid this month",
    "AMT_RECEIVABLE_PRINCIPAL": "Principal receivable",
    "AMT_RECIVABLE": "Amount receivable (sic)",
    "AMT_TOTAL_RECEIVABLE": "Total receivable",
    "CNT_DRAWINGS_ATM_CURRENT": "Number of ATM withdrawals",
    "CNT_DRAWINGS_CURRENT": "Number of drawings",
    "CNT_DRAWINGS_OTHER_CURRENT": "Number of other drawings",
    "CNT_DRAWINGS_POS_CURRENT": "Number of purchases",
    "CNT_INSTALMENT_MATURE_CUM": "Instalments paid so far",
}

_YES_NO = {"Y": ("Oui", "Yes"), "N": ("Non", "No")}
_ORGANISATION_FAMILIES = {  # Kaggle "Industry: type 3" and similar: numbered sub-sectors with no public meaning
    "Business Entity Type {n}": ("Entreprise (type {n})", "Business (type {n})", range(1, 4)),
    "Industry: type {n}": ("Industrie (type {n})", "Industry (type {n})", range(1, 14)),
    "Trade: type {n}": ("Commerce (type {n})", "Trade (type {n})", range(1, 8)),
    "Transport: type {n}": ("Transport (type {n})", "Transport (type {n})", range(1, 5)),
}

# Every level of every categorical application column (Kaggle's and the generator's): (French, English) words a
# client understands. One table: the dashboard, the scorer's reasons and what-if form, and the warehouse's
# ``clients`` view all read it.
LEVELS: dict[str, dict[str, tuple[str, str]]] = {
    "NAME_CONTRACT_TYPE": {
        "Cash loans": ("Prêt personnel", "Cash loan"),
        "Revolving loans": ("Crédit renouvelable", "Revolving credit"),
    },
    "CODE_GENDER": {"F": ("Femme", "Woman"), "M": ("Homme", "Man"), "XNA": ("Non renseigné", "Not given")},
    "FLAG_OWN_CAR": _YES_NO,
    "FLAG_OWN_REALTY": _YES_NO,
    "NAME_TYPE_SUITE": {
        "Unaccompanied": ("Seul(e)", "Alone"),
        "Family": ("En famille", "With family"),
        "Spouse, partner": ("Avec son conjoint", "With spouse or partner"),
        "Children": ("Avec ses enfants", "With children"),
        "Other_A": ("Autre accompagnant (A)", "Other companion (A)"),
        "Other_B": ("Autre accompagnant (B)", "Other companion (B)"),
        "Group of people": ("En groupe", "With a group"),
    },
    "NAME_INCOME_TYPE": {
        "Working": ("Salarié(e)", "Employee"),
        "Commercial associate": ("Commerçant(e) / associé(e)", "Commercial associate"),
        "Pensioner": ("Retraité(e)", "Retired"),
        "State servant": ("Fonctionnaire", "Civil servant"),
        "Unemployed": ("Sans emploi", "Unemployed"),
        "Student": ("Étudiant(e)", "Student"),
        "Businessman": ("Chef d'entreprise", "Business owner"),
        "Maternity leave": ("Congé maternité", "Maternity leave"),
    },
    "NAME_EDUCATION_TYPE": {
        "Secondary / secondary special": ("Secondaire", "Secondary school"),
        "Higher education": ("Supérieur", "Higher education"),
        "Incomplete higher": ("Supérieur non terminé", "Higher education, not completed"),
        "Lower secondary": ("Collège", "Lower secondary school"),
        "Academic degree": ("Doctorat", "Doctorate"),
    },
    "NAME_FAMILY_STATUS": {
        "Married": ("Marié(e)", "Married"),
        "Single / not married": ("Célibataire", "Single"),
        "Civil marriage": ("Union libre / PACS", "Civil partnership"),
        "Separated": ("Séparé(e)", "Separated"),
        "Widow": ("Veuf / veuve", "Widowed"),
        "Unknown": ("Inconnu", "Unknown"),
    },
    "NAME_HOUSING_TYPE": {
        "House / apartment": ("Maison / appartement", "House or flat"),
        "With parents": ("Chez ses parents", "With parents"),
        "Municipal apartment": ("Logement social", "Social housing"),
        "Rented apartment": ("Location", "Rented flat"),
        "Office apartment": ("Logement de fonction", "Company housing"),
        "Co-op apartment": ("Coopérative", "Housing co-operative"),
    },
    "OCCUPATION_TYPE": {
        "Laborers": ("Ouvrier / ouvrière", "Labourer"),
        "Sales staff": ("Vendeur / vendeuse", "Sales staff"),
        "Core staff": ("Employé(e)", "Office staff"),
        "Managers": ("Cadre", "Manager"),
        "Drivers": ("Chauffeur", "Driver"),
        "High skill tech staff": ("Technicien(ne) qualifié(e)", "Skilled technician"),
        "Accountants": ("Comptable", "Accountant"),
        "Medicine staff": ("Personnel médical", "Medical staff"),
        "Security staff": ("Agent de sécurité", "Security staff"),
        "Cooking staff": ("Cuisinier / cuisinière", "Cook"),
        "Cleaning staff": ("Agent d'entretien", "Cleaner"),
        "Private service staff": ("Employé(e) de maison", "Domestic staff"),
        "Low-skill Laborers": ("Manœuvre", "Unskilled labourer"),
        "Waiters/barmen staff": ("Serveur / barman", "Waiter or bar staff"),
        "Secretaries": ("Secrétaire", "Secretary"),
        "Realty agents": ("Agent immobilier", "Estate agent"),
        "HR staff": ("Ressources humaines", "Human resources"),
        "IT staff": ("Informaticien(ne)", "IT staff"),
    },
    "WEEKDAY_APPR_PROCESS_START": {  # Kaggle writes the day in full, the generator in three letters
        spelling: words
        for day, words in {
            "MONDAY": ("lundi", "Monday"),
            "TUESDAY": ("mardi", "Tuesday"),
            "WEDNESDAY": ("mercredi", "Wednesday"),
            "THURSDAY": ("jeudi", "Thursday"),
            "FRIDAY": ("vendredi", "Friday"),
            "SATURDAY": ("samedi", "Saturday"),
            "SUNDAY": ("dimanche", "Sunday"),
        }.items()
        for spelling in (day, day[:3])
    },
    "ORGANIZATION_TYPE": {
        **{
            pattern.format(n=n): (fr.format(n=n), en.format(n=n))
            for pattern, (fr, en, numbers) in _ORGANISATION_FAMILIES.items()
            for n in numbers
        },
        "XNA": ("Sans employeur", "No employer"),
        "Self-employed": ("Indépendant(e)", "Self-employed"),
        "Other": ("Autre secteur", "Other sector"),
        "Medicine": ("Santé", "Health care"),
        "Government": ("Administration", "Government"),
        "School": ("École", "School"),
        "Kindergarten": ("Crèche / maternelle", "Nursery school"),
        "Construction": ("Bâtiment", "Construction"),
        "Housing": ("Logement", "Housing"),
        "Military": ("Armée", "Armed forces"),
        "Bank": ("Banque", "Bank"),
        "Agriculture": ("Agriculture", "Agriculture"),
        "Police": ("Police", "Police"),
        "Postal": ("Poste", "Postal services"),
        "Security Ministries": ("Ministères régaliens", "Security ministries"),
        "Restaurant": ("Restauration", "Restaurant"),
        "Services": ("Services", "Services"),
        "University": ("Université", "University"),
        "Hotel": ("Hôtellerie", "Hotel"),
        "Electricity": ("Énergie", "Electricity"),
        "Security": ("Sécurité privée", "Private security"),
        "Insurance": ("Assurance", "Insurance"),
        "Telecom": ("Télécommunications", "Telecoms"),
        "Emergency": ("Secours", "Emergency services"),
        "Advertising": ("Publicité", "Advertising"),
        "Realtor": ("Immobilier", "Real estate"),
        "Culture": ("Culture", "Culture"),
        "Mobile": ("Téléphonie mobile", "Mobile phones"),
        "Legal Services": ("Services juridiques", "Legal services"),
        "Cleaning": ("Nettoyage", "Cleaning"),
        "Religion": ("Culte", "Religion"),
    },
    "FONDKAPREMONT_MODE": {
        "reg oper account": ("Compte de l'opérateur régional", "Regional operator's account"),
        "reg oper spec account": (
            "Compte spécial de l'opérateur régional",
            "Regional operator's special account",
        ),
        "org spec account": ("Compte spécial de l'immeuble", "Building's special account"),
        "not specified": ("Non précisé", "Not specified"),
    },
    "HOUSETYPE_MODE": {
        "block of flats": ("Immeuble collectif", "Block of flats"),
        "specific housing": ("Logement spécifique", "Special housing"),
        "terraced house": ("Maison mitoyenne", "Terraced house"),
    },
    "WALLSMATERIAL_MODE": {
        "Panel": ("Panneaux préfabriqués", "Prefabricated panels"),
        "Stone, brick": ("Pierre, brique", "Stone or brick"),
        "Block": ("Parpaings", "Concrete blocks"),
        "Wooden": ("Bois", "Wood"),
        "Mixed": ("Mixte", "Mixed"),
        "Monolithic": ("Béton coulé", "Poured concrete"),
        "Others": ("Autres", "Other"),
    },
    "EMERGENCYSTATE_MODE": {"Yes": ("Oui", "Yes"), "No": ("Non", "No")},
}
# The French words alone, for the SQL of the ``clients`` view.
LEVELS_FR: dict[str, dict[str, str]] = {
    column: {level: fr for level, (fr, _) in levels.items()} for column, levels in LEVELS.items()
}


def _application_label(name: str) -> tuple[str, str, str] | None:
    if name in _APPLICATION:
        return _APPLICATION[name]
    stem, _, suffix = name.rpartition("_")
    if stem in _BUILDING_STEMS and suffix in _BUILDING_SUFFIXES:
        (fr, en), (sfr, sen) = _BUILDING_STEMS[stem], _BUILDING_SUFFIXES[suffix]
        return f"Immeuble : {fr} ({sfr}, normalisé)", f"Building: {en} ({sen}, normalised)", "number"
    if name.startswith("FLAG_DOCUMENT_"):
        number = name.removeprefix("FLAG_DOCUMENT_")
        return f"Justificatif n° {number} fourni", f"Document {number} provided", "flag"
    if name.startswith("AMT_REQ_CREDIT_BUREAU_"):
        fr, en = _REQUEST_PERIODS[name.removeprefix("AMT_REQ_CREDIT_BUREAU_")]
        return (
            f"Consultations du bureau de crédit (dernière {fr})"
            if fr in ("heure", "semaine", "année")
            else f"Consultations du bureau de crédit (dernier {fr})",
            f"Credit bureau enquiries (last {en})",
            "count",
        )
    return None


def _aggregate_label(name: str) -> tuple[str, str, str] | None:
    prefix, _, rest = name.partition("_")
    if prefix not in _PREFIXES:
        return None
    source_fr, source_en = _PREFIXES[prefix]
    if rest == "COUNT":
        return f"{source_fr} : nombre", f"{source_en}: count", "count"
    stem, _, stat = rest.rpartition("_")
    if stem not in _STEMS or stat not in _STATS:
        return None
    fr, en, unit = _STEMS[stem]
    stat_fr, stat_en = _STATS[stat]
    if stat == "VAR":
        unit = "number"
    elif stat == "SUM" and unit == "ratio":  # a summed 0/1 flag counts rows: 3 late instalments, not "300 %"
        unit = "count"
    return f"{source_fr} : {fr} ({stat_fr})", f"{source_en}: {en} ({stat_en})", unit


def describe(name: str) -> Label:
    """Label and unit of a raw application column or a feature; raises KeyError for an unknown name."""
    if name in _TOTAL_KEYS:
        fr, en = _TOTAL_KEYS[name]
        return Label(fr, en, "category")
    found = _DERIVED.get(name) or _application_label(name) or _aggregate_label(name)
    if found is None:
        raise KeyError(f"no label for column {name!r}")
    return Label(*found)


def label(name: str, lang: str = "fr") -> str:
    """Client-friendly label of ``name`` in French (``"fr"``) or English (``"en"``)."""
    entry = describe(name)
    return entry.fr if lang == "fr" else entry.en


def label_fr(name: str) -> str:
    return describe(name).fr


def label_en(name: str) -> str:
    return describe(name).en


def unit(name: str) -> str:
    return describe(name).unit


def level_label(column: str, level: str | None, lang: str = "fr") -> str:
    """Label of a category level in ``lang``; NULL → "manquant"/"missing". A level no table knows (a new one in
    future data) is shown as it is rather than failing a page."""
    if level is None:
        return MISSING[lang]
    words = LEVELS.get(column, {}).get(level)
    return level if words is None else words[0 if lang == "fr" else 1]


MISSING = {"fr": "manquant", "en": "missing"}  # the word for a value nobody gave, everywhere
_THIN = "\u202f"  # narrow no-break space: French thousands separator and space before units


def format_number(value: float | None, lang: str, decimals: int = 0) -> str:
    """The one number formatter of the project: "202 500,5" / "202,500.5", a true minus sign, "manquant" /
    "missing" for None or NaN. Everything a person reads (dictionary values, the scorer's reasons, the
    dashboard) goes through it, so one figure never looks two ways."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING.get(lang, MISSING["fr"])
    text = f"{abs(value):,.{decimals}f}"
    if lang == "fr":
        text = text.replace(",", _THIN).replace(".", ",")
    negative = value < 0 and float(f"{abs(value):.{decimals}f}") != 0
    return ("−" if negative else "") + text


def format_percent(share: float | None, lang: str, decimals: int = 1) -> str:
    """A share (0-1) as a percentage: "12,3 %" in French, "12.3%" in English."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return format_number(None, lang)
    number = format_number(share * 100, lang, decimals)
    return f"{number}{_THIN}%" if lang == "fr" else f"{number}%"


def format_measure(value: float, lang: str) -> str:
    """A number without a known unit: whole above 100, three decimals below (small ratios and scores)."""
    return format_number(value, lang, 0 if abs(value) >= 100 else 3)


def format_money(amount: float | None, lang: str) -> str:
    """An amount in euros: "202 500 €" / "€202,500"."""
    if amount is None or (isinstance(amount, float) and math.isnan(amount)):
        return format_number(None, lang)
    number = format_number(amount, lang, 0)
    return f"{number}{_THIN}€" if lang == "fr" else f"€{number}"


def _plural(count: float, singular: str, plural: str) -> str:
    return singular if abs(count) < 2 else plural


def humanize(name: str, value: object, lang: str = "fr") -> str:
    """``value`` of column ``name`` in human units: days → years, money with thin spaces, ratios as %.

    Examples (French): DAYS_BIRTH −15 750 → "43 ans", AMT_INCOME_TOTAL 202500 → "202 500 €",
    PAYMENT_RATE 0.05 → "5,0 %", NULL → "manquant". English: "43 years", "€202,500", "5.0%", "missing".
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING[lang]
    kind = unit(name)
    if kind == "category" or isinstance(value, str):
        return level_label(name, str(value), lang)
    number = float(value)
    fr = lang == "fr"
    if kind == "days":
        years = abs(number) / 365.25
        if years < 1:
            months = round(abs(number) / 30.44)
            return f"{months} mois" if fr else f"{months} {_plural(months, 'month', 'months')}"
        shown = format_number(years, lang, 0 if years >= 10 else 1)
        return f"{shown} ans" if fr else f"{shown} years"
    if kind == "years":
        shown = format_number(number, lang, 0)
        return f"{shown} ans" if fr else f"{shown} years"
    if kind == "months":
        shown = format_number(abs(number), lang, 0)
        return f"il y a {shown} mois" if fr else f"{shown} {_plural(number, 'month', 'months')} ago"
    if kind == "day_count":
        shown = format_number(number, lang, 0 if number == round(number) else 1)
        return (
            f"{shown} {_plural(number, 'jour', 'jours')}"
            if fr
            else f"{shown} {_plural(number, 'day', 'days')}"
        )
    if kind == "money":
        return format_money(number, lang)
    if kind == "ratio":
        return format_percent(number, lang)
    if kind == "flag":
        return ("oui" if number else "non") if fr else ("yes" if number else "no")
    if kind == "hour":
        return f"{int(number)} h" if fr else f"{int(number)}:00"
    if kind == "score":
        return format_number(number, lang, 2)
    if kind == "count":
        return format_number(number, lang, 0 if number == round(number) else 1)
    return format_measure(number, lang)
