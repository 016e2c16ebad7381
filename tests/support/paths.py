"""Where the repository and its shipped corpus are, for tests in any folder."""

from __future__ import annotations

from pathlib import Path

__all__ = ["REPO_CORPUS", "ROOT", "SEED_POST"]

ROOT = Path(__file__).resolve().parents[2]
REPO_CORPUS = ROOT / "corpus"
SEED_POST = REPO_CORPUS / "000_e199e51aae9cb937.txt"
