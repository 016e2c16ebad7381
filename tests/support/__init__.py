"""What tests and benchmarks share: the Bot API stand-in, bot and export factories, corpora."""
