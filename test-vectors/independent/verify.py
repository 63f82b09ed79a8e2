#!/usr/bin/env python3
"""An independent permitseal verifier written from docs/FORMAT.md alone.

It shares no code with the Rust core: Python's standard library plus an Ed25519 library
(`cryptography`). Run against the conformance vectors it must reach the same verdict and
reasons as the core on every case (and, for vectors-2.json, the same bundle and delta
outcomes). The code lists come from docs/FORMAT-codes.md, as an outside reader takes them.

    python3 test-vectors/independent/verify.py test-vectors/v1/vectors.json
    python3 test-vectors/independent/verify.py test-vectors/v1/vectors-2.json
    python3 test-vectors/independent/verify.py test-vectors/v1/vectors-3.json  (§11)
    python3 test-vectors/independent/verify.py test-vectors/v1/vectors-4.json  (§7 step 8)
    python3 test-vectors/independent/verify.py test-vectors/v1/vectors-5.json  (§5 format 2)
    python3 test-vectors/independent/verify.py test-vectors/v1/vectors-6.json  (§6 container 2)
    python3 test-vectors/independent/verify.py test-vectors/v1/device-reports.json  (§10)
    python3 test-vectors/independent/verify.py --annotate 'PS1:...'

Exit status 0 when every case agrees, 1 otherwise.
"""
import datetime
import hashlib
import json
import os
import re
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

BASE45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
UPPER40 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ -./"
MIXED64 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz ."
# FORMAT.md §11.1 and §11.2: hidden characters and the letters of the confusable scripts.
HIDDEN = [(0x00AD, 0x00AD), (0x034F, 0x034F), (0x0600, 0x0605), (0x061C, 0x061C),
          (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2),
          (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F),
          (0x2028, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164), (0xE000, 0xF8FF),
          (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFFB),
          (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x1343F), (0x1BCA0, 0x1BCA3),
          (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF), (0xF0000, 0x10FFFF)]
SCRIPTS = {
    "Latin": "0041-005A 0061-007A 00AA 00BA 00C0-00D6 00D8-00F6 00F8-02AF 1E00-1EFF 212A-212B "
             "2C60-2C7F A720-A7FF AB30-AB64 FB00-FB06 FF21-FF3A FF41-FF5A",
    "Greek": "0370-0373 0376-0377 037B-037D 037F 0386 0388-03E1 03F0-03FF 1F00-1FFF 2126 AB65",
    "Cyrillic": "0400-052F 1C80-1C8F 2DE0-2DFF A640-A69F",
    "Armenian": "0531-0556 0560-0588 FB13-FB17",
}
NUMBER_CHARS = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz -./")
NS = {
    "permit": b"permitseal/v1/permit",
    "trust": b"permitseal/v1/trust-list",
    "status": b"permitseal/v1/status-list",
    "delta": b"permitseal/v1/status-delta",
    # FORMAT.md §5: a body of format 2 (five states) is signed under its own namespaces.
    "status2": b"permitseal/v2/status-list",
    "delta2": b"permitseal/v2/status-delta",
}
DOC_TYPES = [None, "export", "re_export", "import", "certificate_of_origin",
             "introduction_from_the_sea", "pre_convention", "captive_breeding", "ownership",
             "travelling_exhibition", "musical_instrument", "sample_collection", "scientific_exchange"]
NO_ENDORSEMENT_AT_IMPORT = {"import", "ownership", "travelling_exhibition", "musical_instrument",
                            "sample_collection"}
VALIDITY_MONTHS = {"export": 6, "re_export": 6, "pre_convention": 6, "captive_breeding": 6,
                   "import": 12, "certificate_of_origin": 12, "introduction_from_the_sea": 12,
                   "sample_collection": 12, "scientific_exchange": 12, "ownership": 36,
                   "travelling_exhibition": 36, "musical_instrument": 36}
MULTI_USE = {"ownership", "travelling_exhibition", "musical_instrument", "sample_collection"}
PURPOSES = set("BEGHLMNPQSTZ")
SOURCES = set("WXRDACFYIOU")
NOT_FOR = {"animal": set("AY"), "plant": set("CRF")}
MAX_NUMBER = 35
MAX_TEXT_BYTES = 4296


