"""The Solara web UI (views only): Explore, Districts, Compare and Sources pages.

The model never imports this package. Every browser session gets its own state
(``ui.state``: Solara reactives are stored per virtual kernel, i.e. per session), so no
model lives at module level. The logic the pages use is plain Python in ``ui.session``,
``ui.geo``, ``ui.files`` and ``ui.jobs`` (tested without a browser); ``ui.pages`` holds
the Solara components; ``app.py`` at the repository root wires the routes.
"""
