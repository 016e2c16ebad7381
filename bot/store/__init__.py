"""On-disk caches: checksummed array files (:mod:`~bot.store.arrayfiles`), what the stores are
keyed by and how many stay (:mod:`~bot.store.keys`), the index snapshot
(:mod:`~bot.store.snapshot`) and the corpus file cache (:mod:`~bot.store.filecache`)."""
