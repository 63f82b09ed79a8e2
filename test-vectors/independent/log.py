"""Transparency log vectors (docs/FORMAT.md §12), checked from the text alone.

Rebuilds every leaf from its fields, recomputes the roots by RFC 9162's definition, checks the
inclusion and consistency proofs with the RFC's verification algorithms (which must accept the
valid ones and refuse the others), and verifies each checkpoint note's Ed25519 signature with the
`cryptography` package.

    python3 test-vectors/independent/log.py test-vectors/v1/log.json
"""
import hashlib
import json
import re
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

NS_CHECKPOINT = b"permitseal/v1/log-checkpoint"
NS_KEY_ID = b"permitseal/v1/key-id"


def sha(b):
    return hashlib.sha256(b).digest()


def leaf_bytes(leaf):
    out = bytes([1]) + struct.pack(">Qq", leaf["seq"], leaf["at"])
    for field in ("authority", "actor", "kind", "subject"):
        text = leaf[field].encode("utf-8")
        assert len(text) <= 1024, field
        out += struct.pack(">H", len(text)) + text
    return out + sha(leaf["particulars"].encode("utf-8"))


def leaf_hash(b):
    return sha(b"\x00" + b)


def node(l, r):
    return sha(b"\x01" + l + r)


def mth(hashes):
    if not hashes:
        return sha(b"")
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node(mth(hashes[:k]), mth(hashes[k:]))


def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, root1, root2, proof):
    """RFC 9162 §2.1.4.2."""
    if first > second:
        return False
    if first == second:
        return not proof and root1 == root2
    if first == 0:
        return not proof
    path = ([root1] if first & (first - 1) == 0 else []) + list(proof)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node(c, fr)
            sr = node(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == root1 and sr == root2


DECIMAL = re.compile(r"^(0|[1-9][0-9]*)$")


def read_checkpoint(note, origin, public_key):
    """Returns (size, root, time) when a signature by `public_key` verifies, else None."""
    if "\n\n" not in note:
        return None
    body, signatures = note.split("\n\n", 1)
    body += "\n"
    lines = body[:-1].split("\n")
    if len(lines) != 4 or lines[0] != origin:
        return None
    size, root, time = lines[1:]
    if not DECIMAL.match(size) or not DECIMAL.match(time) or not re.match(r"^[0-9a-f]{64}$", root):
        return None
    if not signatures.endswith("\n"):
        return None
    kid = sha(NS_KEY_ID + b"\0" + public_key)[:6].hex()
    key = Ed25519PublicKey.from_public_bytes(public_key)
    good = False
    for line in signatures[:-1].split("\n"):
        m = re.match(r"^\u2014 ([0-9a-f]{12}) ([0-9a-f]{128})$", line)
        if not m:
            return None
        if m.group(1) != kid:
            continue
        try:
            key.verify(bytes.fromhex(m.group(2)), NS_CHECKPOINT + b"\0" + body.encode())
            good = True
        except InvalidSignature:
            pass
    return (int(size), bytes.fromhex(root), int(time)) if good else None


def main(path):
    doc = json.load(open(path, encoding="utf-8"))
    hashes = []
    for leaf in doc["leaves"]:
        b = leaf_bytes(leaf)
        assert b.hex() == leaf["leaf"], f"leaf {leaf['seq']}: bytes differ"
        assert sha(leaf["particulars"].encode()).hex() == leaf["digest"], leaf["seq"]
        h = leaf_hash(b)
        assert h.hex() == leaf["leaf_hash"], f"leaf {leaf['seq']}: hash differs"
        hashes.append(h)
    roots = {}
    for r in doc["roots"]:
        got = mth(hashes[: r["size"]])
        assert got.hex() == r["root"], f"root of size {r['size']}"
        roots[r["size"]] = got
    checks = 0
    for c in doc["inclusion"]:
        ok = verify_inclusion(
            c["index"], c["size"], hashes[c["index"]],
            [bytes.fromhex(p) for p in c["proof"]], roots[c["size"]],
        )
        assert ok == c["valid"], f"inclusion {c}"
        checks += 1
    for c in doc["consistency"]:
        ok = verify_consistency(
            c["first"], c["second"], roots[c["first"]], roots[c["second"]],
            [bytes.fromhex(p) for p in c["proof"]],
        )
        assert ok == c["valid"], f"consistency {c}"
        checks += 1
    public_key = bytes.fromhex(doc["root_public_key"])
    for c in doc["checkpoints"]:
        got = read_checkpoint(c["note"], doc["origin"], public_key)
        assert (got is not None) == c["valid"], f"checkpoint {c}"
        if got:
            assert got == (c["size"], bytes.fromhex(c["root"]), c["time"]), c
            assert got[1] == roots[got[0]], c
        checks += 1
    print(f"{path}: {len(hashes)} leaves, {checks} proofs and checkpoints agree")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "test-vectors/v1/log.json")
