"""French and English text for every label, help text and message of the dashboard.

French is the default: the relationship managers of Prêt à dépenser work in French. Every key exists in both
languages (a test enforces it), so switching language never shows a half-translated page. Numbers are formatted
by the same helpers everywhere so that "12,3 %" and "12.3%" are consistent across cards, tables and charts.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Mapping

# The warehouse's vocabulary (column labels, values in human units) and the project's one number formatter,
# passed on to the views, which import no lower layer.
from warehouse.dictionary import (  # noqa: F401
    MISSING,
    format_money,
    format_number,
    format_percent,
    humanize,
    level_label,
)
from warehouse.dictionary import label as feature_label  # noqa: F401
from warehouse.dictionary import unit as feature_unit  # noqa: F401

LANGUAGES: tuple[str, ...] = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

TEXT: dict[str, dict[str, str]] = {
    # Page shell
    "app.name": {"fr": "Prêt à dépenser", "en": "Prêt à dépenser"},
    "app.heading": {"fr": "Scoring crédit", "en": "Credit scoring"},
    "app.title": {
        "fr": "Scoring crédit – {client} – Prêt à dépenser",
        "en": "Credit scoring – {client} – Prêt à dépenser",
    },
    "app.no_client": {"fr": "aucun client", "en": "no client"},
    "app.client": {"fr": "client {id}", "en": "client {id}"},
    "app.skip": {"fr": "Aller au contenu principal", "en": "Skip to main content"},
    "app.nav": {"fr": "Vues du tableau de bord", "en": "Dashboard views"},
    "app.search_region": {"fr": "Recherche d'un client", "en": "Client search"},
    "app.switch_language": {"fr": "English", "en": "Français"},
    "app.switch_language_hint": {"fr": "Display in English", "en": "Afficher en français"},
    "app.footer": {
        "fr": "Aide à la décision : la décision finale appartient au chargé de clientèle. Les montants sont en euros.",
        "en": "Decision support: the final decision belongs to the relationship manager. Amounts are in euros.",
    },
    "app.missing_title": {"fr": "Données non disponibles", "en": "Data not available"},
    "app.missing_intro": {
        "fr": "Le tableau de bord ne peut pas démarrer : il manque les éléments suivants.",
        "en": "The dashboard cannot start: the following items are missing.",
    },
    "app.missing_warehouse": {
        "fr": "Entrepôt de données introuvable : {path}",
        "en": "Data warehouse not found: {path}",
    },
    "app.missing_model": {
        "fr": "Modèle de scoring introuvable : {path}",
        "en": "Scoring model not found: {path}",
    },
    "app.broken_resource": {
        "fr": "Impossible de charger {what} ({path}) : {error}",
        "en": "Could not load {what} ({path}): {error}",
    },
    "app.build_with": {"fr": "Commande pour le construire :", "en": "Command that builds it:"},
    # Data and model versions (pack: models.versions, dashboard/resources.py)
    "app.versions": {"fr": "Données {data}, modèle {model}.", "en": "Data {data}, model {model}."},
    "app.version_warehouse_unrecorded": {
        "fr": "L'entrepôt {path} ne dit pas de quelle construction il vient : reconstruisez-le, puis réentraînez "
        "le modèle.",
        "en": "The warehouse {path} does not record its build: rebuild it, then retrain the model.",
    },
    "app.version_model_other_data": {
        "fr": "Le modèle {path} a été entraîné sur d'autres données que l'entrepôt actuel : aucune décision n'est "
        "affichée tant qu'il n'est pas réentraîné.",
        "en": "The model {path} was trained on other data than the current warehouse: no decision is shown "
        "until it is retrained.",
    },
    "app.version_scores_other_model": {
        "fr": "Les scores enregistrés dans {path} viennent d'un autre modèle que celui en service : aucune "
        "décision n'est affichée tant qu'ils ne sont pas recalculés.",
        "en": "The scores stored in {path} come from another model than the one in service: no decision is "
        "shown until they are recomputed.",
    },
    # Navigation
    "nav.decision": {"fr": "Décision et raisons", "en": "Decision and reasons"},
    "nav.profile": {"fr": "Profil du client", "en": "Client profile"},
    "nav.compare": {"fr": "Comparer", "en": "Compare"},
    "nav.whatif": {"fr": "Simulation et nouveau client", "en": "What if and new client"},
    "nav.importance": {"fr": "Importance globale", "en": "Global importance"},
    "nav.portfolio": {"fr": "Portefeuille (chef d'équipe)", "en": "Portfolio (team lead)"},
    "nav.images": {"fr": "Images produits (ProtoViT)", "en": "Product images (ProtoViT)"},
    # Search
    "search.label": {"fr": "Numéro de dossier client", "en": "Client file number"},
    "search.placeholder": {"fr": "ex. 100002", "en": "e.g. 100002"},
    "search.button": {"fr": "Afficher le client", "en": "Show client"},
    "search.suggestions": {"fr": "Suggestions", "en": "Suggestions"},
    "search.recent": {"fr": "Clients consultés récemment", "en": "Recently viewed clients"},
    "search.none_recent": {"fr": "Aucun client consulté pour l'instant.", "en": "No client viewed yet."},
    "search.no_match": {
        "fr": "Aucun identifiant ne commence par « {prefix} ».",
        "en": "No client id starts with “{prefix}”.",
    },
    "search.show": {"fr": "Afficher le client {id}", "en": "Show client {id}"},
    "search.hint": {
        "fr": "Tapez les premiers chiffres de l'identifiant puis choisissez une suggestion ou appuyez sur Entrée.",
        "en": "Type the first digits of the id, then pick a suggestion or press Enter.",
    },
    "error.empty": {"fr": "Saisissez un identifiant client.", "en": "Enter a client id."},
    "error.malformed": {
        "fr": "« {text} » n'est pas un identifiant valide : saisissez uniquement des chiffres (6 à 10 en général).",
        "en": "“{text}” is not a valid id: type digits only (usually 6 to 10).",
    },
    "error.unknown": {"fr": "Aucun client ne porte l'identifiant {id}.", "en": "No client has the id {id}."},
    "error.too_long": {
        "fr": "« {text} » compte trop de chiffres pour un numéro de dossier (10 au plus en général) : vérifiez la saisie.",
        "en": "“{text}” has too many digits for a file number (usually 10 at most): check what was typed.",
    },
    "error.internal": {
        "fr": "Une erreur est survenue pendant le calcul ; le dernier résultat affiché reste valable. Détail : {detail}",
        "en": "An error occurred during the computation; the last result shown is still valid. Detail: {detail}",
    },
    "status.loaded": {
        "fr": "Client {id} : probabilité de défaut {probability}, {decision}.",
        "en": "Client {id}: probability of default {probability}, {decision}.",
    },
    "status.rescored": {
        "fr": "Nouveau score : {probability}, {decision} (avant : {before}).",
        "en": "New score: {probability}, {decision} (before: {before}).",
    },
    "status.pick_client": {
        "fr": "Choisissez un client pour afficher sa décision.",
        "en": "Pick a client to show their decision.",
    },
    # Decision card
    "decision.heading": {"fr": "Décision pour le client {id}", "en": "Decision for client {id}"},
    "decision.granted": {"fr": "Accord", "en": "Granted"},
    "decision.refused": {"fr": "Refus", "en": "Refused"},
    "decision.granted_long": {"fr": "crédit accordé", "en": "credit granted"},
    "decision.refused_long": {"fr": "crédit refusé", "en": "credit refused"},
    "decision.probability": {"fr": "Risque de défaut estimé", "en": "Estimated default risk"},
    "decision.threshold": {"fr": "Seuil de la politique de crédit", "en": "Credit policy threshold"},
    "decision.margin": {"fr": "Écart au seuil", "en": "Margin to the threshold"},
    "decision.margin_below": {"fr": "{points} sous le seuil", "en": "{points} below the threshold"},
    "decision.margin_above": {"fr": "{points} au-dessus du seuil", "en": "{points} above the threshold"},
    "decision.points": {"fr": "{value} point", "en": "{value} point"},
    "decision.points_plural": {"fr": "{value} points", "en": "{value} points"},
    "decision.grey_zone": {
        "fr": "Zone grise : la probabilité est à moins de {width} du seuil ; examinez le dossier avec attention.",
        "en": "Grey zone: the probability is within {width} of the threshold; review the file carefully.",
    },
    "decision.clear_zone": {
        "fr": "Hors zone grise (zone grise : seuil ± {width}).",
        "en": "Outside the grey zone (grey zone: threshold ± {width}).",
    },
    "decision.policy_note": {
        "fr": "Le seuil est fixé par la politique de crédit ; il n'est modifiable qu'en mode simulation.",
        "en": "The threshold is set by credit policy; it can only be changed in simulation mode.",
    },
    "decision.simulation": {"fr": "Mode simulation du seuil", "en": "Threshold simulation mode"},
    "decision.simulated_threshold": {"fr": "Seuil simulé (%)", "en": "Simulated threshold (%)"},
    "decision.simulated_threshold_label": {
        "fr": "Seuil simulé (non officiel)",
        "en": "Simulated threshold (not official)",
    },
    "decision.simulation_banner": {
        "fr": "SIMULATION : seuil {simulated} au lieu de {policy} (politique). Cette décision n'est pas officielle.",
        "en": "SIMULATION: threshold {simulated} instead of {policy} (policy). This decision is not official.",
    },
    "decision.simulation_error": {
        "fr": "Seuil simulé non pris en compte : saisissez un nombre entre 1 et 99 (%). La décision affichée est celle de la politique.",
        "en": "Simulated threshold not used: enter a number between 1 and 99 (%). The decision shown is the policy's.",
    },
    "gauge.label": {
        "fr": "Jauge : probabilité de défaut {probability} sur une échelle de 0 à {scale_max}, seuil {threshold}, zone grise de {low} à {high}. {decision}.",
        "en": "Gauge: probability of default {probability} on a 0 to {scale_max} scale, threshold {threshold}, grey zone from {low} to {high}. {decision}.",
    },
    "gauge.granted_side": {"fr": "✓ accord", "en": "✓ granted"},
    "gauge.refused_side": {"fr": "✗ refus", "en": "✗ refused"},
    "gauge.threshold": {"fr": "seuil {value}", "en": "threshold {value}"},
    "gauge.client": {"fr": "client {value}", "en": "client {value}"},
    # Why
    "why.heading": {"fr": "Pourquoi cette décision ?", "en": "Why this decision?"},
    "why.chart_heading": {"fr": "Ce qui fait le risque estimé", "en": "What makes up the estimated risk"},
    "why.points_note": {
        "fr": "Chaque barre montre de combien un groupe d'éléments du dossier augmente (▲) ou diminue (▼) le risque estimé, en points de pourcentage : partant du risque moyen de départ ({base}), elles s'additionnent exactement au risque du client ({probability}). La ligne en tirets marque la limite ({threshold}).",
        "en": "Each bar shows by how much a group of elements of the file raises (▲) or lowers (▼) the estimated risk, in percentage points: starting from the average starting risk ({base}), they add up exactly to the client's risk ({probability}). The dashed line marks the limit ({threshold}).",
    },
    "why.reasons_for": {"fr": "Ce qui joue en faveur du client", "en": "What speaks for the client"},
    "why.reasons_against": {"fr": "Ce qui joue contre le client", "en": "What speaks against the client"},
    "why.no_reason": {"fr": "Aucun facteur notable.", "en": "No notable factor."},
    "why.increases": {"fr": "▲ augmente le risque", "en": "▲ increases the risk"},
    "why.decreases": {"fr": "▼ diminue le risque", "en": "▼ decreases the risk"},
    "why.others_groups": {"fr": "{n} autres groupes", "en": "{n} other groups"},
    "why.no_effect": {"fr": "aucun effet", "en": "no effect"},
    "why.not_provided": {
        "fr": "Informations non fournies (jamais comptées comme une raison) : {items}.",
        "en": "Information not provided (never counted as a reason): {items}.",
    },
    "why.would_take_button": {
        "fr": "Calculer ce qui pourrait changer la décision",
        "en": "Work out what could change the decision",
    },
    "why.would_take_target": {
        "fr": "Changements réalistes du prêt qui ramènent le risque estimé sous {target}, calculés par le modèle en service (jamais l'âge, la situation familiale ni les notes externes) :",
        "en": "Realistic changes to the loan that bring the estimated risk under {target}, computed by the live model (never age, family status or external ratings):",
    },
    "why.threshold_mark": {"fr": "limite {value}", "en": "limit {value}"},
    "why.base": {"fr": "Risque moyen de départ", "en": "Average starting risk"},
    "why.final": {"fr": "Risque estimé du client", "en": "Client's estimated risk"},
    "why.chart_label": {
        "fr": "Graphique en cascade des {n} principaux groupes, du risque moyen de départ {base} au risque estimé du client {probability}, limite {threshold}, en points de pourcentage. Le détail figure dans le tableau qui suit.",
        "en": "Waterfall chart of the {n} main groups, from the average starting risk {base} to the client's estimated risk {probability}, limit {threshold}, in percentage points. The table below gives the details.",
    },
    "why.table_caption": {
        "fr": "Effet de chaque élément du dossier sur le risque estimé (points de pourcentage)",
        "en": "Effect of each element of the file on the estimated risk (percentage points)",
    },
    "why.show_table": {"fr": "Afficher le tableau des contributions", "en": "Show the contributions table"},
    "col.feature": {"fr": "Variable", "en": "Feature"},
    "col.value": {"fr": "Valeur du client", "en": "Client value"},
    "col.contribution": {"fr": "Effet (points)", "en": "Effect (points)"},
    "col.effect": {"fr": "Effet", "en": "Effect"},
    "col.group": {"fr": "Groupe", "en": "Group"},
    "col.size": {"fr": "Effectif", "en": "Size"},
    "col.default_rate": {"fr": "Taux de défaut observé", "en": "Observed default rate"},
    "col.percentile": {"fr": "Position du client (centile)", "en": "Client position (percentile)"},
    "col.median": {"fr": "Médiane", "en": "Median"},
    "col.before": {"fr": "Avant", "en": "Before"},
    "col.after": {"fr": "Après", "en": "After"},
    "col.change": {"fr": "Variation", "en": "Change"},
    "col.importance": {
        "fr": "Influence moyenne (unités internes du modèle)",
        "en": "Average influence (the model's internal units)",
    },
    "col.threshold": {"fr": "Seuil", "en": "Threshold"},
    "col.cost": {"fr": "Coût", "en": "Cost"},
    "col.metric": {"fr": "Indicateur", "en": "Metric"},
    "col.metric_value": {"fr": "Valeur", "en": "Value"},
    "col.range": {"fr": "Intervalle", "en": "Range"},
    "col.count": {"fr": "Nombre de clients", "en": "Number of clients"},
    "col.field": {"fr": "Champ", "en": "Field"},
    "col.class": {"fr": "Classe", "en": "Class"},
    "col.prototype": {"fr": "Prototype", "en": "Prototype"},
    "col.similarity": {"fr": "Similarité", "en": "Similarity"},
    "col.weight": {"fr": "Poids vers la classe prédite", "en": "Weight towards the predicted class"},
    "col.logit_contribution": {"fr": "Contribution (logit)", "en": "Contribution (logit)"},
    # Profile
    "profile.heading": {"fr": "Profil du client {id}", "en": "Profile of client {id}"},
    "profile.identity": {"fr": "Identité et famille", "en": "Identity and family"},
    "profile.housing": {"fr": "Logement", "en": "Housing"},
    "profile.employment": {"fr": "Emploi et revenus", "en": "Employment and income"},
    "profile.loan": {"fr": "Crédit demandé", "en": "Requested loan"},
    "profile.external": {"fr": "Scores externes", "en": "External scores"},
    "profile.other": {"fr": "Autres informations", "en": "Other information"},
    "profile.missing": dict(MISSING),
    "profile.external_note": {
        "fr": "Scores d'organismes externes, de 0 (risqué) à 1 (sûr).",
        "en": "Scores from external bureaus, from 0 (risky) to 1 (safe).",
    },
    # Profile fields (columns of the warehouse's `clients` view)
    "field.age_years": {"fr": "Âge", "en": "Age"},
    "field.children": {"fr": "Nombre d'enfants", "en": "Children"},
    "field.household_size": {"fr": "Taille du foyer", "en": "Household size"},
    "field.owns_home": {"fr": "Propriétaire d'un bien immobilier", "en": "Owns real estate"},
    "field.owns_car": {"fr": "Possède une voiture", "en": "Owns a car"},
    "field.region_rating": {"fr": "Note de la région (1 à 3)", "en": "Region rating (1 to 3)"},
    "field.employed": {"fr": "En emploi", "en": "Employed"},
    "field.seniority_years": {"fr": "Ancienneté dans l'emploi", "en": "Time in current job"},
    "field.annual_income": {"fr": "Revenu annuel", "en": "Annual income"},
    "field.credit_amount": {"fr": "Montant du crédit", "en": "Credit amount"},
    "field.annuity": {"fr": "Annuité", "en": "Annuity"},
    "field.goods_price": {"fr": "Prix du bien financé", "en": "Price of the goods"},
    "field.payment_rate_pct": {"fr": "Taux de remboursement annuel", "en": "Yearly repayment rate"},
    "field.annuity_income_pct": {
        "fr": "Part du revenu consacrée au crédit",
        "en": "Share of income spent on the loan",
    },
    "field.credit_income_ratio": {"fr": "Crédit / revenu annuel", "en": "Credit to annual income"},
    "field.duration_years": {
        "fr": "Durée estimée (crédit / annuité)",
        "en": "Estimated duration (credit / annuity)",
    },
    "field.ext_source_1": {"fr": "Score externe 1", "en": "External score 1"},
    "field.ext_source_2": {"fr": "Score externe 2", "en": "External score 2"},
    "field.ext_source_3": {"fr": "Score externe 3", "en": "External score 3"},
    "unit.years": {"fr": "{value} ans", "en": "{value} years"},
    "unit.times": {"fr": "{value} fois", "en": "{value} times"},
    "bool.yes": {"fr": "oui", "en": "yes"},
    "bool.no": {"fr": "non", "en": "no"},
    # Compare
    "compare.heading": {"fr": "Comparer le client {id}", "en": "Compare client {id}"},
    "compare.feature": {"fr": "Élément à comparer", "en": "Element to compare"},
    "compare.search_feature": {
        "fr": "Ou chercher un autre élément (tapez 2 lettres)",
        "en": "Or search another element (type 2 letters)",
    },
    "compare.histogram_legend": {
        "fr": "Légende : barres bleues pleines = tous les clients ; contour orange en tirets = « {group} » ; trait noir = le client. Hauteur : part des clients de chaque groupe dans l'intervalle.",
        "en": "Legend: solid blue bars = all clients; dashed orange outline = “{group}”; black line = the client. Height: share of each group's clients in the range.",
    },
    "compare.filters": {"fr": "Critères des clients similaires", "en": "Criteria for similar clients"},
    "compare.filters_help": {
        "fr": "Les clients similaires partagent les critères cochés avec le client ; le groupe « plus proches voisins » réunit les {k} clients les plus proches sur les variables les plus importantes (standardisées).",
        "en": "Similar clients share the ticked criteria with the client; the “nearest neighbours” group holds the {k} clients closest on the most important features (standardised).",
    },
    "compare.filter.age": {"fr": "Tranche d'âge (± 5 ans)", "en": "Age band (± 5 years)"},
    "compare.filter.income": {"fr": "Tranche de revenu (± 25 %)", "en": "Income band (± 25%)"},
    "compare.group.all": {"fr": "Tous les clients", "en": "All clients"},
    "compare.group.decision": {
        "fr": "Clients avec la même décision ({decision})",
        "en": "Clients with the same decision ({decision})",
    },
    "compare.group.decision_short": {
        "fr": "Clients avec la même décision",
        "en": "Clients with the same decision",
    },
    "compare.group.similar": {"fr": "Clients similaires (critères)", "en": "Similar clients (criteria)"},
    "compare.group.nearest": {"fr": "{k} plus proches voisins", "en": "{k} nearest neighbours"},
    "compare.groups_heading": {"fr": "Groupes de comparaison", "en": "Comparison groups"},
    "compare.distribution_heading": {"fr": "Distribution : {feature}", "en": "Distribution: {feature}"},
    "compare.distribution_label": {
        "fr": "Histogramme de {feature} pour tous les clients (barres bleues pleines) et pour le groupe « {group} » (contour orange pointillé) ; le trait noir marque la valeur du client ({value}).",
        "en": "Histogram of {feature} for all clients (solid blue bars) and for the group “{group}” (dashed orange outline); the black line marks the client's value ({value}).",
    },
    "compare.distribution_summary": {
        "fr": "Valeur du client : {value}. {all_pct} des clients ont une valeur plus petite ; dans le groupe « {group} » : {group_pct}.",
        "en": "Client value: {value}. {all_pct} of all clients have a smaller value; in the group “{group}”: {group_pct}.",
    },
    "compare.categorical_summary": {
        "fr": "Valeur du client : {value}. Taux de défaut par modalité dans le tableau.",
        "en": "Client value: {value}. Default rate per level in the table.",
    },
    "compare.histogram_group": {
        "fr": "Groupe tracé avec tous les clients",
        "en": "Group plotted against all clients",
    },
    "compare.bins_caption": {
        "fr": "Histogramme de {feature} (part des clients par intervalle)",
        "en": "Histogram of {feature} (share of clients per range)",
    },
    "compare.levels_caption": {
        "fr": "Taux de défaut par modalité de {feature}",
        "en": "Default rate per level of {feature}",
    },
    "compare.show_data": {"fr": "Afficher les données du graphique", "en": "Show the chart data"},
    "compare.bivariate_heading": {
        "fr": "Taux de défaut selon deux éléments",
        "en": "Default rate by two elements",
    },
    "compare.x": {"fr": "Variable en abscisse", "en": "Horizontal feature"},
    "compare.y": {"fr": "Variable en ordonnée", "en": "Vertical feature"},
    "compare.heatmap_label": {
        "fr": "Carte du taux de défaut selon {x} et {y} pour tous les clients (par cases, plus foncé = plus de défauts ; cases de moins de {n} clients laissées vides) ; la case du client est entourée d'un cadre épais.",
        "en": "Map of the default rate by {x} and {y} for all clients (in cells, darker = more defaults; cells with fewer than {n} clients left blank); the client's cell has a thick frame.",
    },
    "compare.heatmap_summary": {
        "fr": "La case du client ({x} {x_range}, {y} {y_range}) compte {count} clients, taux de défaut {rate}.",
        "en": "The client's cell ({x} {x_range}, {y} {y_range}) holds {count} clients, default rate {rate}.",
    },
    "compare.heatmap_outside": {
        "fr": "Une des deux valeurs du client est manquante ou hors des cases tracées.",
        "en": "One of the client's two values is missing or outside the plotted cells.",
    },
    "compare.heatmap_legend_few": {"fr": "taux de défaut 0 %", "en": "default rate 0%"},
    "compare.heatmap_legend_many": {"fr": "taux de défaut {rate}", "en": "default rate {rate}"},
    "compare.heatmap_caption": {
        "fr": "Cases non vides de la carte de densité",
        "en": "Non-empty cells of the density map",
    },
    "compare.numeric_only": {
        "fr": "Choisissez deux variables numériques.",
        "en": "Pick two numeric features.",
    },
    "compare.empty_group": {
        "fr": "Aucun client ne correspond à ces critères.",
        "en": "No client matches these criteria.",
    },
    # What if
    "whatif.heading": {"fr": "Simulation pour le client {id}", "en": "What if for client {id}"},
    "whatif.intro": {
        "fr": "Modifiez les champs puis recalculez : le dossier enregistré n'est pas modifié.",
        "en": "Edit the fields then rescore: the stored file is not changed.",
    },
    "whatif.rescore": {"fr": "Recalculer le score", "en": "Rescore"},
    "whatif.reset": {"fr": "Revenir aux valeurs du client", "en": "Back to the client's values"},
    "whatif.result": {
        "fr": "Probabilité de défaut : {before} → {after} ({delta}) ; décision : {decision}.",
        "en": "Probability of default: {before} → {after} ({delta}); decision: {decision}.",
    },
    "whatif.diff_caption": {
        "fr": "Effets qui ont le plus changé (points de pourcentage du risque de défaut)",
        "en": "Effects that changed most (percentage points of default risk)",
    },
    "whatif.fix_errors": {"fr": "Corrigez les champs signalés.", "en": "Fix the flagged fields."},
    "whatif.range": {"fr": "Valeurs autorisées : {low} à {high}", "en": "Allowed values: {low} to {high}"},
    "whatif.not_number": {
        "fr": "{field} : saisissez un nombre écrit à la française (virgule décimale, par exemple 10,5 ou 202 500).",
        "en": "{field}: enter a number written the English way (decimal point, e.g. 10.5 or 202,500).",
    },
    "whatif.choose": {"fr": "— à choisir —", "en": "— to choose —"},
    "whatif.choose_error": {"fr": "{field} : choisissez une valeur.", "en": "{field}: choose a value."},
    "whatif.rule.employment_vs_age": {
        "fr": "{YEARS_EMPLOYED} : au plus l'âge moins 14 ans ({AGE_YEARS}).",
        "en": "{YEARS_EMPLOYED}: at most the age minus 14 years ({AGE_YEARS}).",
    },
    "whatif.rule.annuity_vs_credit": {
        "fr": "{AMT_ANNUITY} : ne peut pas dépasser le {AMT_CREDIT}.",
        "en": "{AMT_ANNUITY}: cannot exceed the {AMT_CREDIT}.",
    },
    "whatif.rule.household_vs_children": {
        "fr": "{CNT_FAM_MEMBERS} : au moins le nombre d'enfants plus le client ({CNT_CHILDREN}).",
        "en": "{CNT_FAM_MEMBERS}: at least the number of children plus the client ({CNT_CHILDREN}).",
    },
    "whatif.new_heading": {"fr": "Nouveau client", "en": "New client"},
    "whatif.new_intro": {
        "fr": "Saisissez le dossier d'un nouveau client. Tous les champs sont requis, sauf l'ancienneté dans l'emploi et les scores externes (laissez-les vides s'ils sont inconnus). Sans historique chez nous ni au bureau de crédit, ces informations sont considérées comme absentes.",
        "en": "Enter a new client's file. Every field is required except time in current job and the external scores (leave them empty when unknown). With no history with us or at the credit bureau, that information is treated as missing.",
    },
    "whatif.new_score": {"fr": "Évaluer ce nouveau client", "en": "Score this new client"},
    "whatif.new_result": {
        "fr": "Nouveau client : probabilité de défaut {probability}, {decision}.",
        "en": "New client: probability of default {probability}, {decision}.",
    },
    "whatif.unavailable": {
        "fr": "Le modèle chargé ne propose pas de champs modifiables.",
        "en": "The loaded model offers no editable fields.",
    },
    # Importance
    "importance.heading": {"fr": "Importance globale des variables", "en": "Global feature importance"},
    "importance.intro": {
        "fr": "Moyenne, sur les clients d'entraînement, de l'effet de chaque élément sur le score, quel que soit son sens (en unités internes du modèle, pour comparer les éléments entre eux) : elle mesure l'influence d'un élément sur les décisions en général, pas pour un client donné.",
        "en": "Mean over the training clients of each element's effect on the score, whatever its direction (in the model's internal units, to compare elements with each other): how much an element weighs on decisions in general, not for one client.",
    },
    "importance.chart_label": {
        "fr": "Diagramme en barres des {n} variables les plus importantes ; la première est {first}. Le tableau qui suit donne les valeurs.",
        "en": "Bar chart of the {n} most important features; the first one is {first}. The table below gives the values.",
    },
    "importance.caption": {"fr": "Importance globale des variables", "en": "Global feature importance"},
    # Portfolio
    "portfolio.heading": {"fr": "Vue portefeuille", "en": "Portfolio view"},
    "portfolio.approval": {
        "fr": "Taux d'accord au seuil de la politique ({threshold}) : {rate} des {n} clients notés.",
        "en": "Approval rate at the policy threshold ({threshold}): {rate} of the {n} scored clients.",
    },
    "portfolio.no_scores": {
        "fr": "L'entrepôt ne contient pas encore de scores : lancez l'entraînement du modèle.",
        "en": "The warehouse holds no scores yet: train the model.",
    },
    "portfolio.distribution_heading": {"fr": "Distribution des scores", "en": "Score distribution"},
    "portfolio.distribution_label": {
        "fr": "Histogramme des probabilités de défaut du portefeuille ; le trait pointillé marque le seuil {threshold} ; barres pleines bleues à gauche (accord), barres hachurées orange à droite (refus).",
        "en": "Histogram of the portfolio's probabilities of default; the dashed line marks the threshold {threshold}; solid blue bars on the left (granted), hatched orange bars on the right (refused).",
    },
    "portfolio.distribution_caption": {
        "fr": "Nombre de clients par intervalle de probabilité",
        "en": "Number of clients per probability range",
    },
    "portfolio.metrics_heading": {"fr": "Performance du modèle", "en": "Model performance"},
    "portfolio.cost_heading": {"fr": "Coût métier selon le seuil", "en": "Business cost by threshold"},
    "portfolio.cost_label": {
        "fr": "Courbe du coût métier (10 × faux accords + 1 × faux refus) selon le seuil ; le trait pointillé marque le seuil de la politique {threshold}, au coût {cost}.",
        "en": "Business cost curve (10 × false grants + 1 × false refusals) by threshold; the dashed line marks the policy threshold {threshold}, at cost {cost}.",
    },
    "portfolio.cost_caption": {"fr": "Coût métier par seuil", "en": "Business cost by threshold"},
    "portfolio.fairness_heading": {"fr": "Équité entre groupes", "en": "Fairness across groups"},
    "portfolio.fairness_caption": {"fr": "Indicateurs par groupe", "en": "Metrics per group"},
    "metric.cv_auc": {"fr": "AUC ROC (validation croisée)", "en": "ROC AUC (cross-validation)"},
    "metric.oof_auc": {
        "fr": "AUC ROC (prédictions hors échantillon)",
        "en": "ROC AUC (out-of-fold predictions)",
    },
    "metric.threshold": {
        "fr": "Seuil de la politique (coût minimal)",
        "en": "Policy threshold (lowest cost)",
    },
    "metric.business_cost": {
        "fr": "Coût métier par client au seuil",
        "en": "Business cost per client at the threshold",
    },
    "metric.recall_at_threshold": {
        "fr": "Défauts détectés au seuil (rappel)",
        "en": "Defaults caught at the threshold (recall)",
    },
    "metric.precision_at_threshold": {
        "fr": "Défauts parmi les refus (précision)",
        "en": "Defaults among refusals (precision)",
    },
    "metric.approval_rate": {"fr": "Taux d'accord (entraînement)", "en": "Approval rate (training)"},
    "metric.brier": {"fr": "Score de Brier (calibration)", "en": "Brier score (calibration)"},
    "metric.default_rate": {
        "fr": "Taux de défaut observé (entraînement)",
        "en": "Observed default rate (training)",
    },
    "metric.n_train": {"fr": "Clients d'entraînement", "en": "Training clients"},
    "metric.n_features": {"fr": "Variables du modèle", "en": "Model features"},
    "metric.grey_zone": {"fr": "Demi-largeur de la zone grise", "en": "Grey zone half-width"},
    "portfolio.metrics_note": {
        "fr": "Toutes les mesures, avec les modèles de référence et la calibration, figurent dans la fiche du modèle.",
        "en": "Every measure, with the baseline models and calibration, is in the model card.",
    },
    "fairness.attribute": {"fr": "Critère", "en": "Criterion"},
    "portfolio.approval_gap": {
        "fr": "À examiner — {attribute} : le taux d'accord va de {low_rate} ({low}) à {high_rate} ({high}), soit {points} points d'écart.",
        "en": "To review — {attribute}: the approval rate ranges from {low_rate} ({low}) to {high_rate} ({high}), a gap of {points} points.",
    },
    "fairness.group": {"fr": "Groupe", "en": "Group"},
    "fairness.n": {"fr": "Clients", "en": "Clients"},
    "fairness.default_rate": {"fr": "Taux de défaut", "en": "Default rate"},
    "fairness.approval_rate": {"fr": "Taux d'accord", "en": "Approval rate"},
    "fairness.default_rate_approved": {"fr": "Défaut parmi les accords", "en": "Default among approved"},
    "fairness.fnr": {"fr": "Faux accords (FNR)", "en": "False grants (FNR)"},
    "fairness.fpr": {"fr": "Faux refus (FPR)", "en": "False refusals (FPR)"},
    "fairness.age_band": {"fr": "Tranche d'âge", "en": "Age band"},
    "portfolio.model_card_heading": {"fr": "Fiche du modèle", "en": "Model card"},
    # Export
    "export.heading": {"fr": "Exporter", "en": "Export"},
    "export.csv": {
        "fr": "Télécharger l'explication (CSV pour tableur)",
        "en": "Download the explanation (CSV for spreadsheets)",
    },
    "images.heading": {
        "fr": "Classement d'images produits expliqué (ProtoViT)",
        "en": "Explained product-image classification (ProtoViT)",
    },
    "images.intro": {
        "fr": "Le modèle compare des parties de l'image à des prototypes appris : « cette partie ressemble à ce prototype de la classe … ».",
        "en": "The model compares parts of the image with learnt prototypes: “this part looks like that prototype of class …”.",
    },
    "images.pick": {"fr": "Image du catalogue", "en": "Catalogue image"},
    "images.upload": {
        "fr": "Ou téléverser une image (PNG ou JPEG)",
        "en": "Or upload an image (PNG or JPEG)",
    },
    "images.explain": {"fr": "Expliquer cette image", "en": "Explain this image"},
    "images.missing_run": {
        "fr": "Aucun modèle d'images n'est encore entraîné sur ce serveur. Un administrateur peut l'entraîner avec la commande :",
        "en": "No image model has been trained on this server yet. An administrator can train it with the command:",
    },
    "images.missing_images": {
        "fr": "Aucune image produit n'est disponible sur ce serveur.",
        "en": "No product images are available on this server.",
    },
    "images.prediction": {
        "fr": "Classe prédite : {label} (confiance {confidence}).",
        "en": "Predicted class: {label} (confidence {confidence}).",
    },
    "images.alt": {
        "fr": "Fiche de raisonnement ProtoViT : image analysée, parties retenues et prototypes les plus proches. {summary}",
        "en": "ProtoViT reasoning sheet: analysed image, selected parts and closest prototypes. {summary}",
    },
    "images.table_caption": {
        "fr": "Prototypes qui expliquent la prédiction",
        "en": "Prototypes explaining the prediction",
    },
    "images.bad_image": {
        "fr": "Ce fichier n'est pas une image lisible.",
        "en": "This file is not a readable image.",
    },
    # -- client letter and CSV export (issue 11) ------------------------------------------------------------
    "letter.title": {
        "fr": "Lettre au client – dossier {id} – Prêt à dépenser",
        "en": "Letter to the client – file {id} – Prêt à dépenser",
    },
    "letter.dated": {"fr": "Le {date}", "en": "{date}"},
    "letter.subject": {
        "fr": "Objet : votre demande de crédit, dossier n° {id}",
        "en": "Your credit application, file no. {id}",
    },
    "letter.salutation": {"fr": "Madame, Monsieur,", "en": "Dear client,"},
    "letter.studied": {
        "fr": "Nous avons étudié votre demande de crédit d'un montant de {amount}.",
        "en": "We have studied your application for a credit of {amount}.",
    },
    "letter.granted": {
        "fr": "Nous avons le plaisir de vous informer que votre demande est acceptée.",
        "en": "We are pleased to tell you that your application is accepted.",
    },
    "letter.refused": {
        "fr": "Nous ne pouvons pas donner une suite favorable à votre demande aujourd'hui.",
        "en": "We cannot accept your application today.",
    },
    "letter.how": {
        "fr": "Notre évaluation s'appuie sur un traitement automatisé : un modèle statistique estime le risque que "
        "les remboursements ne soient pas tenus. Pour votre dossier, ce risque est estimé à {probability} ; notre "
        "limite est de {threshold}. Votre conseiller a examiné ce résultat avec vous.",
        "en": "Our assessment relies on automated processing: a statistical model estimates the risk that the "
        "repayments are not kept up. For your file this risk is estimated at {probability}; our limit is "
        "{threshold}. Your adviser has reviewed this result with you.",
    },
    "letter.reasons_against": {
        "fr": "Les principales raisons qui augmentent le risque estimé",
        "en": "The main reasons that raise the estimated risk",
    },
    "letter.reasons_for": {
        "fr": "Ce qui joue en votre faveur",
        "en": "What speaks in your favour",
    },
    "letter.no_reason": {
        "fr": "Aucun élément ne pèse à lui seul de façon notable.",
        "en": "No single element weighs notably on its own.",
    },
    "letter.points_note": {
        "fr": "Entre parenthèses : l'effet de chaque élément sur le risque estimé, en points de pourcentage.",
        "en": "In brackets: the effect of each element on the estimated risk, in percentage points.",
    },
    "letter.would_take": {
        "fr": "Ce qui pourrait changer la décision",
        "en": "What could change the decision",
    },
    "letter.new_risk": {"fr": "risque estimé : {probability}", "en": "estimated risk: {probability}"},
    "letter.not_provided": {
        "fr": "Informations non fournies : {items}. Les communiquer pourrait modifier l'évaluation.",
        "en": "Information not provided: {items}. Providing it could change the assessment.",
    },
    "letter.rights_heading": {"fr": "Vos droits", "en": "Your rights"},
    "letter.rights": {
        "fr": "Vous pouvez demander qu'une personne réexamine votre dossier, présenter votre point de vue et "
        "contester cette décision (règlement général sur la protection des données, art. 22 ; directive (UE) "
        "2023/2225, art. 18). Pour cela, contactez {contact}, en rappelant le dossier n° {id} ; un conseiller "
        "reprendra l'évaluation avec vous et vous répondra par écrit.",
        "en": "You may ask for a person to review your file, give your point of view and contest this decision "
        "(General Data Protection Regulation, art. 22; Directive (EU) 2023/2225, art. 18). To do so, contact "
        "{contact}, quoting file no. {id}; an adviser will go through the assessment with you and answer in "
        "writing.",
    },
    "letter.closing": {
        "fr": "Nous vous prions d'agréer, Madame, Monsieur, nos salutations distinguées.",
        "en": "Yours sincerely,",
    },
    "letter.adviser": {"fr": "Votre conseiller Prêt à dépenser", "en": "Your Prêt à dépenser adviser"},
    "letter.print": {"fr": "Imprimer ou enregistrer en PDF", "en": "Print or save as PDF"},
    "letter.csv": {"fr": "Télécharger l'explication (CSV)", "en": "Download the explanation (CSV)"},
    "letter.back": {"fr": "Retour au tableau de bord", "en": "Back to the dashboard"},
    "letter.toolbar": {"fr": "Actions sur la lettre", "en": "Letter actions"},
    "letter.outcome_granted": {"fr": "accordé", "en": "granted"},
    "letter.outcome_refused": {"fr": "refusé", "en": "refused"},
    "letter.unknown_client": {
        "fr": "Aucun client ne porte ce numéro : vérifiez le numéro de dossier dans l'adresse (?client=…).",
        "en": "No client has this number: check the file number in the address (?client=…).",
    },
    "letter.open": {"fr": "Lettre au client (à imprimer)", "en": "Letter to the client (to print)"},
    "csv.section": {"fr": "Rubrique", "en": "Section"},
    "csv.item": {"fr": "Élément", "en": "Item"},
    "csv.value": {"fr": "Valeur", "en": "Value"},
    "csv.points": {"fr": "Effet (points de pourcentage)", "en": "Effect (percentage points)"},
    "csv.decision": {"fr": "Décision", "en": "Decision"},
    "csv.client": {"fr": "Dossier", "en": "File"},
    "csv.outcome": {"fr": "Décision", "en": "Decision"},
    "csv.probability": {"fr": "Risque de défaut estimé (%)", "en": "Estimated default risk (%)"},
    "csv.threshold": {"fr": "Limite de la politique (%)", "en": "Policy limit (%)"},
    "csv.base": {"fr": "Risque moyen de départ (%)", "en": "Starting average risk (%)"},
    "csv.against": {"fr": "Raison contre", "en": "Reason against"},
    "csv.for": {"fr": "Raison pour", "en": "Reason for"},
    "csv.feature": {"fr": "Détail", "en": "Detail"},
    # Lost connection and incidents (deployment behind a proxy, server restarts, bad links)
    "app.connection_lost": {
        "fr": "La connexion au serveur est perdue : les chiffres affichés ne sont plus mis à jour et peuvent être "
        "périmés. Rechargez la page pour reprendre avec des données à jour.",
        "en": "The connection to the server was lost: the figures shown are no longer updated and may be out of "
        "date. Reload the page to continue with current data.",
    },
    "app.reload": {"fr": "Recharger la page", "en": "Reload the page"},
    "error.incident": {
        "fr": "Une erreur inattendue est survenue ; le dernier résultat affiché reste valable. Si elle se "
        "reproduit, communiquez au support la référence d'incident {incident}.",
        "en": "An unexpected error occurred; the last result shown is still valid. If it happens again, give "
        "support the incident reference {incident}.",
    },
    "error.page_incident": {
        "fr": "La page n'a pas pu être préparée. Rechargez-la ; si l'erreur persiste, communiquez au support la "
        "référence d'incident {incident}.",
        "en": "The page could not be prepared. Reload it; if the error persists, give support the incident "
        "reference {incident}.",
    },
    # Access: login, roles, audit trail, decision record (dashboard/access)
    "access.login_title": {"fr": "Connexion – Prêt à dépenser", "en": "Sign in – Prêt à dépenser"},
    "access.login_heading": {"fr": "Connexion au scoring crédit", "en": "Sign in to credit scoring"},
    "access.username": {"fr": "Identifiant", "en": "User name"},
    "access.password": {"fr": "Mot de passe", "en": "Password"},
    "access.submit": {"fr": "Se connecter", "en": "Sign in"},
    "access.login_failed": {
        "fr": "Identifiant ou mot de passe incorrect, ou compte bloqué quelques minutes après plusieurs échecs.",
        "en": "Wrong user name or password, or account locked for a few minutes after several failures.",
    },
    "access.audit_down": {
        "fr": "Le journal d'audit est indisponible : l'action est refusée tant qu'elle ne peut pas être tracée. Prévenez un administrateur.",
        "en": "The audit trail is unavailable: the action is refused until it can be recorded. Tell an administrator.",
    },
    "access.logged_out": {"fr": "Vous êtes déconnecté.", "en": "You are signed out."},
    "access.expired": {
        "fr": "Votre session a expiré après une période d'inactivité. Reconnectez-vous pour continuer.",
        "en": "Your session expired after a period of inactivity. Sign in again to continue.",
    },
    "access.login_again": {"fr": "Se reconnecter", "en": "Sign in again"},
    "access.logout": {"fr": "Se déconnecter", "en": "Sign out"},
    "access.signed_in": {"fr": "Connecté : {user} ({role})", "en": "Signed in: {user} ({role})"},
    "access.demo": {
        "fr": "Mode démonstration locale : sans connexion ni contrôle d'accès. Ne pas utiliser avec de vraies données.",
        "en": "Local demo mode: no sign-in and no access control. Do not use with real data.",
    },
    "access.not_configured": {
        "fr": "Accès refusé : l'authentification n'est pas configurée sur ce serveur.",
        "en": "Access refused: authentication is not configured on this server.",
    },
    "access.no_role": {
        "fr": "Accès refusé : aucun rôle ne vous est attribué pour ce tableau de bord.",
        "en": "Access refused: you have no role for this dashboard.",
    },
    "access.refused_view": {
        "fr": "Accès refusé : votre rôle ({role}) ne permet pas d'ouvrir la vue « {view} ».",
        "en": "Access refused: your role ({role}) may not open the view “{view}”.",
    },
    "access.missing_ask_admin": {
        "fr": "Prévenez un administrateur : il sait quelle commande lancer.",
        "en": "Tell an administrator: they know which command to run.",
    },
    "role.manager": {"fr": "chargé de clientèle", "en": "relationship manager"},
    "role.lead": {"fr": "chef d'équipe", "en": "team lead"},
    "role.admin": {"fr": "administrateur", "en": "administrator"},
    "nav.team": {"fr": "Décisions de l'équipe", "en": "Team decisions"},
    "nav.audit": {"fr": "Journal d'audit", "en": "Audit trail"},
    "record.heading": {
        "fr": "Décision finale du chargé de clientèle",
        "en": "Relationship manager's final decision",
    },
    "record.intro": {
        "fr": "Dossier en zone grise : enregistrez si vous suivez le score ou non. Une justification est obligatoire pour ne pas le suivre.",
        "en": "Grey-zone file: record whether you follow the score. A justification is required to override it.",
    },
    "record.outcome": {"fr": "Votre décision", "en": "Your decision"},
    "record.follow": {"fr": "Suivre le score ({decision})", "en": "Follow the score ({decision})"},
    "record.override": {"fr": "Ne pas suivre le score ({decision})", "en": "Override the score ({decision})"},
    "record.justification": {"fr": "Justification", "en": "Justification"},
    "record.notes": {"fr": "Notes (facultatif)", "en": "Notes (optional)"},
    "record.required": {"fr": "obligatoire", "en": "required"},
    "record.save": {"fr": "Enregistrer la décision", "en": "Record the decision"},
    "record.saved": {"fr": "Décision enregistrée.", "en": "Decision recorded."},
    "record.need_justification": {
        "fr": "Écrivez une justification pour ne pas suivre le score.",
        "en": "Write a justification to override the score.",
    },
    "record.history": {"fr": "Historique des décisions du dossier", "en": "Decision history of the file"},
    "record.none": {
        "fr": "Aucune décision enregistrée pour ce dossier.",
        "en": "No decision recorded for this file.",
    },
    "record.entry": {
        "fr": "{when} – {user} : {final} ({outcome})",
        "en": "{when} – {user}: {final} ({outcome})",
    },
    "record.followed": {"fr": "score suivi", "en": "score followed"},
    "record.overridden": {"fr": "score non suivi", "en": "score overridden"},
    "record.because": {"fr": "Justification : {text}", "en": "Justification: {text}"},
    "record.note": {"fr": "Notes : {text}", "en": "Notes: {text}"},
    "team.heading": {"fr": "Décisions de l'équipe", "en": "Team decisions"},
    "team.rates_caption": {
        "fr": "Décisions enregistrées et taux de non-suivi du score par chargé de clientèle",
        "en": "Recorded decisions and override rate per relationship manager",
    },
    "team.manager": {"fr": "Chargé de clientèle", "en": "Relationship manager"},
    "team.count": {"fr": "Décisions", "en": "Decisions"},
    "team.overrides": {"fr": "Scores non suivis", "en": "Overrides"},
    "team.rate": {"fr": "Taux de non-suivi", "en": "Override rate"},
    "team.records_caption": {"fr": "Dernières décisions enregistrées", "en": "Latest recorded decisions"},
    "team.when": {"fr": "Date (UTC)", "en": "Date (UTC)"},
    "team.client": {"fr": "Client", "en": "Client"},
    "team.final": {"fr": "Décision finale", "en": "Final decision"},
    "team.none": {"fr": "Aucune décision enregistrée pour l'instant.", "en": "No decision recorded yet."},
    "audit.heading": {"fr": "Journal d'audit et état du service", "en": "Audit trail and service status"},
    "audit.chain_ok": {
        "fr": "Chaîne d'intégrité vérifiée : {rows} lignes, aucune modification.",
        "en": "Integrity chain verified: {rows} rows, no change.",
    },
    "audit.chain_broken": {
        "fr": "Chaîne d'intégrité ROMPUE à la ligne {row} : {reason}",
        "en": "Integrity chain BROKEN at row {row}: {reason}",
    },
    "audit.failures": {
        "fr": "Écritures du journal en échec depuis le démarrage : {count}. Dernière erreur ({when}) : {error}",
        "en": "Failed audit writes since start: {count}. Last error ({when}): {error}",
    },
    "audit.store": {"fr": "Stockage du journal : {store}", "en": "Audit storage: {store}"},
    "audit.data": {"fr": "Entrepôt de données : {path}", "en": "Data warehouse: {path}"},
    "audit.model": {"fr": "Modèle de scoring : {path}", "en": "Scoring model: {path}"},
    "audit.recent_caption": {"fr": "Dernières actions tracées", "en": "Latest recorded actions"},
    "audit.user": {"fr": "Utilisateur", "en": "User"},
    "audit.role": {"fr": "Rôle", "en": "Role"},
    "audit.action": {"fr": "Action", "en": "Action"},
    "audit.detail": {"fr": "Détail", "en": "Detail"},
    "audit.unavailable": {"fr": "Journal illisible : {error}", "en": "Audit trail unreadable: {error}"},
    "action.login": {"fr": "connexion", "en": "sign-in"},
    "action.login_failed": {"fr": "connexion refusée", "en": "failed sign-in"},
    "action.logout": {"fr": "déconnexion", "en": "sign-out"},
    "action.session_expired": {"fr": "session expirée", "en": "session expired"},
    "action.session_start": {"fr": "ouverture de page", "en": "page opened"},
    "action.client_opened": {"fr": "client consulté", "en": "client opened"},
    "action.view_opened": {"fr": "vue ouverte", "en": "view opened"},
    "action.view_refused": {"fr": "vue refusée", "en": "view refused"},
    "action.whatif_run": {"fr": "simulation", "en": "what-if run"},
    "action.letter": {"fr": "lettre au client", "en": "client letter"},
    "action.export": {"fr": "export", "en": "export"},
    "action.decision": {"fr": "décision enregistrée", "en": "decision recorded"},
    # Images: background training, upload checks, contrastive table
    "images.training": {
        "fr": "Le modèle d'images s'entraîne sur ce serveur : étape {stage} sur {stages}, {done} effectué. La page se met à jour seule.",
        "en": "The image model is training on this server: step {stage} of {stages}, {done} done. This page updates itself.",
    },
    "images.training_failed": {
        "fr": "L'entraînement du modèle d'images s'est arrêté avant la fin. Un administrateur peut le relancer avec la commande :",
        "en": "Training of the image model stopped before the end. An administrator can restart it with the command:",
    },
    "images.training_label": {"fr": "Avancement de l'entraînement", "en": "Training progress"},
    "images.busy": {
        "fr": "Le serveur explique déjà plusieurs images. Réessayez dans un instant.",
        "en": "The server is already explaining several images. Please try again in a moment.",
    },
    "images.upload.bytes": {"fr": "Ce fichier dépasse 8 Mo.", "en": "This file is larger than 8 MB."},
    "images.upload.format": {
        "fr": "Seules les images PNG et JPEG sont acceptées.",
        "en": "Only PNG and JPEG images are accepted.",
    },
    "images.upload.pixels": {
        "fr": "Cette image a trop de pixels (au plus 25 mégapixels).",
        "en": "This image has too many pixels (at most 25 megapixels).",
    },
    "images.upload.bomb": {
        "fr": "Cette image est trop grande pour être décodée sans risque.",
        "en": "This image is too large to be decoded safely.",
    },
    "images.upload.damaged": {
        "fr": "Ce fichier est abîmé ou n'est pas une image lisible.",
        "en": "This file is damaged or is not a readable image.",
    },
    "images.col.case": {"fr": "Pour la classe", "en": "For the class"},
    "images.col.prototype_class": {"fr": "Classe du prototype", "en": "Prototype's class"},
    "images.col.weight": {"fr": "Poids vers cette classe", "en": "Weight towards this class"},
    "images.col.points": {"fr": "Points", "en": "Points"},
    "images.col.background": {"fr": "Sur le fond blanc", "en": "On the white background"},
    "images.yes": {"fr": "oui", "en": "yes"},
    "images.no": {"fr": "non", "en": "no"},
    "images.total": {
        "fr": "{label} : {total} points au total (dont {other} points des {count} autres prototypes).",
        "en": "{label}: {total} points in total (including {other} points from the {count} other prototypes).",
    },
    # Search suggestions with the stored decision
    "search.show_decided": {
        "fr": "Afficher le client {id} – {decision}",
        "en": "Show client {id} – {decision}",
    },
    # Portfolio charts: a title and the words of each axis
    "chart.scores.title": {
        "fr": "Nombre de clients selon leur probabilité de défaut",
        "en": "Number of clients by probability of default",
    },
    "chart.scores.x": {"fr": "Probabilité de défaut estimée", "en": "Estimated probability of default"},
    "chart.scores.y": {"fr": "Nombre de clients", "en": "Number of clients"},
    "chart.share.y": {"fr": "Part des clients", "en": "Share of clients"},
    "chart.cost.title": {
        "fr": "Coût des erreurs selon le seuil de refus",
        "en": "Cost of errors by refusal threshold",
    },
    "chart.cost.x": {
        "fr": "Seuil de refus (probabilité de défaut)",
        "en": "Refusal threshold (probability of default)",
    },
    "chart.cost.y": {"fr": "Coût moyen par client", "en": "Mean cost per client"},
    "chart.importance.title": {
        "fr": "Les éléments qui pèsent le plus sur les décisions",
        "en": "The elements that weigh most on decisions",
    },
    "chart.importance.x": {
        "fr": "Poids moyen dans les décisions (plus la barre est longue, plus l'élément compte)",
        "en": "Mean weight in decisions (the longer the bar, the more the element counts)",
    },
}


def tr(key: str, lang: str, **values: object) -> str:
    """Return the text for ``key`` in ``lang`` with ``values`` substituted.

    An unknown language falls back to French rather than failing, because the language comes from the URL.
    """
    entry = TEXT[key]
    text = entry.get(lang, entry[DEFAULT_LANGUAGE])
    return text.format(**values) if values else text


def decision_text(decision: str, lang: str) -> str:
    """ "crédit accordé" / "credit refused" for a scorer decision ('granted' | 'refused')."""
    return tr("decision.granted_long" if decision == "granted" else "decision.refused_long", lang)


def parse_language(raw: str | bytes | None) -> str:
    """Read a language from a URL query value; anything unexpected means French."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    value = (raw or "").strip().lower()[:5]
    return value if value in LANGUAGES else DEFAULT_LANGUAGE


