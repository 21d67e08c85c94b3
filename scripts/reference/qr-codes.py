"""Reference QR code symbols from python-qrcode, an independent QR code encoder.

Run from the repository root with a Python that has qrcode (pip install qrcode):
    python3 scripts/reference/qr-codes.py
Writes Tests/QRCodesTests/Fixtures/qrcode/reference.json.

pom encodes with libqrencode: the text's UTF-8 bytes as one 8-bit byte segment, the smallest
version that holds it at the chosen error correction, the mask with the lowest penalty.
Encoders may score masks slightly differently, so the file holds the symbol for every one of
the 8 masks; pom's symbol must equal exactly one of them (the one with its mask).
Rows are strings of '1' (dark) and '0' (light), without the quiet zone.
"""
import json
import os
from importlib.metadata import version

import qrcode
from qrcode.util import MODE_8BIT_BYTE, QRData

LEVELS = {
    "l": qrcode.constants.ERROR_CORRECT_L,
    "m": qrcode.constants.ERROR_CORRECT_M,
    "q": qrcode.constants.ERROR_CORRECT_Q,
    "h": qrcode.constants.ERROR_CORRECT_H,
}

CASES = [
    ("https://pay.example.com/p/QzEASTEAaQ9gQA.1n6t8ZgYyc1a5Pcd", "m"),
    ("HELLO WORLD", "l"),
    ("Zahlung für Rechnung RE-2026-0042 – 120,00 €", "q"),
    ("https://pay.example.com/p/" + "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_" * 4, "h"),
]


def symbol(text, level, mask):
    qr = qrcode.QRCode(version=None, error_correction=LEVELS[level], border=0, mask_pattern=mask)
    qr.add_data(QRData(text.encode("utf-8"), mode=MODE_8BIT_BYTE))
    qr.make(fit=True)
    return qr.version, ["".join("1" if m else "0" for m in row) for row in qr.get_matrix()]


out = {"generator": f"qrcode {version('qrcode')}", "cases": []}
for text, level in CASES:
    symbols = [symbol(text, level, mask) for mask in range(8)]
    out["cases"].append({
        "text": text,
        "error_correction": level,
        "version": symbols[0][0],
        "symbols_by_mask": [s for _, s in symbols],
    })

path = "Tests/QRCodesTests/Fixtures/qrcode/reference.json"
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
print("wrote", path)
