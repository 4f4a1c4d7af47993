"""Section "For the analyst to complete": PESTELO and problem analysis triangle headings.

The data cannot say what is changing in policy, the economy or the partnership, or who the victims,
offenders and places behind a problem are. This section lays out the headings a strategic
assessment uses for that judgement, with prompts, for the analyst to fill in.
"""

from __future__ import annotations

from diogel.report.context import Context, SectionOutput
from diogel.report.sections import Section, register

PESTELO = (
    (
        "Political",
        "New legislation, national or Welsh Government priorities, elections, PCC plan, funding decisions.",
    ),
    (
        "Economic",
        "Cost of living, unemployment, town-centre vacancies, night-time economy, regeneration schemes.",
    ),
    (
        "Social",
        "Population change, housing developments, student numbers, community tension, events and tourism.",
    ),
    ("Technological", "Online fraud and harassment, CCTV and lighting schemes, new recording systems."),
    (
        "Environmental",
        "Derelict sites, fly-tipping, seasonal patterns, transport hubs, parks and open spaces.",
    ),
    ("Legal", "Changes to crime recording standards, licensing decisions, injunctions and orders in force."),
    (
        "Organisational",
        "Partner restructures, staffing and vacancies, contracts ending, data-sharing agreements.",
    ),
)

TRIANGLE = (
    (
        "Victim",
        "Who is harmed, and who is repeatedly harmed?",
        "Guardian",
        "Who could protect the victim or target?",
    ),
    (
        "Offender",
        "Who causes the harm, and are the same people involved?",
        "Handler",
        "Who has influence over the offender?",
    ),
    ("Location", "Which places, at which times?", "Manager", "Who owns or manages the place?"),
)


def build(ctx: Context) -> SectionOutput:
    return SectionOutput(html=ctx.render("sections/analyst.html.j2", pestelo=PESTELO, triangle=TRIANGLE))


register(
    Section(
        id="analyst",
        title="For the analyst to complete",
        order=90,
        build=build,
        description="PESTELO and problem analysis triangle headings for the analyst's judgement.",
    )
)
