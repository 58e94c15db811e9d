"""Write sample_data/contacts.xlsx and contacts.csv: ~50 contacts with the mess real files have.

Run from the project root: python sample_data/make_sample.py
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from openpyxl import Workbook

HEADER = ["First Name", "Phone", "City", "Birthday", "Email"]
# (first name, phone as typed, city, birthday, email); None marks the empty row.
ROWS: list[tuple[str, object, str, dt.date | str | None, str] | None] = [
    ("Taras", "+380 50 123 4567", "Kyiv", dt.date(1990, 3, 9), "taras@example.com"),
    ("Olena", "050-234-56-78", "Lviv", dt.date(1985, 11, 22), "olena@example.com"),
    ("Andriy", "(067) 345 67 89", "Odesa", dt.date(1979, 1, 30), ""),
    ("Iryna", 380634567890, "Kharkiv", dt.date(1992, 7, 14), "iryna@example.com"),
    ("Mykola", "0939876543", "Dnipro", None, ""),
    ("Sofia", "+380 (97) 111-22-33", "Kyiv", dt.date(2001, 5, 5), "sofia@example.com"),
    ("Dmytro", "00380661234567", "Zaporizhzhia", dt.date(1988, 9, 17), ""),
    ("Kateryna", "068 765 43 21", "Vinnytsia", dt.date(1995, 12, 1), "kate@example.com"),
    ("Yurii", "tel:+380731112233", "Poltava", None, ""),
    ("Natalia", "+380 95 222 33 44", "Chernihiv", dt.date(1983, 4, 18), ""),
    ("Bohdan", 501112233, "Sumy", dt.date(1999, 2, 28), "bohdan@example.com"),
    ("Oksana", "096.333.44.55", "Rivne", dt.date(1975, 6, 23), ""),
    ("Serhii", "+380 50 123 4567", "Kyiv", dt.date(1990, 3, 9), "dup@example.com"),
    ("Halyna", "12345", "Ternopil", dt.date(1968, 8, 8), ""),
    ("Vasyl", "+380 63 444 55 66", "Uzhhorod", dt.date(1987, 10, 10), ""),
    None,
    ("Larysa", "0674445566", "Lutsk", dt.date(1993, 3, 3), "larysa@example.com"),
    ("Petro", "+44 7911 123456", "London", dt.date(1980, 1, 1), "petro@example.co.uk"),
    ("Anna", "+48 601 234 567", "Warsaw", dt.date(1997, 7, 7), ""),
    ("Roman", "050 555 66 77 ext. 12", "Kyiv", dt.date(1991, 9, 19), ""),
    ("Viktoriia", "0997778899", "Mykolaiv", dt.date(1986, 6, 16), ""),
    ("Ihor", "+380-98-888-99-00", "Kherson", dt.date(1974, 4, 4), "ihor@example.com"),
    ("Maria", "063 100 20 30", "Cherkasy", dt.date(2000, 12, 31), ""),
    ("Oleh", "+380 67 200 30 40", "Zhytomyr", dt.date(1984, 2, 14), ""),
    ("Tetiana", "050 300 40 50", "Khmelnytskyi", dt.date(1977, 11, 11), ""),
    ("Artem", "+380 93 400 50 60", "Ivano-Frankivsk", dt.date(1998, 8, 24), ""),
    ("Yulia", "066 500 60 70", "Chernivtsi", dt.date(1989, 5, 25), "yulia@example.com"),
    ("Maksym", "+380 68 600 70 80", "Kropyvnytskyi", dt.date(1994, 10, 1), ""),
    ("Liudmyla", "097 700 80 90", "Bila Tserkva", dt.date(1966, 3, 8), ""),
    ("Volodymyr", "+380 99 800 90 10", "Kremenchuk", dt.date(1982, 7, 28), ""),
    ("Svitlana", "073 900 10 20", "Mariupol", dt.date(1990, 1, 15), ""),
    ("Denys", "+380 95 010 20 30", "Melitopol", dt.date(1996, 4, 12), ""),
    ("Alina", "050 020 30 40", "Kamianets-Podilskyi", dt.date(2002, 6, 6), ""),
    ("Yaroslav", "+380 63 030 40 50", "Berdiansk", dt.date(1981, 9, 9), ""),
    ("Khrystyna", "067 040 50 60", "Drohobych", dt.date(1993, 2, 2), ""),
    ("Stepan", "not known", "Kolomyia", dt.date(1970, 12, 12), ""),
    ("Zoriana", "+380 96 060 70 80", "Mukachevo", dt.date(1999, 11, 30), ""),
    ("Pavlo", "098 070 80 90", "Uman", dt.date(1985, 8, 15), ""),
    ("Inna", "+380 66 080 90 00", "Brovary", dt.date(1991, 10, 20), ""),
    ("Vitalii", "050 090 00 11", "Irpin", dt.date(1979, 5, 9), ""),
    ("Marta", "+380 67 101 11 21", "Truskavets", dt.date(1994, 3, 21), ""),
    ("Ostap", "063 121 31 41", "Lviv", dt.date(1988, 1, 7), ""),
    ("Solomiia", "+380 97 141 51 61", "Kyiv", dt.date(2003, 7, 17), ""),
    ("Hryhorii", "0671415161", "Odesa", dt.date(1965, 6, 30), ""),
    ("Nadiia", "+380 50 161 71 81", "Kharkiv", dt.date(1976, 2, 28), ""),
    ("Lesia", "099 181 91 01", "Poltava", dt.date(1997, 9, 1), ""),
    ("Borys", "+380 93 202 12 22", "Sumy", dt.date(1983, 12, 25), ""),
    ("Uliana", "068 222 32 42", "Lutsk", dt.date(2000, 4, 1), ""),
    ("Fedir", "+380 73 242 52 62", "Rivne", dt.date(1972, 10, 31), ""),
]


def write_xlsx(path: Path) -> None:
    """The workbook: phones as typed, one of them a number cell; birthdays as date cells."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Contacts"
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(list(row) if row else [])
    for cell in sheet["D"][1:]:
        cell.number_format = "dd.mm.yyyy"
    book.save(path)


def write_csv(path: Path) -> None:
    """The same rows as Excel's 'CSV UTF-8' export in a European locale: ';', BOM, dd.mm.yyyy."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(HEADER)
        for row in ROWS:
            if row is None:
                writer.writerow([""] * len(HEADER))
                continue
            name, phone, city, birthday, email = row
            day = birthday.strftime("%d.%m.%Y") if isinstance(birthday, dt.date) else ""
            writer.writerow([name, phone, city, day, email])


if __name__ == "__main__":
    here = Path(__file__).parent
    write_xlsx(here / "contacts.xlsx")
    write_csv(here / "contacts.csv")
