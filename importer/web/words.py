"""The library's messages in the page's words: no option, variable, key stroke or
encoding name where a marketer reads, but what to do on the page.

The library speaks to the command's users ("give --default-region"); the page shows the
same message with each of those phrases replaced by what the page offers instead.
"""

from __future__ import annotations

import re

#: Whole phrases first (they say what to do), then single names.
_PHRASES: tuple[tuple[str, str], ...] = (
    (r"has no country code; write it as \+<country code>… or give --default-region",
     "has no country code: choose the country above, or write it with its +country code"),
    (r"split the file into smaller ones, or raise --max-rows",
     "split the file into smaller ones and drop each here"),
    (r"split it, or raise --max-unpacked-mb", "split it into smaller files and drop each here"),
    (r"check BSG_API_KEY \(or --api-key\)",
     "the page was started with a key BSG does not accept: tell whoever runs this page"),
    (r"set BSG_API_KEY \(or use --sandbox to try the tool\)",
     "the page was started without one: tell whoever runs this page"),
    (r"wait for it, or use --if-running wait", "wait for it to end, then try again"),
    (r"\(set BSG_API_KEY\)", "(the page was started without an API key)"),
    (r"\(choose with --phone-column, more than once for a fallback\)",
     "(choose another in the Columns table)"),
    (r"[Nn]ame the column with --phone-column", "choose the column that holds the numbers"),
    (r"check --phone-column", "choose the phone column again"),
    (r"--region-column none reads every row under --default-region",
     "Choose none under Each row's own country to read every row as above"),
    (r"under --default-region ([A-Z]{2})\b", r"under \1"),
    (r"choose with --region-column", "choose under Each row's own country"),
    (r"check --region-column", "choose each row's own country again"),
    (r" \(--region-column\)", ""),
    (r"\(--region-column ('[^']*') uses it\)",
     r"(choose the column \1 under Each row's own country)"),
    (r"--sheet applies to workbooks; this is a text file\. Drop it",
     "a text file has no sheets"),
)  # fmt: skip
_NAMES: dict[str, str] = {
    "--default-region": "the default region above",
    "--phone-column": "the phone column",
    "--sheet": "the sheet",
    "--list": "the contact list",
    "--map": "the column's role",
    "--create-fields": "a new field",
    "--skip-column": "not sent",
    "--on-existing": "the choice for phones already in the account",
    "--date-order": "the choice for dates",
    "--wait-hlr": "the wait for reachability",
    "--max-upload-mb": "the upload limit",
    "--max-rows": "the row limit",
    "--max-unpacked-mb": "the size limit",
    "--region-column": "each row's own country",
}
_ENCODINGS: dict[str, str] = {
    "utf-8-sig": "UTF-8",
    "utf-8": "UTF-8",
    "utf_8": "UTF-8",
    "utf-16": "UTF-16",
    "utf-16-le": "UTF-16",
    "utf-16-be": "UTF-16",
    "cp1251": "Windows-1251 (Cyrillic)",
    "cp1252": "Windows-1252 (Western)",
    "latin-1": "Western (Latin-1)",
    "iso-8859-1": "Western (Latin-1)",
    "koi8-u": "Cyrillic (KOI8-U)",
}
_FLAG = re.compile(r"--([a-z][a-z-]*)( [A-Z]+\b)?")
_VARIABLE = re.compile(r"\bBSG_[A-Z_]+\b")
_ENCODING = re.compile(
    "|".join(rf"\b{re.escape(name)}\b" for name in sorted(_ENCODINGS, key=len, reverse=True)),
    re.IGNORECASE,
)


def page_words(text: str) -> str:
    """``text`` with the command's words put as the page's."""
    for pattern, words in _PHRASES:
        text = re.sub(pattern, words, text)
    text = _FLAG.sub(_flag, text)
    text = _VARIABLE.sub("a setting of the server", text)
    text = re.sub(r"\bCtrl-C\b", "Stop", text)
    return encoding_name(text)


def encoding_name(text: str) -> str:
    """Encoding names as people know them: "UTF-8", not "utf-8-sig"."""
    return _ENCODING.sub(lambda m: _ENCODINGS[m.group(0).lower()], text)


def _flag(found: re.Match[str]) -> str:
    name = f"--{found.group(1)}"
    return _NAMES.get(name, f"the {found.group(1).replace('-', ' ')} setting")
