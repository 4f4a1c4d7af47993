"""Words the portal shows that arrive as data: roles, agency kinds, levels, statuses, ratings, the
police.uk crime types, hot spot classes and table headings.

Templates translate them where they are shown (``_(user.role)``, ``_(t.label)``); marking them here
with :func:`N_` puts them in ``translations/messages.pot``, so a translator sees every one of them
and a test can check that nothing a page shows in these places is missing from the catalogue.
"""

from __future__ import annotations

from diogel.portal.i18n import N_

TERMS: tuple[str, ...] = (
    # Roles (models.ALL_ROLES)
    N_("partnership_admin"),
    N_("admin"),
    N_("analyst"),
    N_("contributor"),
    N_("viewer"),
    N_("member"),
    N_("public"),
    # Agency kinds (models.AGENCY_KINDS)
    N_("police"),
    N_("local_authority"),
    N_("fire"),
    N_("health"),
    N_("probation"),
    N_("other"),
    # Levels of the information sharing agreement (models.LEVELS)
    N_("record"),
    N_("lsoa"),
    N_("area"),
    # Statuses of PACT actions (models.ACTION_STATUSES) and of uploads
    N_("open"),
    N_("in progress"),
    N_("done"),
    N_("dropped"),
    N_("loaded"),
    N_("already loaded"),
    N_("refused"),
    N_("failed"),
    # Ratings and their change year on year (services.standards_comparison)
    N_("red"),
    N_("amber"),
    N_("green"),
    N_("improved"),
    N_("worse"),
    N_("same"),
    # Attendee profile (views.AGE_BANDS: only one label has words; views.SEXES, views.ETHNICITIES)
    N_("under 18"),
    N_("sex"),
    N_("ethnicity"),
    N_("female"),
    N_("male"),
    N_("white"),
    N_("mixed"),
    N_("asian"),
    N_("black"),
    N_("arab"),
    # police.uk crime types (diogel.analysis.harm.POLICEUK_CRIME_TYPES) and the dashboard's total
    N_("All crime and ASB"),
    N_("Anti-social behaviour"),
    N_("Bicycle theft"),
    N_("Burglary"),
    N_("Criminal damage and arson"),
    N_("Drugs"),
    N_("Other crime"),
    N_("Other theft"),
    N_("Possession of weapons"),
    N_("Public order"),
    N_("Robbery"),
    N_("Shoplifting"),
    N_("Theft from the person"),
    N_("Vehicle crime"),
    N_("Violence and sexual offences"),
    N_("Total"),
    # Titles of the partner datasets shipped with diogel (diogel/sources/partner/schemas: ``title``)
    N_("Ambulance call-outs (assault, alcohol and drugs related)"),
    N_("Emergency department assault attendances (Cardiff Model ISTV minimum data set)"),
    N_("Fire and rescue incidents (deliberate fires)"),
    N_("Hospital admissions for assault and for alcohol or drugs"),
    N_("Licensed premises register"),
    N_("Substance misuse treatment counts"),
    # Hot spot classes (diogel.analysis.hotspots.gi_star)
    N_("Hot spot 99%"),
    N_("Hot spot 95%"),
    N_("Hot spot 90%"),
    N_("Cold spot 99%"),
    N_("Cold spot 95%"),
    N_("Cold spot 90%"),
    N_("Not significant"),
)
