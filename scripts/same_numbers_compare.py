#!/usr/bin/env python3
"""same_numbers_compare.py OLD NEW: the comparison half of scripts/same-numbers.

Walks two output folders written by the same commands with two lpg binaries and reports every
file whose numbers differ. What names the program or the clock is left out, nothing else:
- .lpg files: every section's payload is compared, except "provenance"; text sections are
  compared after the folder names OLD and NEW are made one;
- .json and .jsonl: the key "provenance" and keys ending in "seconds" (at any depth) are dropped;
- other text (stdout, stderr, CSV, Markdown): wall-clock readings (steps/s, seconds, hh:mm:ss,
  "left") and provenance lines of `lpg info` are masked.
Exit 0 when all agree, 1 otherwise."""
import json
import os
import re
import struct
import sys
import zlib

HEADER = 36
SKIP_SECTIONS = {"provenance"}
SKIP_KEYS = {"provenance", "seconds"}
CLOCK = [
    re.compile(r"[0-9.]+(e[+-]?[0-9]+)?[kMG]? (env )?(steps|samples)/s"),
    re.compile(r"\b[0-9]+:[0-9]{2}:[0-9]{2}\b"),
    re.compile(r"\b[0-9.]+ ?(s|ms|min|CPU-s|CPU-h|h)\b"),
    re.compile(r"\b[0-9.]+ seconds\b"),
]
INFO_PROVENANCE = re.compile(
    r"^\s*(lpg|git|precision|compiler|glibc|openblas|openblas_core|cpu|lpg_cpu|lpg_kernels|"
    r"libmvec|glibc_tunables|version|program|this program)\b.*$", re.M)


def sections(path):
    data = open(path, "rb").read()
    if data[:8] != b"LPGCKPT1":
        return {"<raw>": data}
    real = struct.unpack_from("<I", data, 12)[0]
    payload = zlib.decompress(data[HEADER:])
    out, pos = {}, 0
    while pos < len(payload):
        (n,) = struct.unpack_from("<I", payload, pos)
        name = payload[pos + 4:pos + 4 + n].decode()
        kind, count = struct.unpack_from("<IQ", payload, pos + 4 + n)
        pos += 16 + n
        size = {1: real, 2: 8, 3: 1, 4: 1}[kind] * count
        out[name] = (kind, payload[pos:pos + size])
        pos += size
    return out


def scrub_json(value):
    if isinstance(value, dict):
        return {k: scrub_json(v) for k, v in value.items()
                if k not in SKIP_KEYS and not k.endswith("seconds")}
    if isinstance(value, list):
        return [scrub_json(v) for v in value]
    return value


def one_folder(text, old, new):
    return text.replace(old, "<OUT>").replace(new, "<OUT>")


def scrub_text(text):
    for pattern in CLOCK:
        text = pattern.sub("<clock>", text)
    return INFO_PROVENANCE.sub("<provenance>", text)


def compare_lpg(a, b, old, new):
    sa, sb = sections(a), sections(b)
    diffs = []
    for name in sorted(set(sa) | set(sb)):
        if name in SKIP_SECTIONS:
            continue
        if name not in sa or name not in sb:
            diffs.append(f"section {name} only in {'new' if name in sb else 'old'}")
            continue
        (ka, da), (kb, db) = sa[name], sb[name]
        if ka == 4:
            da = one_folder(da.decode(), old, new)
            db = one_folder(db.decode(), old, new)
        if ka != kb or da != db:
            diffs.append(f"section {name} differs")
    return diffs


def compare_json_lines(a, b, old, new):
    la = one_folder(open(a).read(), old, new).splitlines()
    lb = one_folder(open(b).read(), old, new).splitlines()
    if len(la) != len(lb):
        return [f"{len(la)} lines against {len(lb)}"]
    for i, (x, y) in enumerate(zip(la, lb)):
        try:
            x, y = scrub_json(json.loads(x)), scrub_json(json.loads(y))
        except json.JSONDecodeError:
            pass
        if x != y:
            return [f"line {i + 1} differs"]
    return []


def compare_json(a, b, old, new):
    x = scrub_json(json.loads(one_folder(open(a).read(), old, new)))
    y = scrub_json(json.loads(one_folder(open(b).read(), old, new)))
    return [] if x == y else ["values differ"]


def compare_text(a, b, old, new):
    x = scrub_text(one_folder(open(a, errors="replace").read(), old, new))
    y = scrub_text(one_folder(open(b, errors="replace").read(), old, new))
    if x == y:
        return []
    for i, (p, q) in enumerate(zip(x.splitlines(), y.splitlines())):
        if p != q:
            return [f"line {i + 1}: {p[:100]!r} against {q[:100]!r}"]
    return ["lengths differ"]


def compare(a, b, old, new):
    if a.endswith(".lpg"):
        return compare_lpg(a, b, old, new)
    if a.endswith(".jsonl"):
        return compare_json_lines(a, b, old, new)
    if a.endswith(".json"):
        return compare_json(a, b, old, new)
    if a.endswith(".png"):
        return []  # drawn by gnuplot from the CSVs compared here
    return compare_text(a, b, old, new)


def files(root):
    out = set()
    for d, _, names in os.walk(root):
        for n in names:
            out.add(os.path.relpath(os.path.join(d, n), root))
    return out


def main():
    old, new = sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/")
    fa, fb = files(old), files(new)
    bad = 0
    for rel in sorted(fa ^ fb):
        print(f"DIFF {rel}: only in {'new' if rel in fb else 'old'}")
        bad += 1
    for rel in sorted(fa & fb):
        diffs = compare(os.path.join(old, rel), os.path.join(new, rel), old, new)
        if diffs:
            print(f"DIFF {rel}: " + "; ".join(diffs))
            bad += 1
    print(f"same-numbers: {bad} of {len(fa | fb)} files differ" if bad
          else f"same-numbers: all {len(fa)} files agree")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
