"""Attribute builders, one module per step kind: which names each convention gets, from a record.

Each module has ``start`` (the attributes known when the step starts; returns the ``Step``) and
``end`` (what the step produced). ``io`` writes inputs, outputs and messages for several kinds;
``run_context`` stamps session, user, metadata and tags; ``monitor`` the embedding monitor's
results. Every name comes from ``ragtel.semconv``.
"""
