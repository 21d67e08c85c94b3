"""Reference values for pom's ContactData module.

Writes, from the repository root:
  Sources/ContactData/Resources/disposable-domains.txt
      a selection of well-known throw-away mailbox services from the public-domain (CC0)
      disposable-email-domains list;
  Tests/ContactDataTests/Fixtures/contact-data/phone-numbers.json
      real-format numbers per country with what Google's libphonenumber (Python port
      `phonenumbers`) says: valid or not, E.164, line type;
  Tests/ContactDataTests/Fixtures/contact-data/idna.json
      Unicode domains with their IDNA ASCII form (`idna`, UTS 46 mapping) and Punycode
      labels (Python's RFC 3492 codec).

Needs: pip install phonenumbers==9.0.43 disposable-email-domains==0.0.293 idna
Run:   python3 scripts/reference/contact-data.py
"""
import json
import os

import disposable_email_domains
import idna
import phonenumbers

FIXTURES = "Tests/ContactDataTests/Fixtures/contact-data"

# --- disposable domains -------------------------------------------------------------------
KEYS = ["mailinator", "guerrilla", "10minute", "yopmail", "tempmail", "temp-mail", "trashmail", "throwaway",
        "discard", "spam", "fakeinbox", "mailnesia", "maildrop", "getnada", "sharklasers", "grr.la", "dispostable",
        "mintemail", "mohmal", "emailondeck", "burner", "tempinbox", "jetable", "mytemp", "moakt", "tempr",
        "mailcatch", "33mail", "tempail", "mailpoof", "emailfake", "fakemail", "minutemail", "20minute",
        "30minute", "60minute", "tmpmail", "inboxkitten", "harakirimail", "spambox", "wegwerf", "einweg",
        "trash-mail", "sofort-mail", "muellmail", "byom", "mailforspam", "dropmail", "anonbox", "mail-temp",
        "tempemail", "disposable", "nowmymail", "incognitomail", "mailexpire", "meltmail", "deadaddress", "mailzilla"]
EXTRA = ["pokemail.net", "spam4.me", "guerrillamailblock.com", "courriel.fr.nf", "moncourrier.fr.nf", "monemail.fr.nf",
         "monmail.fr.nf", "mailnull.com", "mailmetrash.com", "getairmail.com", "emailtemporanea.net", "tempomail.fr",
         "temporaryemail.net", "mvrht.com", "mailcatch.com", "nada.email", "emlhub.com", "emlpro.com", "mailsac.com",
         "inboxbear.com", "mail.tm", "tmpeml.com", "fexbox.org", "fexpost.com", "spamdecoy.net", "0-mail.com",
         "0wnd.net", "0wnd.org", "anonymbox.com", "binkmail.com", "bobmail.info", "chammy.info", "devnullmail.com",
         "letthemeatspam.com", "mailin8r.com", "mailinator2.com", "notmailinator.com", "reallymymail.com",
         "safetymail.info", "sogetthis.com", "spamherelots.com", "suremail.info", "thisisnotmyrealemail.com",
         "tradermail.info", "veryrealemail.com", "zippymail.info"]
blocklist = disposable_email_domains.blocklist
selected = {d for d in blocklist if any(k in d for k in KEYS)} | {d for d in EXTRA if d in blocklist}
with open("Sources/ContactData/Resources/disposable-domains.txt", "w") as f:
    f.write("# Domains of throw-away mailbox services, one a line, lower case; subdomains count too.\n")
    f.write("# A selection of well-known services from the public-domain (CC0) disposable-email-domains\n")
    f.write("# list (PyPI package disposable-email-domains 0.0.293); scripts/reference/contact-data.py makes it.\n")
    for d in sorted(selected):
        f.write(d + "\n")

