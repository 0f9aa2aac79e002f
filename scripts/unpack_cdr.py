"""Unpack the official CDR_Data.zip into OUT_DIR/{train,dev,test}.pubtator and verify their MD5 checksums.

Usage: python scripts/unpack_cdr.py assets/CDR_Data.zip assets/cdr
"""
import hashlib
import sys
import zipfile
from pathlib import Path

MEMBERS = {
    "train": ("CDR_TrainingSet.PubTator.txt", "fae18e265fc7dc72790f5b53e259d0f8"),
    "dev": ("CDR_DevelopmentSet.PubTator.txt", "2dfda7a1dc66a5599417a9db2417084b"),
    "test": ("CDR_TestSet.PubTator.txt", "96b142b3cc1774d7437c285a88b9694c"),
}


def unpack(archive: Path, out_dir: Path) -> None:
    """Extract the three PubTator files and check each against its MD5; exit non-zero on a mismatch."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as zf:
        names = {Path(name).name: name for name in zf.namelist()}
        for split, (member, md5) in MEMBERS.items():
            if member not in names:
                sys.exit(f"{archive}: no member named {member}")
            data = zf.read(names[member])
            digest = hashlib.md5(data).hexdigest()
            if digest != md5:
                sys.exit(f"{archive}:{member}: MD5 {digest} differs from the expected {md5}")
            (out_dir / f"{split}.pubtator").write_bytes(data)
            print(f"{out_dir / f'{split}.pubtator'}: MD5 ok")


if __name__ == "__main__":
    unpack(Path(sys.argv[1]), Path(sys.argv[2]))
