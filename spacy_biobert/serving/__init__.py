"""Serving (application layer, optional extra ``serve``): the REST server and its viewer page.

``app.py`` (FastAPI app: ``create_app``), ``engine.py`` (pipeline behind one inference thread), ``schemas.py``
(request/response bodies), ``limits.py`` (body-size limit), ``settings.py`` (limits and threads),
``static/index.html`` (the viewer). Nothing here is imported by the library; FastAPI is imported only by
``app.py``, so ``import spacy_biobert.serving`` works without the extra.
"""