def format_points(points: float, lang: str) -> str:
    """Format a distance in percentage points ("3,1 points"), singular below two as French grammar wants."""
    number = format_number(abs(points), lang, 1)
    singular = abs(points) < 2 if lang == "fr" else number == "1.0"
    key = "decision.points" if singular else "decision.points_plural"
    return tr(key, lang, value=number)


def format_signed(value: float, lang: str, decimals: int = 3) -> str:
    """Format a contribution with an explicit sign, so direction never depends on colour."""
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    return sign + format_number(abs(value), lang, decimals)


_MONTHS = {
    "fr": (
        [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ]
    ),
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


def format_date(day: dt.date, lang: str) -> str:
    """A date as a letter writes it: "2 décembre 2026" / "2 December 2026" ("1er" in French)."""
    number = "1er" if lang == "fr" and day.day == 1 else str(day.day)
    return f"{number} {_MONTHS[lang][day.month - 1]} {day.year}"


def missing_keys(texts: Mapping[str, Mapping[str, str]] = TEXT) -> list[str]:
    """Keys that lack a language or whose placeholders differ between languages (used by the test suite)."""
    problems = []
    for key, entry in texts.items():
        if set(entry) != set(LANGUAGES):
            problems.append(key)
            continue
        placeholders = {lang: _placeholders(entry[lang]) for lang in LANGUAGES}
        if len({frozenset(p) for p in placeholders.values()}) != 1:
            problems.append(key)
    return problems


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}