# --- phone numbers ------------------------------------------------------------------------
NUMBERS = {
    "DE": ["+49 151 23456789", "0151 23456789", "0151/23456789", "+49 (0)151 2345 6789", "0049 170 1234567",
           "+49 176 12345678", "0160 1234567", "+49 162 1234567", "+49 163 12345678", "0171 12345678",
           "030 12345678", "+49 30 1234567", "089 1234567", "0221 1234567", "+49 40 41234567", "069 12345678",
           "0800 1234567", "0700 12345678", "+49 (0) 211 1234567",
           "+49 15 12345", "+49 1512345678", "0151 234567890", "+49 14 1234567", "0176 1234567890", "+49 170 12345"],
    "AT": ["+43 664 1234567", "0664 1234567", "0676 12345678", "+43 699 12345678", "0650 1234567",
           "+43 1 5877475", "01 58774750", "0316 123456", "0732 123456", "0512 123456", "+43 800 123456",
           "0043 660 1234567", "+43 (0)664 1234567",
           "+43 664 12", "0664 12345678901234", "+43 0 1234"],
    "CH": ["+41 79 123 45 67", "079 123 45 67", "076 123 45 67", "+41 78 765 43 21", "044 668 18 00",
           "+41 44 668 1800", "+41 21 123 45 67", "031 123 45 67", "0800 123 456", "0041 79 123 45 67",
           "+41 (0)79 123 45 67",
           "+41 76 123 45 6", "+41 78 1234567 8", "+41 10 123 45 67", "079 12"],
    "NL": ["+31 6 12345678", "06-12345678", "06 2345 6789", "+31 20 1234567", "020 123 4567", "010-1234567",
           "+31 70 1234567", "030 123 4567", "0800-1234", "085 123 4567", "0031 6 12345678",
           "+31 6 1234567", "06 123456789", "+31 19 1234567"],
    "FR": ["+33 6 12 34 56 78", "06 12 34 56 78", "07 81 23 45 67", "+33 7 56 12 34 56", "01 23 45 67 89",
           "+33 1 23 45 67 89", "04 72 12 34 56", "05 56 12 34 56", "09 51 23 45 67", "0800 12 34 56",
           "0033 6 12 34 56 78",
           "06 12 34 56 7", "+33 6 12 34 56 78 9", "07 12 34 56 78"],
    "GB": ["+44 7911 123456", "07911 123456", "07700 900123", "+44 7400 123456", "+44 20 7946 0958",
           "020 7946 0958", "+44 (0)20 7946 0958", "0161 496 0000", "0113 496 0000", "0117 496 0000",
           "0800 123 4567", "0303 123 4567", "0044 7911 123456",
           "+44 7911 12345", "07911 1234567", "+44 6 1234 5678"],
    "US": ["+1 (212) 736-5000", "212-736-5000", "(415) 867-5309", "1-800-275-2273", "+1 800 275 2273",
           "1 202 456 1111", "+1 312 555 0199", "650.253.0000", "011 49 151 23456789",
           "212 736 500", "+1 112 736 5000", "+1 212 136 5000", "+1 212 736 50001"],
}
TYPES = {
    phonenumbers.PhoneNumberType.FIXED_LINE: "landline",
    phonenumbers.PhoneNumberType.MOBILE: "mobile",
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE: "landline_or_mobile",
    phonenumbers.PhoneNumberType.TOLL_FREE: "toll_free",
    phonenumbers.PhoneNumberType.PREMIUM_RATE: "premium_rate",
    phonenumbers.PhoneNumberType.SHARED_COST: "shared_cost",
    phonenumbers.PhoneNumberType.VOIP: "voip",
    phonenumbers.PhoneNumberType.PERSONAL_NUMBER: "personal",
    phonenumbers.PhoneNumberType.PAGER: "pager",
    phonenumbers.PhoneNumberType.UAN: "service",
}
rows = []
for country, inputs in NUMBERS.items():
    for text in inputs:
        row = {"input": text, "country": country, "valid": False, "e164": None, "type": None}
        try:
            n = phonenumbers.parse(text, country)
            if phonenumbers.is_valid_number(n):
                row["valid"] = True
                row["e164"] = phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
                row["type"] = TYPES.get(phonenumbers.number_type(n), "unknown")
        except phonenumbers.NumberParseException:
            pass
        rows.append(row)
os.makedirs(FIXTURES, exist_ok=True)
with open(f"{FIXTURES}/phone-numbers.json", "w") as f:
    json.dump({"source": f"phonenumbers {phonenumbers.__version__} (libphonenumber metadata)", "numbers": rows},
              f, indent=1, ensure_ascii=False)
    f.write("\n")

# --- IDNA and Punycode --------------------------------------------------------------------
DOMAINS = ["münchen.de", "bücher.example", "straße.de", "müller-gmbh.at", "zürich.ch", "éléphant.fr",
           "пример.рф", "例え.jp", "中文.com", "ดี.th", "ἀρχή.gr", "köln-bonn.de", "Bücher.DE", "faß.de"]
idna_rows = []
for d in DOMAINS:
    ascii_form = idna.encode(d, uts46=True).decode()
    labels = [{"unicode": label, "punycode": label.encode("punycode").decode()}
              for label in d.lower().split(".") if any(ord(c) > 127 for c in label)]
    idna_rows.append({"unicode": d, "ascii": ascii_form, "labels": labels})
with open(f"{FIXTURES}/idna.json", "w") as f:
    json.dump({"source": f"idna {idna.__version__} (UTS 46), Python punycode codec (RFC 3492)", "domains": idna_rows},
              f, indent=1, ensure_ascii=False)
    f.write("\n")
print(f"{len(selected)} disposable domains, {len(rows)} phone numbers, {len(idna_rows)} domains")