def code_lists():
    """Term, unit and country codes from the tables of docs/FORMAT-codes.md."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "FORMAT-codes.md")
    lists, current = {}, None
    for line in open(path, encoding="utf-8"):
        if line.startswith("## "):
            current = line[3:].split(" ")[0].rstrip(":")
            lists[current] = set()
        m = re.match(r"^\| `([A-Z]+)` \|", line)
        if m and current:
            lists[current].add(m.group(1))
    return lists["Terms"], lists["Units"], lists["Countries"]


TERMS, UNITS, COUNTRIES = code_lists()

# Edwards25519, for the strict checks of FORMAT.md §3.2 and §4 (canonical, not small order).
P = 2 ** 255 - 19
L = 2 ** 252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P


def point(b):
    """The point an encoding names, or None when it is not a canonical encoding of one."""
    y = int.from_bytes(b, "little") & (2 ** 255 - 1)
    sign = b[31] >> 7
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * pow(2, (P - 1) // 4, P) % P
    if (x * x - x2) % P:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y)


def add(a, b):
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    return ((x1 * y2 + x2 * y1) * pow(1 + t, P - 2, P) % P, (y1 * y2 + x1 * x2) * pow(1 - t, P - 2, P) % P)


def small_order(pt):
    for _ in range(3):
        pt = add(pt, pt)
    return pt == (0, 1)


def strict_point(b):
    pt = point(b)
    return pt is not None and not small_order(pt)


class Bad(Exception):
    """Malformed input; `code` is the reason code it maps to."""

    def __init__(self, code, detail=""):
        super().__init__(f"{code}: {detail}")
        self.code = code


def b45decode(s):
    if len(s) % 3 == 1:
        raise Bad("BAD_ENCODING", "length")
    out = bytearray()
    for i in range(0, len(s), 3):
        chunk = s[i:i + 3]
        digits = []
        for c in chunk:
            if c not in BASE45:
                raise Bad("BAD_ENCODING", "character")
            digits.append(BASE45.index(c))
        v = sum(d * 45 ** k for k, d in enumerate(digits))
        if len(chunk) == 3:
            if v > 0xFFFF:
                raise Bad("BAD_ENCODING", "group")
            out += v.to_bytes(2, "big")
        else:
            if v > 0xFF:
                raise Bad("BAD_ENCODING", "group")
            out.append(v)
    return bytes(out)


def script_of(c):
    o = ord(c)
    for name, ranges in SCRIPTS.items():
        for r in ranges.split():
            lo, _, hi = r.partition("-")
            if int(lo, 16) <= o <= int(hi or lo, 16):
                return name
    return None


def deceptive(kind, s):
    """True when a field breaks the text rule of FORMAT.md §11.2."""
    if any(lo <= ord(c) <= hi for c in s for lo, hi in HIDDEN):
        return True
    if kind == "number" and any(c not in NUMBER_CHARS for c in s):
        return True
    scripts = {script_of(c) for c in s} - {None}
    if kind == "scientific name" and scripts - {"Latin"}:
        return True
    return len(scripts) > 1


def text_ok(s):
    return (len(s) > 0 and len(s.encode()) <= 1024 and s.strip() == s
            and not any(c < " " or "\x7f" <= c <= "\x9f" for c in s))


def canonical_mode(s):
    b = s.encode()
    n = len(b)
    best = (n, 0)
    if all(chr(c) in UPPER40 for c in b) and 2 * (n // 3) + n % 3 < best[0]:
        best = (2 * (n // 3) + n % 3, 1)
    if all(chr(c) in MIXED64 for c in b) and (6 * n + 7) // 8 < best[0]:
        best = ((6 * n + 7) // 8, 2)
    return best[1]


class Reader:
    def __init__(self, data, annotate=False):
        self.d, self.p, self.annotate = data, 0, annotate

    def take(self, n, field):
        if self.p + n > len(self.d):
            raise Bad("MALFORMED", f"{field}: truncated")
        s = self.d[self.p:self.p + n]
        self.p += n
        return s

    def note(self, start, field, value):
        if self.annotate:
            print(f"  {start:4d}  {self.d[start:self.p].hex():<36} {field} = {value!r}")

    def u8(self, field):
        start = self.p
        v = self.take(1, field)[0]
        self.note(start, field, v)
        return v

    def fixed(self, n, field):
        start = self.p
        v = self.take(n, field)
        self.note(start, field, v.hex() if n > 2 else v.decode("latin-1"))
        return v

    def varint(self, field, quiet=False):
        start, v = self.p, 0
        for i in range(10):
            b = self.take(1, field)[0]
            if i == 9 and (b & 0x7F) > 1:
                raise Bad("MALFORMED", f"{field}: varint")
            v |= (b & 0x7F) << (7 * i)
            if not b & 0x80:
                if i > 0 and b == 0:
                    raise Bad("MALFORMED", f"{field}: varint")
                if not quiet:
                    self.note(start, field, v)
                return v
        raise Bad("MALFORMED", f"{field}: varint")

    def zigzag(self, field):
        v = self.varint(field)
        return (v >> 1) ^ -(v & 1)

    def text(self, field):
        start = self.p
        h = self.varint(field, quiet=True)
        n, mode = h >> 2, h & 3
        if n == 0 or n > 1024:
            raise Bad("MALFORMED", f"{field}: text")
        if mode == 0:
            try:
                s = self.take(n, field).decode("utf-8")
            except UnicodeDecodeError:
                raise Bad("MALFORMED", f"{field}: utf-8")
        elif mode == 1:
            raw = self.take(2 * (n // 3) + n % 3, field)
            out, i = [], 0
            for g in range(n // 3):
                v = int.from_bytes(raw[2 * g:2 * g + 2], "big")
                if v >= 64000:
                    raise Bad("MALFORMED", f"{field}: text")
                out += [v // 1600, v // 40 % 40, v % 40]
                i = 2 * g + 2
            rest = n % 3
            if rest == 2:
                v = int.from_bytes(raw[i:i + 2], "big")
                if v >= 1600:
                    raise Bad("MALFORMED", f"{field}: text")
                out += [v // 40, v % 40]
            elif rest == 1:
                if raw[i] >= 40:
                    raise Bad("MALFORMED", f"{field}: text")
                out.append(raw[i])
            s = "".join(UPPER40[x] for x in out)
        elif mode == 2:
            raw = self.take((6 * n + 7) // 8, field)
            bits = int.from_bytes(raw, "big")
            pad = len(raw) * 8 - 6 * n
            if bits & ((1 << pad) - 1):
                raise Bad("MALFORMED", f"{field}: padding")
            bits >>= pad
            s = "".join(MIXED64[(bits >> (6 * (n - 1 - k))) & 63] for k in range(n))
        else:
            raise Bad("MALFORMED", f"{field}: mode 3")
        if not text_ok(s) or canonical_mode(s) != mode:
            raise Bad("MALFORMED", f"{field}: not canonical")
        self.note(start, f"{field} (mode {mode})", s)
        return s

    def left(self):
        return len(self.d) - self.p


def unpack3(v):
    if v & 0x8000:
        return None
    letters = [(v >> 10) & 31, (v >> 5) & 31, v & 31]
    if not all(1 <= x <= 26 for x in letters):
        return None
    return "".join(chr(64 + x) for x in letters)


def day_of(unix):
    return unix // 86400


def add_months(day, months):
    d = datetime.date(1970, 1, 1) + datetime.timedelta(days=day)
    total = d.year * 12 + d.month - 1 + months
    y, m = divmod(total, 12)
    m += 1
    last = (datetime.date(y + (m == 12), m % 12 + 1, 1) - datetime.timedelta(days=1)).day
    return (datetime.date(y, m, min(d.day, last)) - datetime.date(1970, 1, 1)).days


def key_id(pk):
    return hashlib.sha256(b"permitseal/v1/key-id\x00" + pk).digest()[:6]


def ed25519_ok(pk, msg, sig):
    # The library checks the equation; strictness (S < ℓ, canonical R and key, neither of
    # small order) is checked here, as §3.2 says, whatever the library's own leniency.
    if int.from_bytes(sig[32:], "little") >= L or not strict_point(sig[:32]) or not strict_point(pk):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(pk).verify(sig, msg)
        return True
    except (InvalidSignature, ValueError):
        return False


def country(b):
    c = b.decode("latin-1")
    if c not in COUNTRIES:
        raise Bad("MALFORMED", "country")
    return c


def parse_permit(body, annotate=False):
    r = Reader(body, annotate)
    kid = r.fixed(6, "key_id")
    head = r.u8("type<<4 | flags")
    ty = DOC_TYPES[head >> 4] if 1 <= head >> 4 <= 12 else None
    flags = head & 15
    if ty is None or flags & 8:
        raise Bad("MALFORMED", "document type / flags")
    p = {"type": ty}
    p["country"] = country(r.fixed(2, "issuing_country"))
    p["number"] = r.text("number")
    numbers = [p["number"]]
    # The fields an officer compares, in payload order, with their kind (§11.2).
    p["texts"] = [("number", p["number"])]
    p["issued_at"] = r.varint("issued_at_minutes") * 60
    issue_day = day_of(p["issued_at"])
    p["valid_from"] = issue_day + r.varint("valid_from_offset_days")
    p["valid_until"] = p["valid_from"] + r.varint("validity_days")
    p["index"] = r.varint("status_index")
    p["purpose"] = chr(r.u8("purpose"))
    if p["purpose"] not in PURPOSES:
        raise Bad("MALFORMED", "purpose")
    if flags & 2:
        p["stamp"] = r.text("security_stamp")
        numbers.append(p["stamp"])
        p["texts"].append(("number", p["stamp"]))
    importer_issues = ty == "import"
    p["exporter"] = (r.text("exporter.name"),
                     p["country"] if not importer_issues else country(r.fixed(2, "exporter.country")))
    p["texts"].append(("name", p["exporter"][0]))
    p["importer"] = None
    if flags & 1:
        p["importer"] = (r.text("importer.name"),
                         p["country"] if importer_issues else country(r.fixed(2, "importer.country")))
        p["texts"].append(("name", p["importer"][0]))
    tail = 16 if flags & 4 else 0
    p["lines"] = []
    while r.left() > tail or not p["lines"]:
        i = len(p["lines"])
        if i == 26:
            raise Bad("MALFORMED", "too many lines")
        h = r.u8(f"lines[{i}].header")
        app = h >> 6
        if app == 0:
            raise Bad("MALFORMED", "appendix")
        line = {"appendix": app, "kingdom": "plant" if h & 0x20 else "animal"}
        line["source"] = chr(r.u8(f"lines[{i}].source"))
        if line["source"] not in SOURCES:
            raise Bad("MALFORMED", "source")
        line["name"] = r.text(f"lines[{i}].scientific_name")
        p["texts"].append(("scientific name", line["name"]))
        line["term"] = unpack3(int.from_bytes(r.fixed(2, f"lines[{i}].term"), "big"))
        if line["term"] not in TERMS:
            raise Bad("MALFORMED", "term")
        line["unit"] = "NAR"
        if h & 16:
            line["unit"] = unpack3(int.from_bytes(r.fixed(2, f"lines[{i}].unit"), "big"))
            if line["unit"] not in UNITS:
                raise Bad("MALFORMED", "unit")
        q = r.varint(f"lines[{i}].quantity")
        mant, scale = q >> 3, q & 7
        if mant == 0 or scale > 6 or (scale and mant % 10 == 0):
            raise Bad("MALFORMED", "quantity")
        for bit, name in ((1, "origin"), (2, "last_reexport")):
            if h & bit:
                country(r.fixed(2, f"lines[{i}].{name}.country"))
                numbers.append(r.text(f"lines[{i}].{name}.number"))
                p["texts"].append(("number", numbers[-1]))
                r.zigzag(f"lines[{i}].{name}.date")
        if h & 4:
            line["operation"] = r.text(f"lines[{i}].operation_number")
            numbers.append(line["operation"])
            p["texts"].append(("number", line["operation"]))
        if h & 8:
            line["acquired"] = r.zigzag(f"lines[{i}].acquisition_date")
        p["lines"].append(line)
    if flags & 4:
        r.fixed(16, "details_digest")
    if r.left():
        raise Bad("MALFORMED", "trailing bytes")
    # The rules a checked permit obeys (FORMAT.md §3.6).
    if any(len(n) > MAX_NUMBER for n in numbers):
        raise Bad("MALFORMED", "number longer than 35 characters")
    if p["valid_from"] < issue_day or p["valid_until"] < p["valid_from"]:
        raise Bad("MALFORMED", "validity")
    if p["valid_until"] >= add_months(issue_day, VALIDITY_MONTHS[ty]):
        raise Bad("MALFORMED", "validity length")
    if p["importer"] is None and ty not in MULTI_USE:
        raise Bad("MALFORMED", "importer")
    if p["importer"] and p["importer"][1] == p["exporter"][1]:
        raise Bad("MALFORMED", "same country")
    for line in p["lines"]:
        if line["source"] in NOT_FOR[line["kingdom"]]:
            raise Bad("MALFORMED", "source for kingdom")
        if line["source"] == "D" and "operation" not in line:
            raise Bad("MALFORMED", "operation number")
        if line["source"] == "O" and "acquired" not in line:
            raise Bad("MALFORMED", "acquisition date")
    return kid, p


def parse_trust(data, roots):
    r = Reader(data)
    if r.u8("format") != 1:
        raise Bad("TRUST", "format")
    t = {"version": r.varint("version"), "issued_at": r.varint("issued_at"), "authorities": {}, "keys": {}}
    for _ in range(r.varint("authorities")):
        aid = r.varint("id")
        country = r.fixed(2, "country").decode()
        name = r.text("name")
        t["authorities"][aid] = (country, name)
        for _ in range(r.varint("keys")):
            kid = r.fixed(6, "kid")
            pk = r.fixed(32, "pk")
            if not strict_point(pk):
                raise Bad("TRUST", "key not canonical or of small order")
            if key_id(pk) != kid:
                raise Bad("TRUST", "kid")
            flags = r.u8("flags")
            k = {"authority": aid, "pk": pk, "from": r.varint("from")}
            k["until"] = r.varint("until") if flags & 1 else None
            k["compromised"] = r.varint("since") if flags & 2 else None
            t["keys"].setdefault(kid, []).append(k)
    body = data[:r.p]
    good = 0
    for _ in range(r.u8("count")):
        kid, sig = r.fixed(6, "root"), r.fixed(64, "sig")
        for root in roots:
            if key_id(root) == kid:
                if not ed25519_ok(root, NS["trust"] + b"\x00" + body, sig):
                    raise Bad("TRUST", "signature")
                good += 1
    if r.left() or not good:
        raise Bad("TRUST", "unsigned")
    return t


def rice(bits_bytes, k, n, size):
    bits = "".join(f"{b:08b}" for b in bits_bytes)
    pos, prev, out = 0, -1, []
    for _ in range(n):
        q = 0
        while bits[pos] == "1":
            q += 1
            pos += 1
        pos += 1
        rem = int(bits[pos:pos + k], 2) if k else 0
        pos += k
        prev = prev + 1 + (q << k | rem)
        if prev >= size:
            raise Bad("STATUS", "index")
        out.append(prev)
    if len(bits) - pos >= 8 or "1" in bits[pos:]:
        raise Bad("STATUS", "padding")
    return out


def parse_status(data, trust):
    body, sig = data[:-64], data[-64:]
    r = Reader(body)
    kid = r.fixed(6, "kid")
    fmt = r.u8("format")
    if fmt not in (1, 2):
        raise Bad("STATUS", "format")
    s = {"authority": r.varint("authority"), "version": r.varint("version"),
         "issued_at": r.varint("issued_at"), "size": r.varint("size")}
    s["default"] = r.u8("default")
    states = 4 if fmt == 1 else 5  # format 2 adds state 4, cancelled on import
    if s["default"] >= states:
        raise Bad("STATUS", "default state")
    s["exceptions"] = {}
    for state in range(states):
        if state == s["default"]:
            continue
        n = r.varint("count")
        if n:
            k = r.u8("k")
            for i in rice(r.take(r.varint("len"), "bits"), k, n, s["size"]):
                s["exceptions"][i] = state
    if r.left():
        raise Bad("STATUS", "trailing")
    for key in trust["keys"].get(kid, []):
        if key["authority"] != s["authority"]:
            continue
        if not ed25519_ok(key["pk"], NS["status" if fmt == 1 else "status2"] + b"\x00" + body, sig):
            continue
        t = s["issued_at"]
        if t < key["from"] or (key["until"] is not None and t > key["until"]) or \
                (key["compromised"] is not None and t >= key["compromised"]):
            raise Bad("STATUS", "key not valid")
        return s
    raise Bad("STATUS", "unsigned")


CANONICAL_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)$")


def parse_tree_head(note, roots):
    """§12.4: the four body lines, an empty line, then signature lines; at least one line by a
    pinned root must verify. Returns {size, root, time}."""
    if "\n\n" not in note:
        raise Bad("BUNDLE", "tree head: no empty line")
    body, signatures = note.split("\n\n", 1)
    body += "\n"
    lines = body[:-1].split("\n")
    if len(lines) != 4 or lines[0] != "permitseal/v1/log":
        raise Bad("BUNDLE", "tree head: body")
    size, root, time = lines[1:]
    if not CANONICAL_DECIMAL.match(size) or not CANONICAL_DECIMAL.match(time) or \
            not re.match(r"^[0-9a-f]{64}$", root) or int(size) >= 2**64 or int(time) >= 2**63:
        raise Bad("BUNDLE", "tree head: field")
    if not signatures or not signatures.endswith("\n"):
        raise Bad("BUNDLE", "tree head: signatures")
    pinned = {key_id(k).hex(): k for k in roots}
    good = False
    for line in signatures[:-1].split("\n"):
        m = re.match(r"^\u2014 ([0-9a-f]{12}) ([0-9a-f]{128})$", line)
        if not m:
            raise Bad("BUNDLE", "tree head: signature line")
        k = pinned.get(m.group(1))
        if k is not None and ed25519_ok(
                k, b"permitseal/v1/log-checkpoint\x00" + body.encode(), bytes.fromhex(m.group(2))):
            good = True
    if not good:
        raise Bad("BUNDLE", "tree head: not signed by a pinned root")
    return {"size": int(size), "root": root, "time": int(time)}


def parse_bundle(data, roots):
    """§6: container 1 (`PSB1`) or 2 (`PSB2`, then the log's signed tree head). Returns the
    trust list, the status lists by authority and the tree head (None in container 1)."""
    r = Reader(data)
    magic = r.take(4, "magic")
    if magic not in (b"PSB1", b"PSB2"):
        raise Bad("BUNDLE", "magic")
    trust = parse_trust(r.take(r.varint("len"), "trust"), roots)
    statuses = {}
    for _ in range(r.varint("count")):
        s = parse_status(r.take(r.varint("len"), "status"), trust)
        if s["authority"] in statuses:
            raise Bad("BUNDLE", "two status lists for one authority")
        statuses[s["authority"]] = s
    head = None
    if magic == b"PSB2":
        n = r.varint("tree_head")
        if n == 0 or n > 4096:
            raise Bad("BUNDLE", "tree head length")
        try:
            note = r.take(n, "tree_head").decode("utf-8")
        except UnicodeDecodeError:
            raise Bad("BUNDLE", "tree head: not UTF-8")
        head = parse_tree_head(note, roots)
    if r.left():
        raise Bad("BUNDLE", "trailing bytes")
    return trust, statuses, head


def signer_ok(trust, kid, authority, ns, body, sig, t):
    """FORMAT.md §5: a key of the named authority, valid and not compromised at `t`."""
    for key in trust["keys"].get(kid, []):
        if key["authority"] != authority or not ed25519_ok(key["pk"], ns + b"\x00" + body, sig):
            continue
        if t < key["from"] or (key["until"] is not None and t > key["until"]) or \
                (key["compromised"] is not None and t >= key["compromised"]):
            continue
        return True
    return False


def apply_delta(data, trust, statuses):
    """Applies a signed delta to the list it names (FORMAT.md §5), or raises Bad."""
    body, sig = data[:-64], data[-64:]
    r = Reader(body)
    kid = r.fixed(6, "kid")
    fmt = r.u8("format")
    if fmt not in (1, 2):
        raise Bad("DELTA", "format")
    bits = 2 if fmt == 1 else 3
    authority, frm, to = r.varint("authority"), r.varint("from"), r.varint("to")
    issued_at, size, n = r.varint("issued_at"), r.varint("size"), r.varint("changes")
    if to < frm or (to == frm and n) or n > size:
        raise Bad("DELTA", "versions")
    changes, nxt = {}, 0
    for _ in range(n):
        v = r.varint("change")
        i = nxt + (v >> bits)
        if i >= size or (v & ((1 << bits) - 1)) > 4:
            raise Bad("DELTA", "index or state")
        changes[i] = v & ((1 << bits) - 1)
        nxt = i + 1
    if r.left() or len(data) < 70:
        raise Bad("DELTA", "trailing")
    if not signer_ok(trust, kid, authority, NS["delta" if fmt == 1 else "delta2"], body, sig, issued_at):
        raise Bad("DELTA", "signer")
    s = statuses.get(authority)
    if s is None or s["version"] != frm or size < s["size"] or issued_at < s["issued_at"] \
            or (to == frm and size != s["size"]):
        raise Bad("DELTA", "does not apply")
    ex = dict(s["exceptions"])
    for i, state in changes.items():
        if state == s["default"]:
            ex.pop(i, None)
        else:
            ex[i] = state
    statuses[authority] = dict(s, version=to, issued_at=issued_at, size=size, exceptions=ex)


def verify(text, now, trust, statuses, checkpoint="export", floor=None):
    """Returns (verdict, sorted reason codes, permit number or None)."""
    floor = max([trust["issued_at"]] + [s["issued_at"] for s in statuses.values()]
                + ([floor] if floor is not None else []))
    text = text.strip(" \t\n\r")
    if not text.startswith("PS1:"):
        rest = text[2:]
        digits = len(rest) - len(rest.lstrip("0123456789"))
        code = "UNSUPPORTED_VERSION" if text.startswith("PS") and digits and rest[digits:digits + 1] == ":" \
            else "NOT_A_PERMIT"
        return "invalid", [code], None
    if len(text.encode()) > MAX_TEXT_BYTES:
        return "invalid", ["MALFORMED"], None
    try:
        raw = b45decode(text[4:])
        if len(raw) < 70:
            raise Bad("MALFORMED", "short")
        signed, sig = raw[:-64], raw[-64:]
        kid, p = parse_permit(signed)
    except Bad as e:
        return "invalid", [e.code], None
    candidates = trust["keys"].get(kid, [])
    key = next((k for k in candidates if ed25519_ok(k["pk"], NS["permit"] + b"\x00" + signed, sig)), None)
    if key is None:
        return "invalid", ["BAD_SIGNATURE" if candidates else "UNKNOWN_KEY"], None
    floor = max(floor, p["issued_at"])
    at = max(now, floor)
    errors, warnings = [], []
    if now + 300 < floor:
        warnings.append("CLOCK_BEHIND")
    country, _ = trust["authorities"][key["authority"]]
    if country != p["country"]:
        errors.append("ISSUER_MISMATCH")
    minute = lambda t: t - t % 60
    if p["issued_at"] < minute(key["from"]):
        errors.append("KEY_NOT_YET_VALID")
    if key["until"] is not None and p["issued_at"] > key["until"]:
        errors.append("KEY_RETIRED")
    if key["compromised"] is not None:
        stolen = p["issued_at"] >= minute(key["compromised"])
        (errors if stolen else warnings).append("KEY_COMPROMISED" if stolen else "KEY_COMPROMISED_LATER")
    today = day_of(at)
    if today > p["valid_until"]:
        errors.append("EXPIRED")
    if today < p["valid_from"]:
        errors.append("NOT_YET_VALID")
    infos = []
    s = statuses.get(key["authority"])
    if s is None:
        warnings.append("STATUS_UNAVAILABLE")
    else:
        if p["index"] >= s["size"]:
            newer = p["issued_at"] >= minute(s["issued_at"])
            (warnings if newer else errors).append("STATUS_OLDER_THAN_PERMIT" if newer else "NOT_ISSUED")
        else:
            state = s["exceptions"].get(p["index"], s["default"])
            # An import permit and the multi-use certificates (types 3, 8-11) carry no export
            # endorsement in the status list (FORMAT.md §7 step 8).
            if state == 0 and checkpoint == "import" and p["type"] not in NO_ENDORSEMENT_AT_IMPORT:
                warnings.append("NOT_ENDORSED")
            elif state == 1:
                errors.append("SUSPENDED")
            elif state == 2:
                errors.append("REVOKED")
            elif state == 3:
                (errors if checkpoint == "export" else infos).append(
                    "USED" if checkpoint == "export" else "ENDORSED")  # import or inspection
            elif state == 4:  # cancelled on import: re-use at a border, a warning inland
                (warnings if checkpoint == "inspection" else errors).append("CANCELLED_ON_IMPORT")
        limit = 24 * 3600 if any(line["appendix"] == 1 for line in p["lines"]) else 72 * 3600
        if at - s["issued_at"] > limit:
            warnings.append("STALE_STATUS")
    if at - trust["issued_at"] > 30 * 86400:
        warnings.append("STALE_TRUST")
    if p["purpose"] == "T":
        warnings += ["APPENDIX_I_COMMERCIAL" for line in p["lines"]
                     if line["appendix"] == 1 and line["source"] in "WXFR"]
    warnings += ["DECEPTIVE_TEXT" for kind, s in p["texts"] if deceptive(kind, s)]
    verdict = "invalid" if errors else "valid_with_warnings" if warnings else "valid"
    return verdict, sorted(errors + warnings + infos), p["number"]


def main(argv):
    if len(argv) == 3 and argv[1] == "--annotate":
        raw = b45decode(argv[2][4:])
        print(f"prefix {argv[2][:4]!r}; {len(raw)} bytes; offset, hex, field = value")
        parse_permit(raw[:-64], annotate=True)
        print(f"  {len(raw) - 64:4d}  signature {raw[-64:].hex()}")
        return 0
    doc = json.load(open(argv[1]))
    if doc.get("format", "").startswith("permitseal device reports"):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import device_reports
        failed = device_reports.run(doc)
        print(f"{len(doc['cases']) - failed} passed, {failed} failed")
        return 1 if failed else 0
    roots = [bytes.fromhex(k) for k in doc["root_public_keys"]]
    failed = 0
    for case in doc["cases"]:
        want = case["expected"]
        try:
            trust, statuses, head = parse_bundle(bytes.fromhex(case["bundle"]), roots)
        except Bad as e:
            if want.get("bundle") != "refused":
                failed += 1
                print(f"DISAGREE {case['name']}: independent refused the bundle ({e}), core {want}")
            continue
        deltas = []
        for d in case.get("deltas", []):
            try:
                apply_delta(bytes.fromhex(d), trust, statuses)
                deltas.append("applied")
            except Bad:
                deltas.append("refused")
        got = verify(case["qr"], case["now"], trust, statuses, case["checkpoint"], case["time_floor"])
        if want.get("bundle", "accepted") != "accepted" or deltas != want.get("deltas", []) or \
                got != (want["verdict"], want["reasons"], want["permit_number"]) or \
                ("tree_head" in want and head != want["tree_head"]):
            failed += 1
            print(f"DISAGREE {case['name']}: independent {got} deltas {deltas}, core {want}")
    print(f"{len(doc['cases']) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
