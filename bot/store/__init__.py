"""On-disk caches: checksummed array files, the index snapshot and the corpus file cache."""
