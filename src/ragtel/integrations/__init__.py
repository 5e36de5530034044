"""Framework adapters: they translate framework events into ``ragtel.records`` and nothing more."""
