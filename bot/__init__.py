"""citebot: answers questions by quoting the passages of a corpus that answer them."""

__version__ = "0.1.0"
