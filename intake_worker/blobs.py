"""Attachment bytes, kept in a directory by their sha256 (written once, never changed), so the
database holds only metadata and the same file sent twice is stored once."""
from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        target = self.path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
            with os.fdopen(fd, "wb") as f:
                f.write(content)
            os.replace(tmp, target)          # atomic: a reader never sees half a file
        return digest

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()
