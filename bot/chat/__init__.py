"""The Telegram layer: the only code that imports ``telegram`` and ``httpx``."""
