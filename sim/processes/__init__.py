"""The phases of one month, one module each, in the order CaseloadModel.step runs them.

1. staffing     vacant posts are filled when their recruitment lag ends; families of
                 changed districts are rebalanced over the facilitators present
2. timebudget   caseload and hours: admin (e-PKH, SIKS-NG), P2K2 groups, visits, travel,
                 shared by weighted rationing when short, spare time buying extra visits;
                 admin backlog, and PKH payments withheld for late verification data
3. visits       which families are visited, how often and how well
4. families     behaviour, compliance, welfare, poverty, graduation, exits and entrants
5. workforce    burnout, skills and training, motivation, quits and contract reviews
6. cost         what the month cost, by line and funder (APBN / APBD), and transfers
7. record       (sim.metrics) regency and district indicators for the month (records only)
Policies (sim.policies) act just before the phase they name.
"""

PHASES: tuple[str, ...] = ("staffing", "timebudget", "visits", "families", "workforce", "cost", "record")
