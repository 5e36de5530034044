"""A built-in, offline RAG pipeline: the embedded default that ``ragtel demo`` runs."""
