"""Deterministic generator of realistic Online Retail order lines from customers simulated forward.

The real Kaggle ``data.csv`` (the UCI Online Retail data set) cannot be shipped, so the project
builds and tests on a synthetic file with the same layout and the same awkward properties:
a quarter of the lines without a customer, cancellations that refer to earlier purchases,
exact duplicate lines, zero and negative prices, non-product stock codes, a handful of huge
wholesalers and one 80,995-unit order that is cancelled the same day. The facts it is
calibrated to are in ``shared/ONLINE_RETAIL_FACTS.md``; the constants below name them.

Customers are simulated forward in time (``timelines.py``): a shop in a steady state whose
customers join, buy at their own rate through the season and stop, so that what a customer looks
like at any past date says what they do next, as in a real shop; the product's backtest depends
on that. Each customer's state on the last day (``occasional``, ``high_value``, ``at_risk``,
``new``), their kind (``light`` or ``frequent``) and whether they have stopped buying are
written to a second file that the pipeline never reads, so that the segments can be scored
against the truth.

Design
------
Customers are generated in chunks of at most ``CHUNK_CUSTOMERS`` customers, each chunk with its
own random streams derived from the seed, so memory is bounded by the chunk and not by
``n_lines``. Invoice numbers must increase with time across the whole file, so generation runs
in two passes: the first builds only the invoice headers of every chunk (a few numbers per
invoice) to number all invoices in time order; the second rebuilds the same headers from the
same streams, fills in the lines and writes them. Within a chunk the lines are in invoice-number
order; at the default size there is a single chunk, so the whole file is.

Parquet output has the same eight columns: ``InvoiceNo``, ``StockCode``, ``Description``,
``InvoiceDate`` (text in the CSV layout ``M/D/YYYY H:MM``) and ``Country`` as strings,
``Quantity`` as int64, ``UnitPrice`` as float64 and ``CustomerID`` as nullable int64.

At sizes above the default the invoice numbers grow past six digits and customer ids past
18287, as the real numbering would.

Where it departs from the real file
-----------------------------------
* Recency: median about 62 days against 51, and a larger first month (the real file's
  December 2010 has 948 customers buying, this one's about 1,200): the simulated shop's base
  of customers from before the file is larger, and more of them stop during the year.
* Spend: the largest customer spends about 200,000 against 280,000.
* A handful of lines the real file lacks, so that every cleaning rule meets a line it must
  exclude: zero-quantity lines of customers and one ``A`` bad-debt line naming a customer.
* Unit prices have at most two decimals (the real file has a few like 0.001).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from online_retail_generator import timelines

__all__ = [
    "COLUMNS",
    "DEFAULT_LINES",
    "PERSONA_KEYS",
    "format_invoice_dates",
    "format_prices",
    "generate_order_lines",
    "iter_order_line_chunks",
    "main",
    "write_dataset",
]

# --------------------------------------------------------------------------------------------
# Facts of the real file (shared/ONLINE_RETAIL_FACTS.md) that the generator is calibrated to.
# Shares are per raw line so that they scale with --lines.
# --------------------------------------------------------------------------------------------
COLUMNS = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
DEFAULT_LINES = 541_909
DEFAULT_CUSTOMERS = 4_372
GUEST_LINE_SHARE = 135_080 / DEFAULT_LINES
CANCELLATION_LINE_SHARE = 9_288 / DEFAULT_LINES
# C lines without a customer in the real file; they cancel earlier guest lines.
GUEST_CANCELLATION_LINE_SHARE = 383 / DEFAULT_LINES
DUPLICATE_LINE_SHARE = 5_268 / DEFAULT_LINES
# Zero-priced stock adjustments without a customer ("damaged", "?", or no description at all).
STOCK_ADJUSTMENT_LINE_SHARE = 2_475 / DEFAULT_LINES
STOCK_ADJUSTMENT_NEGATIVE_SHARE = 1_336 / 2_475  # 10,624 lines <= 0 less the 9,288 C lines
STOCK_ADJUSTMENT_MISSING_DESCRIPTION_SHARE = 1_454 / 2_475
# Zero-priced lines that do carry a customer (free items); 2,515 zero prices in all.
FREE_LINE_SHARE = 40 / DEFAULT_LINES
FIRST_INVOICE_NUMBER = 536_365
# Customer ids of the real file run 12346..18287 for 4,372 customers.
FIRST_CUSTOMER_ID = 12_346
CUSTOMER_ID_SPAN = 18_287 - 12_346 + 1
BIG_ORDER_QUANTITY = 80_995
BIG_ORDER_PENCE = 208
BAD_DEBT_PENCE = 1_106_206
MANUAL_MAX_PENCE = 3_897_000  # the file's maximum unit price, a manual line

# Non-product lines expected per default-size file (scaled with --lines).
NON_PRODUCT_LINES_PER_DEFAULT = {
    "M": 400,  # manual lines inside purchase invoices
    "M_C": 170,  # manual lines in their own C invoices
    "BANK CHARGES": 37,
    "PADS": 4,
    "post": 3,  # the odd lower-case code
    "D": 77,
    "S": 63,
    "CRUK": 16,
    "AMAZONFEE": 34,
    "DCGS": 40,
    "gift_0001": 30,
}
# Data-entry slips with a customer, kept tiny: a zero quantity, and an A invoice that names
# a customer, so that every cleaning rule of the pipeline has something to catch.
ZERO_QUANTITY_LINES_PER_DEFAULT = 5
CUSTOMER_BAD_DEBT_LINES_PER_DEFAULT = 1

# --------------------------------------------------------------------------------------------
# Calendar: 2010-12-01 08:26 to 2011-12-09 12:50, no Saturdays, closed over Christmas and on
# the 2011 bank holidays; daily volume rising to the November peak (lines per open day by month
# in the real file).
# --------------------------------------------------------------------------------------------
START_DATE = dt.date(2010, 12, 1)
# Recency and tenure are counted back from the day after the last invoice.
AS_OF_DATE = dt.date(2011, 12, 10)
N_DAYS = (AS_OF_DATE - START_DATE).days  # 374 days with invoices: 2010-12-01 .. 2011-12-09
FIRST_MINUTE = 8 * 60 + 26
LAST_MINUTE = (N_DAYS - 1) * 1440 + 12 * 60 + 50
CLOSED_DATES = [dt.date(2010, 12, 24) + dt.timedelta(days=i) for i in range(11)] + [
    dt.date(2011, 4, 22),
    dt.date(2011, 4, 25),
    dt.date(2011, 4, 29),
    dt.date(2011, 5, 2),
    dt.date(2011, 5, 30),
    dt.date(2011, 8, 29),
]
LINES_PER_OPEN_DAY_BY_MONTH = {
    (2010, 12): 2_500,
    (2011, 1): 1_460,
    (2011, 2): 1_150,
    (2011, 3): 1_360,
    (2011, 4): 1_425,
    (2011, 5): 1_480,
    (2011, 6): 1_420,
    (2011, 7): 1_520,
    (2011, 8): 1_360,
    (2011, 9): 1_930,
    (2011, 10): 2_340,
    (2011, 11): 3_260,
    (2011, 12): 3_190,
}
# Share of invoices by hour of day (07:00-20:59), peaking at lunchtime.
HOUR_WEIGHTS = {
    7: 0.01,
    8: 0.05,
    9: 0.08,
    10: 0.12,
    11: 0.12,
    12: 0.15,
    13: 0.13,
    14: 0.12,
    15: 0.10,
    16: 0.06,
    17: 0.03,
    18: 0.01,
    19: 0.01,
    20: 0.01,
}
CLOSING_MINUTE_OF_DAY = 20 * 60 + 59

# --------------------------------------------------------------------------------------------
# Countries: customers per country as in the real file; one of 38 countries per customer.
# --------------------------------------------------------------------------------------------
HOME_COUNTRY = "United Kingdom"
HOME_CUSTOMER_SHARE = 3_950 / 4_372
FOREIGN_CUSTOMER_WEIGHTS = {
    "Germany": 95,
    "France": 87,
    "Spain": 31,
    "Belgium": 25,
    "Switzerland": 21,
    "Portugal": 19,
    "Italy": 15,
    "Finland": 12,
    "Austria": 11,
    "Norway": 10,
    "Netherlands": 9,
    "Australia": 9,
    "Channel Islands": 9,
    "Denmark": 9,
    "Cyprus": 8,
    "Sweden": 8,
    "Japan": 8,
    "Poland": 6,
    "USA": 4,
    "Canada": 4,
    "Unspecified": 4,
    "Israel": 4,
    "Greece": 4,
    "EIRE": 3,
    "Malta": 2,
    "United Arab Emirates": 2,
    "Bahrain": 2,
    "Lithuania": 1,
    "Czech Republic": 1,
    "Lebanon": 1,
    "Brazil": 1,
    "RSA": 1,
    "Saudi Arabia": 1,
    "Singapore": 1,
    "Iceland": 1,
    "European Community": 1,
    "Hong Kong": 1,
}
# Guest checkouts are nearly all from the home market.
GUEST_FOREIGN_SHARE = 0.012
GUEST_FOREIGN_COUNTRIES = ("EIRE", "Hong Kong", "Unspecified", "France", "Switzerland")
# The biggest real wholesalers are abroad as often as at home.
WHOLESALER_COUNTRIES = ("United Kingdom", "EIRE", "Netherlands", "United Kingdom", "Australia")
# Postage per parcel abroad, and carriage for Irish customers.
POSTAGE_INVOICE_SHARE = 0.65
CARRIAGE_INVOICE_SHARE = 0.35

# --------------------------------------------------------------------------------------------
# Customers: timelines simulated forward (timelines.py); baskets scale lines per invoice,
# volume scales quantities, by kind of customer.
# --------------------------------------------------------------------------------------------
PERSONA_KEYS = timelines.PERSONA_KEYS
KIND_BASKET = {"light": 0.7, "frequent": 1.15}
KIND_LOG_VOLUME = {"light": -0.75, "frequent": 0.0}
# Customers' orders follow the season less than the lines do (bigger baskets carry the rest):
# in the real file purchase invoices grow 1.9 times from June to November and distinct
# customers 1.6 times, while lines per open day grow 2.3 times.
PURCHASE_SEASON_EXPONENT = 0.8
# A few huge wholesalers (GBP 100k-280k each in the real file) among the high-value customers.
WHOLESALER_SHARE = 10 / DEFAULT_CUSTOMERS
WHOLESALER_ORDERS = (20, 90)
# A couple of shoppers who order almost every other day (210 invoices at most in the real file).
SUPER_FREQUENT_SHARE = 2 / DEFAULT_CUSTOMERS
SUPER_FREQUENT_ORDERS = (150, 211)
# Guest checkouts are few, big baskets: ~130k rows over ~1,000 invoices, the rest of the real
# file's 25,900 invoices being customers' orders, cancellations and one-line adjustments.
GUEST_ROWS_PER_INVOICE = 130
# 9,288 C lines over ~3,800 C invoices.
CANCELLED_LINES_PER_INVOICE = 2.6
# Keeps every basket a small share of the catalogue, so distinct products are quick to draw.
MAX_LINES_PER_INVOICE = 600
# Largest regular order line; only the one big order goes beyond it.
MAX_REGULAR_QUANTITY = 4_800
# About 1.2 million lines and 0.6 GB of memory per chunk.
CHUNK_CUSTOMERS = 10_000
# Below this the fixed one-off lines (the big order, bad debt, 38 countries) distort the shares.
MIN_LINES = 10_000

# Invoice kinds (internal). SOLO invoices have one line whose code is their solo_code.
PURCHASE, CANCEL, GUEST, GUEST_CANCEL, STOCK_ADJUST, SOLO, SOLO_CANCEL, BAD_DEBT = range(8)
CANCEL_KINDS = (CANCEL, GUEST_CANCEL, SOLO_CANCEL)
NO_SOLO_CODE = -1
ZERO_QUANTITY_SLIP = -2  # solo_code of a zero-quantity slip: a product drawn in pass 2

# --------------------------------------------------------------------------------------------
# Catalogue vocabulary.
# --------------------------------------------------------------------------------------------
# Well-known lines of the real file (code, description, unit price in pence), most popular first.
KNOWN_PRODUCTS = (
    ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 255),
    ("22423", "REGENCY CAKESTAND 3 TIER", 1275),
    ("85099B", "JUMBO BAG RED RETROSPOT", 195),
    ("47566", "PARTY BUNTING", 465),
    ("20725", "LUNCH BAG RED RETROSPOT", 165),
    ("84879", "ASSORTED COLOUR BIRD ORNAMENT", 169),
    ("22720", "SET OF 3 CAKE TINS PANTRY DESIGN", 495),
    ("21212", "PACK OF 72 RETROSPOT CAKE CASES", 55),
    ("71053", "WHITE METAL LANTERN", 339),
    ("84406B", "CREAM CUPID HEARTS COAT HANGER", 275),
    ("84029G", "KNITTED UNION FLAG HOT WATER BOTTLE", 339),
    ("84029E", "RED WOOLLY HOTTIE WHITE HEART.", 339),
    ("22752", "SET 7 BABUSHKA NESTING BOXES", 765),
    ("21730", "GLASS STAR FROSTED T-LIGHT HOLDER", 425),
    ("22633", "HAND WARMER UNION JACK", 185),
    ("23166", "MEDIUM CERAMIC TOP STORAGE JAR", 125),
    ("22086", "PAPER CHAIN KIT 50'S CHRISTMAS", 295),
    ("23084", "RABBIT NIGHT LIGHT", 208),
    ("84077", "WORLD WAR 2 GLIDERS ASSTD DESIGNS", 29),
)
# Sold only in the one 80,995-unit order.
BIG_ORDER_PRODUCT = ("23843", "PAPER CRAFT , LITTLE BIRDIE", BIG_ORDER_PENCE)
# ISO-8859-1 characters outside ASCII, so the file is not valid UTF-8.
ACCENTED_PRODUCTS = (
    ("21624", "CAFÉ MENU CHALKBOARD", 295),
    ("22931", "PÂTISSERIE CAKE CASES", 55),
    ("23572", "CRÈME BRÛLÉE RAMEKIN SET", 495),
    ("84031C", "90° CORNER WALL SHELF", 795),
    ("23301", "GARÇON MOUSTACHE MUG", 165),
    ("23487", "BOÎTE À BIJOUX TRINKET BOX", 250),
)
N_PRODUCTS = 4_047
ITEMS = (
    "T-LIGHT HOLDER",
    "LUNCH BAG",
    "JUMBO BAG",
    "SHOPPER BAG",
    "CAKESTAND 3 TIER",
    "MUG",
    "TEA TOWEL",
    "NOTEBOOK",
    "CHILDRENS APRON",
    "APRON",
    "ALARM CLOCK BAKELIKE",
    "DOORMAT",
    "CUSHION COVER",
    "PHOTO FRAME",
    "PICTURE FRAME",
    "HOT WATER BOTTLE",
    "STORAGE TIN",
    "CAKE CASES",
    "PAPER CHAIN KIT",
    "WALL CLOCK",
    "DRAWER KNOB",
    "COAT HANGER",
    "BUNTING",
    "GARLAND",
    "LANTERN",
    "CANDLE",
    "CANDLE HOLDER",
    "BIRD ORNAMENT",
    "HANGING DECORATION",
    "TRINKET BOX",
    "JEWELLERY BOX",
    "PURSE",
    "WASHBAG",
    "SPONGE",
    "SOAP DISH",
    "TISSUES",
    "WRAP",
    "GIFT BAG",
    "GIFT TAPE",
    "RIBBONS",
    "STICKER SHEET",
    "PENCILS",
    "ERASER",
    "RULER",
    "PENCIL CASE",
    "CHALKBOARD",
    "SIGN",
    "PLATE",
    "BOWL",
    "CUP AND SAUCER",
    "TEAPOT",
    "EGG CUP",
    "MILK JUG",
    "BEAKER",
    "PAPER NAPKINS",
    "PAPER CUPS",
    "PAPER PLATES",
    "PARASOL",
    "UMBRELLA",
    "WATER BOTTLE",
    "PLASTERS IN TIN",
    "MAGNET",
    "KEYRING",
    "BOOKMARK",
    "CARD HOLDER",
    "DOORSTOP",
    "PLANTER",
    "WATERING CAN",
    "BIRD HOUSE",
    "BIRD FEEDER",
    "LAMP",
    "NIGHT LIGHT",
    "FAIRY LIGHTS",
    "MIRROR",
    "HOOK",
    "COAT RACK",
    "PEG BAG",
    "LAUNDRY BAG",
    "HAND WARMER",
    "SCARF",
    "HAIR CLIP",
    "BRACELET",
    "NECKLACE",
    "EARRINGS",
    "BAG CHARM",
    "FRIDGE MAGNET",
    "JIGSAW",
    "SKITTLES",
    "PLAYHOUSE",
    "SNOW GLOBE",
    "BAUBLE",
    "WREATH",
    "STOCKING",
    "ADVENT CALENDAR",
    "CHOPSTICKS",
    "TRAY",
    "BREAD BIN",
    "CAKE TIN",
    "BISCUIT TIN",
    "JAM JAR",
    "STORAGE JAR",
    "SPICE JARS",
    "RECIPE BOX",
    "OVEN GLOVE",
    "POT HOLDER",
    "COASTERS",
    "PLACEMATS",
    "TABLE RUNNER",
    "THROW",
    "QUILT",
    "BEAN BAG",
    "DOOR HANGER",
    "WALL ART",
    "METAL SIGN",
    "POSTCARD",
    "GREETING CARD",
    "WRAPPING PAPER",
    "PARTY BAG",
    "PARTY CANDLES",
    "BALLOONS",
    "PHOTO ALBUM",
    "DIARY",
)
MOTIFS = (
    "RED RETROSPOT",
    "PINK POLKADOT",
    "BLUE POLKADOT",
    "VINTAGE UNION JACK",
    "REGENCY",
    "SPACEBOY",
    "DOLLY GIRL",
    "WOODLAND",
    "PAISLEY PARK",
    "SKULL",
    "ENGLISH ROSE",
    "JAM MAKING",
    "CHRISTMAS",
    "HANGING HEART",
    "LOVE BIRD",
    "VINTAGE DOILY",
    "PANTRY",
    "STRAWBERRY",
    "SWEETHEART",
    "FLORAL FOLK",
    "ROSE COTTAGE",
    "VINTAGE LEAF",
    "OWL",
    "HEN HOUSE",
    "LADYBIRD",
    "BUTTERFLY",
    "FAIRY CAKE",
    "CIRCUS PARADE",
    "ALPHABET",
    "VINTAGE CARAVAN",
    "LONDON BUS",
    "TOADSTOOL",
    "DAISY",
    "POPPY",
    "LAVENDER",
    "BAROQUE",
    "FRENCH BLUE",
    "SCANDINAVIAN",
    "MOROCCAN",
    "ORIENTAL",
    "WILD FLOWER",
    "SPOTTY",
    "STRIPY",
    "GINGHAM",
    "CHERRY BLOSSOM",
    "TEA PARTY",
    "BIRD",
    "CAT",
    "DOG",
    "BEE",
    "SNOWFLAKE",
    "REINDEER",
    "STAR",
    "HEART",
    "ANGEL",
    "GARDEN",
    "SEASIDE",
    "RETRO",
    "ANTIQUE",
    "ART DECO",
    "BOTANICAL",
    "BIRDCAGE",
    "GLITTER",
    "FELTCRAFT",
    "KNITTED",
    "WICKER",
    "ENAMEL",
    "ZINC",
    "GLASS",
    "CERAMIC",
)
COLOURS = (
    "RED",
    "PINK",
    "BLUE",
    "GREEN",
    "IVORY",
    "WHITE",
    "BLACK",
    "CREAM",
    "LILAC",
    "YELLOW",
    "ORANGE",
    "PURPLE",
    "SILVER",
    "GOLD",
    "TURQUOISE",
    "NATURAL",
    "PASTEL",
)
SET_SUFFIXES = (", SET OF 2", ", SET OF 3", ", SET OF 4", ", SET OF 6")
# Non-product codes with their description (dbt seed non_product_stock_codes lists them).
NON_PRODUCTS = (
    ("POST", "POSTAGE"),
    ("post", "POSTAGE"),
    ("D", "Discount"),
    ("C2", "CARRIAGE"),
    ("DOT", "DOTCOM POSTAGE"),
    ("M", "Manual"),
    ("BANK CHARGES", "Bank Charges"),
    ("S", "SAMPLES"),
    ("AMAZONFEE", "AMAZON FEE"),
    ("PADS", "PADS TO MATCH ALL CUSHIONS"),
    ("B", "Adjust bad debt"),
    ("CRUK", "CRUK Commission"),
    ("DCGS0003", "BOXED GLASS ASHTRAY"),
    ("DCGS0069", "OOH LA LA DOGS COLLAR"),
    ("DCGS0070", "CAMOUFLAGE DOG COLLAR"),
    ("DCGS0076", "SUNJAR LED NIGHT NIGHT LIGHT"),
    ("DCGSSBOY", "BOYS PARTY BAG"),
    ("DCGSSGIRL", "GIRLS PARTY BAG"),
    ("gift_0001_10", "Dotcomgiftshop Gift Voucher £10.00"),
    ("gift_0001_20", "Dotcomgiftshop Gift Voucher £20.00"),
    ("gift_0001_30", "Dotcomgiftshop Gift Voucher £30.00"),
    ("gift_0001_40", "Dotcomgiftshop Gift Voucher £40.00"),
    ("gift_0001_50", "Dotcomgiftshop Gift Voucher £50.00"),
)
STOCK_ADJUSTMENT_NOTES = (
    "check",
    "damaged",
    "?",
    "missing",
    "damages",
    "wet damaged",
    "found",
    "adjustment",
    "Damaged",
    "sold as set on dotcom",
    "thrown away",
    "Unsaleable, destroyed.",
    "mixed up",
    "wrongly marked",
    "smashed",
    "counted",
    "incorrect stock entry.",
    "had been put aside.",
    "dotcom",
    "lost",
)


# ============================================================================================
# Static tables: calendar and catalogue
# ============================================================================================
@dataclass(frozen=True)
class _Calendar:
    """Open days with their relative volume, as positions 0..n_open-1."""

    open_days: np.ndarray  # day index since START_DATE of each open day, ascending
    cumulative_weight: np.ndarray  # length n_open + 1, starts at 0
    purchase_intensity: np.ndarray  # customers' orders per open day, relative
    basket_by_day: np.ndarray  # relative basket size per day index, 1 on average
    hour_values: np.ndarray
    hour_probabilities: np.ndarray


def _build_calendar() -> _Calendar:
    dates = [START_DATE + dt.timedelta(days=d) for d in range(N_DAYS)]
    closed = set(CLOSED_DATES)
    # Saturdays are closed: the real file has no Saturday invoice.
    open_days = np.array(
        [d for d, day in enumerate(dates) if day.weekday() != 5 and day not in closed]
    )
    weights = np.array(
        [LINES_PER_OPEN_DAY_BY_MONTH[(dates[d].year, dates[d].month)] for d in open_days],
        dtype=float,
    )
    hours = np.array(sorted(HOUR_WEIGHTS))
    probabilities = np.array([HOUR_WEIGHTS[h] for h in hours])
    by_day = np.array(
        [LINES_PER_OPEN_DAY_BY_MONTH[(day.year, day.month)] for day in dates], dtype=float
    )
    return _Calendar(
        open_days=open_days,
        cumulative_weight=np.concatenate([[0.0], np.cumsum(weights)]),
        purchase_intensity=weights**PURCHASE_SEASON_EXPONENT,
        # Busy months have bigger baskets as well as more orders (Christmas stock-up);
        # half of the volume swing goes into the basket size.
        basket_by_day=np.sqrt(by_day / by_day.mean()),
        hour_values=hours,
        hour_probabilities=probabilities / probabilities.sum(),
    )


@dataclass(frozen=True)
class _Catalogue:
    """Products first, then non-product codes; descriptions add the stock-adjustment notes."""

    codes: np.ndarray  # object array of stock codes, products then non-products
    descriptions: np.ndarray  # object: products, non-products, stock-adjustment notes
    n_products: int
    cumulative_popularity: np.ndarray  # over products, ends at 1
    base_pence: np.ndarray  # wholesale price per product
    retail_pence: np.ndarray  # guest checkout price
    bulk_pence: np.ndarray  # price for large quantities
    pack_size: np.ndarray  # units per pack per product
    big_order_product: int
    non_product_index: dict[str, int]


def _snap_pence(pence: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Round to shop-like prices: multiples of 5p, a third of them one penny less."""
    snapped = np.maximum(np.round(pence / 5.0) * 5, 10).astype(np.int64)
    return snapped - (rng.random(snapped.size) < 0.3).astype(np.int64)


def _build_catalogue(rng: np.random.Generator) -> _Catalogue:
    """About 4,050 gift-shop products with prices, pack sizes and popularity, then the
    non-product codes. The same for every size of file with the same seed."""
    fixed = [*KNOWN_PRODUCTS, *ACCENTED_PRODUCTS, BIG_ORDER_PRODUCT]
    fixed_numbers = {int(code[:5]) for code, _, _ in fixed}
    n_generated = N_PRODUCTS - len(fixed)

    # Families of one motif and one item; a fifth come in colour variants with suffix letters,
    # as 84029E / 84029G do in the real file.
    family_pool = rng.permutation(len(MOTIFS) * len(ITEMS))
    number_pool = np.setdiff1d(np.arange(20_600, 90_300), list(fixed_numbers))
    numbers = np.sort(rng.choice(number_pool, size=n_generated, replace=False))
    codes: list[str] = []
    descriptions: list[str] = []
    seen: set[str] = {description for _, description, _ in fixed}
    family = 0
    while len(codes) < n_generated:
        motif = MOTIFS[family_pool[family] // len(ITEMS)]
        item = ITEMS[family_pool[family] % len(ITEMS)]
        number = int(numbers[len(codes)])
        family += 1
        n_variants = int(rng.choice([1, 2, 3, 4], p=[0.8, 0.1, 0.06, 0.04]))
        n_variants = min(n_variants, n_generated - len(codes))
        colours = rng.choice(len(COLOURS), size=n_variants, replace=False)
        suffix = SET_SUFFIXES[rng.integers(len(SET_SUFFIXES))] if rng.random() < 0.03 else ""
        for variant, colour in enumerate(colours):
            if n_variants == 1:
                code, description = str(number), f"{motif} {item}{suffix}"
            else:
                code = f"{number}{'ABCD'[variant]}"
                description = f"{COLOURS[colour]} {motif} {item}{suffix}"
            if description in seen:
                description = f"{description} DESIGN"
            seen.add(description)
            codes.append(code)
            descriptions.append(description)

    product_codes = [code for code, _, _ in fixed] + codes
    product_descriptions = [description for _, description, _ in fixed] + descriptions
    fixed_pence = np.array([pence for _, _, pence in fixed], dtype=np.int64)
    generated_pence = _snap_pence(np.exp(rng.normal(np.log(210.0), 0.8, n_generated)), rng)
    base_pence = np.concatenate([fixed_pence, generated_pence])

    # Lognormal popularity: the top product gets ~0.5% of the lines, the rarest a handful.
    popularity = np.sort(np.exp(rng.normal(0.0, 1.05, N_PRODUCTS)))[::-1]
    weights = np.empty(N_PRODUCTS)
    weights[: len(KNOWN_PRODUCTS)] = popularity[: len(KNOWN_PRODUCTS)]
    # Accented products sit in the middle of the range so that even small files contain them.
    n_fixed = len(fixed)
    weights[len(KNOWN_PRODUCTS) : n_fixed - 1] = popularity[200 : 200 + len(ACCENTED_PRODUCTS)]
    weights[n_fixed - 1] = 0.0  # the big-order product is sold only once
    rest = popularity[len(KNOWN_PRODUCTS) :]
    rest = np.delete(
        rest,
        np.arange(200 - len(KNOWN_PRODUCTS), 200 - len(KNOWN_PRODUCTS) + len(ACCENTED_PRODUCTS)),
    )
    weights[n_fixed:] = rng.permutation(rest[: N_PRODUCTS - n_fixed])
    cumulative = np.cumsum(weights)
    cumulative /= cumulative[-1]

    # Cheap lines sell by the dozen; expensive ones one at a time.
    pack = np.select(
        [base_pence < 50, base_pence < 150, base_pence < 400, base_pence < 1_000],
        [
            rng.choice([12, 24, 48], N_PRODUCTS),
            rng.choice([6, 12, 24], N_PRODUCTS),
            rng.choice([2, 4, 6, 12], N_PRODUCTS),
            rng.choice([1, 2, 4, 6], N_PRODUCTS),
        ],
        default=rng.choice([1, 2], N_PRODUCTS),
    )
    retail = np.round(base_pence * rng.uniform(1.5, 1.75, N_PRODUCTS)).astype(np.int64)
    bulk = np.maximum(np.round(base_pence * 0.85).astype(np.int64), 1)

    non_product_codes = [code for code, _ in NON_PRODUCTS]
    all_codes = np.array(product_codes + non_product_codes, dtype=object)
    all_descriptions = np.array(
        product_descriptions + [d for _, d in NON_PRODUCTS] + list(STOCK_ADJUSTMENT_NOTES),
        dtype=object,
    )
    return _Catalogue(
        codes=all_codes,
        descriptions=all_descriptions,
        n_products=N_PRODUCTS,
        cumulative_popularity=cumulative,
        base_pence=base_pence,
        retail_pence=retail,
        bulk_pence=bulk,
        pack_size=pack.astype(np.int64),
        big_order_product=n_fixed - 1,
        non_product_index={code: N_PRODUCTS + i for i, code in enumerate(non_product_codes)},
    )


# ============================================================================================
# Plan: how customers and lines are split into chunks, customer ids, random streams
# ============================================================================================
@dataclass(frozen=True)
class _Plan:
    n_lines: int
    seed: int
    calendar: _Calendar
    catalogue: _Catalogue
    chunk_customers: np.ndarray
    chunk_lines: np.ndarray
    customer_ids: np.ndarray  # in chunk order
    countries: tuple[str, ...]

    @property
    def n_chunks(self) -> int:
        return int(self.chunk_customers.size)

    def customer_offset(self, chunk: int) -> int:
        return int(self.chunk_customers[:chunk].sum())


# Stream identifiers: each purpose draws from its own stream so that changing one part of the
# generator does not shift the random numbers of every other part.
_STREAM_CATALOGUE, _STREAM_IDS, _STREAM_HEADERS, _STREAM_LINES = range(4)


def _rng(seed: int, stream: int, chunk: int = 0) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(stream, chunk)))


def _split_evenly(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to `weights` that sum exactly to `total` (largest remainder)."""
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    remainder = total - counts.sum()
    counts[np.argsort(-(exact - counts), kind="stable")[:remainder]] += 1
    return counts


def _make_plan(n_lines: int, seed: int, chunk_customers: int = CHUNK_CUSTOMERS) -> _Plan:
    if n_lines < MIN_LINES:
        raise ValueError(f"n_lines must be at least {MIN_LINES:,}; got {n_lines:,}")
    n_customers = round(n_lines * DEFAULT_CUSTOMERS / DEFAULT_LINES)
    n_chunks = math.ceil(n_customers / chunk_customers)
    per_chunk = _split_evenly(n_customers, np.ones(n_chunks))
    lines_per_chunk = _split_evenly(n_lines, per_chunk.astype(float))
    # Ids are spread over a range that widens with the number of customers, like 12346..18287.
    span = max(CUSTOMER_ID_SPAN, math.ceil(n_customers * CUSTOMER_ID_SPAN / DEFAULT_CUSTOMERS))
    id_rng = _rng(seed, _STREAM_IDS)
    ids = FIRST_CUSTOMER_ID + np.sort(id_rng.choice(span, size=n_customers, replace=False))
    ids = id_rng.permutation(ids)
    return _Plan(
        n_lines=n_lines,
        seed=seed,
        calendar=_build_calendar(),
        catalogue=_build_catalogue(_rng(seed, _STREAM_CATALOGUE)),
        chunk_customers=per_chunk,
        chunk_lines=lines_per_chunk,
        customer_ids=ids.astype(np.int64),
        countries=(HOME_COUNTRY, *FOREIGN_CUSTOMER_WEIGHTS),
    )


# ============================================================================================
# Pass 1: invoice headers of one chunk
# ============================================================================================
@dataclass
class _Customers:
    ids: np.ndarray
    persona: np.ndarray  # index into PERSONA_KEYS
    kind: np.ndarray  # index into timelines.KIND_KEYS
    has_stopped: np.ndarray  # will not buy again after the file
    is_wholesaler: np.ndarray
    country: np.ndarray  # index into plan.countries
    volume: np.ndarray  # quantity multiplier
    basket: np.ndarray  # lines-per-invoice multiplier


@dataclass
class _Invoices:
    """Invoice headers of a chunk; lines are filled in by pass 2 from these alone."""

    kind: np.ndarray
    minute: np.ndarray  # minutes since START_DATE 00:00
    customer: np.ndarray  # local customer index, -1 for guests
    country: np.ndarray
    n_product_lines: np.ndarray  # product lines of purchase invoices (before duplicates)
    reference: np.ndarray  # purchase invoice a cancellation refers to, else -1
    n_cancelled: np.ndarray  # lines a cancellation takes back
    solo_code: np.ndarray  # code index of a one-line invoice, else -1
    extra_inv: np.ndarray  # non-product lines inside purchase invoices: invoice ...
    extra_code: np.ndarray  # ... and code index
    n_customer_duplicates: int
    n_guest_duplicates: int
    n_free_lines: int
    big_order: tuple[int, int] | None  # (purchase, cancellation) invoice of the 80,995 order
    manual_max: int  # a solo M cancellation that carries the file's maximum price, or -1


def _times_of_day(rng: np.random.Generator, days: np.ndarray, cal: _Calendar) -> np.ndarray:
    """Minute of the day for invoices on `days`, inside the file's first and last minute."""
    hours = rng.choice(cal.hour_values, size=days.size, p=cal.hour_probabilities)
    tod = hours * 60 + rng.integers(0, 60, days.size)
    first = days == 0
    early = rng.integers(FIRST_MINUTE, 18 * 60, first.sum())
    tod[first] = np.where(tod[first] < FIRST_MINUTE, early, tod[first])
    last = days == N_DAYS - 1
    last_tod = LAST_MINUTE % 1440
    late = rng.integers(7 * 60, last_tod + 1, last.sum())
    tod[last] = np.where(tod[last] > last_tod, late, tod[last])
    return tod


def _later_minutes(rng: np.random.Generator, minutes: np.ndarray, cal: _Calendar) -> np.ndarray:
    """A moment after each of `minutes` (same day or up to six weeks later); -1 where none fits."""
    n = minutes.size
    day, tod = minutes // 1440, minutes % 1440
    day_end = np.where(day == N_DAYS - 1, LAST_MINUTE % 1440, CLOSING_MINUTE_OF_DAY)
    same_tod = tod + rng.integers(2, 181, n)
    same_ok = same_tod <= day_end
    same = day * 1440 + np.minimum(same_tod, day_end)
    position = np.searchsorted(cal.open_days, day + rng.integers(1, 43, n), side="left")
    later_ok = position < cal.open_days.size
    later_day = cal.open_days[np.minimum(position, cal.open_days.size - 1)]
    later = later_day * 1440 + _times_of_day(rng, later_day, cal)
    prefer_same = rng.random(n) < 0.45
    fallback = np.where(later_ok, later, np.where(same_ok, same, -1))
    return np.where(prefer_same & same_ok, same, fallback).astype(np.int64)


def _draw_customers(
    rng: np.random.Generator, plan: _Plan, chunk: int
) -> tuple[_Customers, timelines.Timelines]:
    n = int(plan.chunk_customers[chunk])
    offset = plan.customer_offset(chunk)
    cal = plan.calendar
    n_wholesalers = max(1, round(n * WHOLESALER_SHARE))
    lives = timelines.simulate_timelines(
        rng,
        n,
        cal.purchase_intensity,
        cal.open_days,
        N_DAYS,
        n_wholesalers=n_wholesalers,
        n_super_frequent=max(1, round(n * SUPER_FREQUENT_SHARE)),
        wholesaler_orders=WHOLESALER_ORDERS,
        super_frequent_orders=SUPER_FREQUENT_ORDERS,
    )
    is_wholesaler = lives.all_year == 1
    wholesalers = np.flatnonzero(is_wholesaler)

    # Exact quotas per country, every country at least once where the chunk is big enough.
    foreign_weights = np.array(list(FOREIGN_CUSTOMER_WEIGHTS.values()), dtype=float)
    n_foreign = round(n * (1 - HOME_CUSTOMER_SHARE))
    foreign = _split_evenly(n_foreign, foreign_weights)
    if n_foreign >= foreign.size:
        while (foreign == 0).any():
            foreign[np.argmax(foreign)] -= 1
            foreign[np.flatnonzero(foreign == 0)[0]] += 1
    counts = np.concatenate([[n - foreign.sum()], foreign])
    country = rng.permutation(np.repeat(np.arange(counts.size), counts))
    # Give the wholesalers the countries of the real ones, swapping with another customer.
    for i, w in enumerate(wholesalers):
        wanted = plan.countries.index(WHOLESALER_COUNTRIES[i % len(WHOLESALER_COUNTRIES)])
        donors = np.flatnonzero((country == wanted) & ~is_wholesaler)
        if donors.size:
            donor = donors[0]
            country[donor], country[w] = country[w], wanted

    kind = np.asarray(timelines.KIND_KEYS)[lives.kind]
    volume = np.exp(rng.normal([KIND_LOG_VOLUME[k] for k in kind], 0.55))
    volume[is_wholesaler] = rng.uniform(6.0, 20.0, wholesalers.size)
    basket = np.array([KIND_BASKET[k] for k in kind])
    basket[is_wholesaler] = 0.6
    customers = _Customers(
        ids=plan.customer_ids[offset : offset + n],
        persona=lives.persona,
        kind=lives.kind,
        has_stopped=lives.has_stopped,
        is_wholesaler=is_wholesaler,
        country=country,
        volume=volume,
        basket=basket,
    )
    return customers, lives


class _InvoiceTable:
    """Invoice headers appended group by group; scalars apply to the whole group."""

    _COLUMNS = (
        "kind",
        "customer",
        "country",
        "n_product_lines",
        "reference",
        "n_cancelled",
        "solo_code",
    )

    def __init__(self) -> None:
        self._parts: list[dict[str, np.ndarray]] = []
        self.size = 0

    def add(
        self,
        kind,
        minute,
        customer,
        country,
        *,
        n_product_lines=0,
        reference=-1,
        n_cancelled=0,
        solo_code=NO_SOLO_CODE,
    ) -> int:
        """Append invoices and return the index of the first one."""
        minute = np.atleast_1d(np.asarray(minute, dtype=np.int64))
        values = (kind, customer, country, n_product_lines, reference, n_cancelled, solo_code)
        part = {
            name: np.broadcast_to(np.asarray(value, dtype=np.int64), minute.shape).copy()
            for name, value in zip(self._COLUMNS, values, strict=True)
        }
        part["minute"] = minute
        self._parts.append(part)
        first = self.size
        self.size += minute.size
        return first

    def columns(self) -> dict[str, np.ndarray]:
        return {key: np.concatenate([p[key] for p in self._parts]) for key in self._parts[0]}


def _per_default(count_per_default: float, n_lines: int, at_least: int = 0) -> int:
    """A count given per default-size file, scaled to `n_lines`."""
    return max(at_least, round(count_per_default * n_lines / DEFAULT_LINES))


def _anytime(rng: np.random.Generator, cal: _Calendar, n: int) -> np.ndarray:
    """Minutes of `n` invoices spread over the whole year in proportion to daily volume."""
    positions = timelines.positions_between(
        rng, cal.cumulative_weight, np.zeros(n, np.int64), np.full(n, cal.open_days.size, np.int64)
    )
    days = cal.open_days[positions]
    return days * 1440 + _times_of_day(rng, days, cal)


def _purchase_minutes(
    rng: np.random.Generator, cal: _Calendar, lives: timelines.Timelines
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customer, first-invoice offset per customer and minute of every purchase invoice."""
    frequency = lives.frequency
    customer = np.repeat(np.arange(frequency.size), frequency)
    starts = np.concatenate([[0], np.cumsum(frequency)[:-1]])
    days = cal.open_days[lives.position]
    return customer, starts, days * 1440 + _times_of_day(rng, days, cal)


def _purchase_extras(
    rng: np.random.Generator, plan: _Plan, country: np.ndarray, n_lines: int, is_first_chunk: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Non-product lines inside customer purchase invoices: (invoice, code index) pairs."""
    npi = plan.catalogue.non_product_index
    n_purchases = country.size
    home, eire = plan.countries.index(HOME_COUNTRY), plan.countries.index("EIRE")
    # Parcels abroad pay postage; Irish customers pay carriage instead.
    is_postage = (
        (country != home) & (country != eire) & (rng.random(n_purchases) < POSTAGE_INVOICE_SHARE)
    )
    is_carriage = (country == eire) & (rng.random(n_purchases) < CARRIAGE_INVOICE_SHARE)
    invoices = [np.flatnonzero(is_postage), np.flatnonzero(is_carriage)]
    codes = [np.full(invoices[0].size, npi["POST"]), np.full(invoices[1].size, npi["C2"])]
    for code in ("M", "BANK CHARGES", "PADS", "post"):
        count = _per_default(
            NON_PRODUCT_LINES_PER_DEFAULT[code],
            n_lines,
            at_least=int(code == "post" and is_first_chunk),
        )
        invoices.append(rng.choice(n_purchases, size=min(count, n_purchases), replace=False))
        codes.append(np.full(invoices[-1].size, npi[code]))
    return np.concatenate(invoices).astype(np.int64), np.concatenate(codes).astype(np.int64)


def _customer_fee_invoices(
    rng: np.random.Generator,
    plan: _Plan,
    cal: _Calendar,
    frequency: np.ndarray,
    starts: np.ndarray,
    purchase_minutes: np.ndarray,
    n_lines: int,
    is_first_chunk: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One-line C invoices of discounts, samples, manual corrections and charity commission.

    Returns customer, code index and minute of each; each is dated after one of the
    customer's purchases.
    """
    npi = plan.catalogue.non_product_index
    customers, codes = [], []
    for code, key in (("D", "D"), ("S", "S"), ("M", "M_C"), ("CRUK", "CRUK")):
        # One manual line in the first chunk carries the file's maximum unit price.
        count = _per_default(
            NON_PRODUCT_LINES_PER_DEFAULT[key],
            n_lines,
            at_least=int(code == "M" and is_first_chunk),
        )
        if code == "CRUK":
            # Charity commission is booked against a single customer, as in the real file.
            who = np.full(count, rng.integers(frequency.size))
        else:
            who = rng.choice(frequency.size, size=count, p=frequency / frequency.sum())
        customers.append(who)
        codes.append(np.full(count, npi[code]))
    customer = np.concatenate(customers).astype(np.int64)
    code = np.concatenate(codes).astype(np.int64)
    after = starts[customer] + (rng.random(customer.size) * frequency[customer]).astype(np.int64)
    minutes = _later_minutes(rng, purchase_minutes[after], cal)
    keep = minutes >= 0
    return customer[keep], code[keep], minutes[keep]


def _spread_lines(
    rng: np.random.Generator, total: int, weights: np.ndarray, cap: int = MAX_LINES_PER_INVOICE
) -> np.ndarray:
    """At least one line per invoice, `total` in all, in proportion to `weights`, each <= cap.

    Too-large baskets hand their surplus to the smallest ones, keeping the total exact.
    """
    lines = 1 + rng.multinomial(max(total - weights.size, 0), weights / weights.sum())
    while lines.max() > cap:
        top = int(np.argmax(lines))
        surplus = lines[top] - cap
        lines[top] = cap
        lines[int(np.argmin(lines))] += surplus
    return lines


def _guest_cancellations(
    rng: np.random.Generator,
    cal: _Calendar,
    guest_minutes: np.ndarray,
    guest_lines: np.ndarray,
    n_cancel_lines: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """C invoices taking back lines of earlier guest invoices, `n_cancel_lines` in all.

    Returns the guest invoice each refers to, the lines it takes back, its minute and the
    lines that could not be placed (only in tiny files).
    """
    candidates = rng.permutation(guest_minutes.size)
    later = _later_minutes(rng, guest_minutes[candidates], cal)
    sizes = rng.geometric(1 / CANCELLED_LINES_PER_INVOICE, guest_minutes.size)
    references, taken, minutes = [], [], []
    remaining = n_cancel_lines
    for guest, minute, size in zip(candidates, later, sizes, strict=True):
        if remaining <= 0:
            break
        if minute < 0:
            continue
        take = int(min(remaining, size, guest_lines[guest]))
        references.append(guest)
        taken.append(take)
        minutes.append(minute)
        remaining -= take
    as_array = lambda values: np.asarray(values, dtype=np.int64)  # noqa: E731
    return as_array(references), as_array(taken), as_array(minutes), remaining


def _draw_invoices(plan: _Plan, chunk: int) -> tuple[_Customers, _Invoices]:
    """The invoice headers of one chunk: deterministic in (seed, n_lines, chunk).

    The chunk's line quota is met exactly: customers' rows are drawn first and the guest
    baskets take whatever remains, as the real file's guest share is what is left over.
    """
    rng = _rng(plan.seed, _STREAM_HEADERS, chunk)
    cal, npi = plan.calendar, plan.catalogue.non_product_index
    n_lines = int(plan.chunk_lines[chunk])
    is_first_chunk = chunk == 0
    customers, lives = _draw_customers(rng, plan, chunk)
    n_customers = customers.ids.size
    frequency = lives.frequency

    # ---- customers: purchases, the non-product lines in them, one-line fee invoices
    cust, starts, purchase_minutes = _purchase_minutes(rng, cal, lives)
    n_purchases = cust.size
    country = customers.country[cust]
    extra_inv, extra_code = _purchase_extras(rng, plan, country, n_lines, is_first_chunk)
    fee_cust, fee_code, fee_minutes = _customer_fee_invoices(
        rng, plan, cal, frequency, starts, purchase_minutes, n_lines, is_first_chunk
    )

    # ---- customers: lines per purchase invoice, sized to the customers' share of the file
    n_customer_rows = round(n_lines * (1 - GUEST_LINE_SHARE))
    n_cancel_lines = (
        round(n_lines * (CANCELLATION_LINE_SHARE - GUEST_CANCELLATION_LINE_SHARE)) - fee_cust.size
    )
    n_big_order_rows = 2 if is_first_chunk else 0
    n_product_total = round(
        (n_customer_rows - n_cancel_lines - fee_cust.size - extra_inv.size - n_big_order_rows)
        / (1 + DUPLICATE_LINE_SHARE)
    )
    weights = (
        customers.basket[cust]
        * cal.basket_by_day[purchase_minutes // 1440]
        * np.exp(rng.normal(0, 0.6, n_purchases))
    )
    n_product = _spread_lines(rng, n_product_total, weights)

    # ---- customers: cancellations of a few lines of an earlier purchase
    n_cancel = max(1, round(n_cancel_lines / CANCELLED_LINES_PER_INVOICE))
    cancelled = np.sort(rng.choice(n_purchases, size=min(n_cancel, n_purchases), replace=False))
    n_cancelled = np.minimum(
        rng.geometric(1 / CANCELLED_LINES_PER_INVOICE, cancelled.size), n_product[cancelled]
    )
    cancel_minutes = _later_minutes(rng, purchase_minutes[cancelled], cal)
    keep = cancel_minutes >= 0
    cancelled, n_cancelled = cancelled[keep], n_cancelled[keep]
    cancel_minutes = cancel_minutes[keep]

    n_customer_duplicates = round(DUPLICATE_LINE_SHARE * n_customer_rows)
    n_free = max(round(FREE_LINE_SHARE * n_lines), int(is_first_chunk))
    n_zero_quantity = _per_default(ZERO_QUANTITY_LINES_PER_DEFAULT, n_lines, int(is_first_chunk))
    n_customer_bad_debt = _per_default(
        CUSTOMER_BAD_DEBT_LINES_PER_DEFAULT, n_lines, int(is_first_chunk)
    )
    customer_rows = (
        n_product.sum()
        + n_customer_duplicates
        + n_cancelled.sum()
        + extra_inv.size
        + fee_cust.size
        + n_big_order_rows
        + n_zero_quantity
        + n_customer_bad_debt
    )

    # ---- guests: big baskets filling the rest of the quota around the fixed one-line rows
    n_adjust = round(STOCK_ADJUSTMENT_LINE_SHARE * n_lines)
    n_amazon = _per_default(NON_PRODUCT_LINES_PER_DEFAULT["AMAZONFEE"], n_lines)
    n_bad_debt = 3 if is_first_chunk else 0
    n_guest_cancel_lines = round(n_lines * GUEST_CANCELLATION_LINE_SHARE)
    n_guest_rows = n_lines - customer_rows - n_adjust - n_amazon - n_bad_debt - n_guest_cancel_lines
    n_guests = max(2, round(n_guest_rows / GUEST_ROWS_PER_INVOICE))
    has_dot = rng.random(n_guests) < 0.55
    n_dcgs = _per_default(NON_PRODUCT_LINES_PER_DEFAULT["DCGS"], n_lines)
    # At least one voucher per chunk: its pound sign keeps every file non-ASCII.
    n_gift = _per_default(NON_PRODUCT_LINES_PER_DEFAULT["gift_0001"], n_lines, at_least=1)
    dcgs_codes = [i for c, i in npi.items() if c.startswith("DCGS")]
    gift_codes = [i for c, i in npi.items() if c.startswith("gift_")]
    guest_extra_inv = np.concatenate(
        [
            np.flatnonzero(has_dot),
            rng.choice(n_guests, size=n_dcgs, replace=n_dcgs > n_guests),
            rng.choice(n_guests, size=n_gift, replace=n_gift > n_guests),
        ]
    )
    guest_extra_code = np.concatenate(
        [
            np.full(int(has_dot.sum()), npi["DOT"]),
            rng.choice(dcgs_codes, size=n_dcgs),
            rng.choice(gift_codes, size=n_gift),
        ]
    )
    # Drop a repeated (invoice, code) pair: it would be an unplanned exact duplicate.
    _, first = np.unique(guest_extra_inv * 10_000 + guest_extra_code, return_index=True)
    first = np.sort(first)
    guest_extra_inv, guest_extra_code = guest_extra_inv[first], guest_extra_code[first]
    n_guest_duplicates = round(DUPLICATE_LINE_SHARE * n_guest_rows / (1 + DUPLICATE_LINE_SHARE))
    n_guest_products = max(n_guest_rows - guest_extra_inv.size - n_guest_duplicates, n_guests)
    guest_minutes = _anytime(rng, cal, n_guests)
    if is_first_chunk:
        # The file's first and last minutes, exactly.
        guest_minutes[0] = FIRST_MINUTE
        guest_minutes[1] = LAST_MINUTE
    guest_weights = cal.basket_by_day[guest_minutes // 1440] * np.exp(rng.normal(0, 0.8, n_guests))
    guest_lines = _spread_lines(rng, n_guest_products, guest_weights)
    guest_ref, guest_n_cancelled, guest_cancel_minutes, unplaced = _guest_cancellations(
        rng, cal, guest_minutes, guest_lines, n_guest_cancel_lines
    )
    guest_lines[int(np.argmax(guest_lines))] += unplaced

    adjust_minutes = _anytime(rng, cal, n_adjust)
    amazon_minutes = _anytime(rng, cal, n_amazon)
    is_amazon_cancel = rng.random(n_amazon) < 0.9

    # ---- the table, in a fixed order that pass 2 relies on only through the fields below
    table = _InvoiceTable()
    purchase_start = table.add(PURCHASE, purchase_minutes, cust, country, n_product_lines=n_product)
    table.add(
        CANCEL,
        cancel_minutes,
        cust[cancelled],
        country[cancelled],
        reference=purchase_start + cancelled,
        n_cancelled=n_cancelled,
    )
    fee_start = table.add(
        SOLO_CANCEL, fee_minutes, fee_cust, customers.country[fee_cust], solo_code=fee_code
    )
    big_order, manual_max = None, -1
    if is_first_chunk:
        # The 80,995-unit order of one wholesaler, cancelled twelve minutes later.
        big_cust = int(np.flatnonzero(customers.is_wholesaler)[0])
        big_minute = (N_DAYS - 1) * 1440 + 9 * 60 + 15
        big_country = customers.country[big_cust]
        big_product = plan.catalogue.big_order_product
        big_order = (
            table.add(SOLO, big_minute, big_cust, big_country, solo_code=big_product),
            table.add(SOLO_CANCEL, big_minute + 12, big_cust, big_country, solo_code=big_product),
        )
        manual = np.flatnonzero(fee_code == npi["M"])
        manual_max = fee_start + int(manual[0]) if manual.size else -1
    # Data-entry slips: a zero quantity at the customer's last purchase, a customer's bad debt.
    slip_cust = rng.choice(n_customers, size=n_zero_quantity)
    slip_minutes = purchase_minutes[starts[slip_cust] + frequency[slip_cust] - 1]
    table.add(
        SOLO, slip_minutes, slip_cust, customers.country[slip_cust], solo_code=ZERO_QUANTITY_SLIP
    )
    debt_cust = rng.choice(n_customers, size=n_customer_bad_debt)
    first_purchase = purchase_minutes[starts[debt_cust]]
    debt_minutes = _later_minutes(rng, first_purchase, cal)
    debt_minutes = np.where(debt_minutes < 0, first_purchase, debt_minutes)
    table.add(BAD_DEBT, debt_minutes, debt_cust, customers.country[debt_cust], solo_code=npi["B"])

    guest_country = np.where(
        rng.random(n_guests) < GUEST_FOREIGN_SHARE,
        rng.choice([plan.countries.index(c) for c in GUEST_FOREIGN_COUNTRIES], n_guests),
        plan.countries.index(HOME_COUNTRY),
    )
    guest_country[:2] = plan.countries.index(HOME_COUNTRY)
    guest_start = table.add(GUEST, guest_minutes, -1, guest_country, n_product_lines=guest_lines)
    table.add(
        GUEST_CANCEL,
        guest_cancel_minutes,
        -1,
        guest_country[guest_ref],
        reference=guest_start + guest_ref,
        n_cancelled=guest_n_cancelled,
    )
    table.add(STOCK_ADJUST, adjust_minutes, -1, plan.countries.index(HOME_COUNTRY))
    table.add(
        np.where(is_amazon_cancel, SOLO_CANCEL, SOLO),
        amazon_minutes,
        -1,
        plan.countries.index(HOME_COUNTRY),
        solo_code=npi["AMAZONFEE"],
    )
    if n_bad_debt:
        # Three bad-debt adjustments a minute apart in August, as A563185-A563187 are.
        debt_day = cal.open_days[
            np.searchsorted(cal.open_days, (dt.date(2011, 8, 12) - START_DATE).days)
        ]
        table.add(
            BAD_DEBT,
            debt_day * 1440 + 14 * 60 + 50 + np.arange(3),
            -1,
            plan.countries.index(HOME_COUNTRY),
            solo_code=npi["B"],
        )

    invoices = _Invoices(
        **table.columns(),
        extra_inv=np.concatenate([purchase_start + extra_inv, guest_start + guest_extra_inv]),
        extra_code=np.concatenate([extra_code, guest_extra_code]),
        n_customer_duplicates=int(n_customer_duplicates),
        n_guest_duplicates=int(n_guest_duplicates),
        n_free_lines=int(n_free),
        big_order=big_order,
        manual_max=manual_max,
    )
    return customers, invoices


def _number_invoices(plan: _Plan) -> list[np.ndarray]:
    """Invoice numbers of every chunk, increasing with time across the whole file."""
    minutes = [_draw_invoices(plan, chunk)[1].minute for chunk in range(plan.n_chunks)]
    all_minutes = np.concatenate(minutes)
    chunk_of = np.repeat(np.arange(plan.n_chunks), [m.size for m in minutes])
    local = np.concatenate([np.arange(m.size) for m in minutes])
    order = np.lexsort((local, chunk_of, all_minutes))
    numbers = np.empty(all_minutes.size, dtype=np.int64)
    numbers[order] = FIRST_INVOICE_NUMBER + np.arange(all_minutes.size)
    bounds = np.cumsum([0] + [m.size for m in minutes])
    return [numbers[bounds[c] : bounds[c + 1]] for c in range(plan.n_chunks)]


# ============================================================================================
# Pass 2: the lines of one chunk
# ============================================================================================
def _distinct_products(
    rng: np.random.Generator, invoice: np.ndarray, cat: _Catalogue
) -> np.ndarray:
    """A product per line, by popularity, never twice in the same invoice."""
    product = np.searchsorted(cat.cumulative_popularity, rng.random(invoice.size), side="right")
    sellable = np.flatnonzero(np.diff(cat.cumulative_popularity, prepend=0.0) > 0)
    for attempt in range(200):
        order = np.lexsort((product, invoice))
        repeated = np.zeros(invoice.size, dtype=bool)
        repeated[1:] = (invoice[order][1:] == invoice[order][:-1]) & (
            product[order][1:] == product[order][:-1]
        )
        clash = order[repeated]
        if clash.size == 0:
            return product
        # Popularity redraws converge slowly in huge baskets; switch to uniform after a while.
        if attempt < 10:
            product[clash] = np.searchsorted(
                cat.cumulative_popularity, rng.random(clash.size), side="right"
            )
        else:
            product[clash] = sellable[rng.integers(0, sellable.size, clash.size)]
    raise RuntimeError("could not draw distinct products per invoice")


@dataclass
class _Lines:
    """Order lines as index arrays; `position` orders the lines inside an invoice."""

    invoice: np.ndarray
    position: np.ndarray
    code: np.ndarray  # index into catalogue codes
    description: np.ndarray  # index into catalogue descriptions, -1 if missing
    quantity: np.ndarray
    pence: np.ndarray

    def take(self, index: np.ndarray) -> _Lines:
        return _Lines(*(getattr(self, f.name)[index] for f in fields(self)))

    @staticmethod
    def concat(parts: Sequence[_Lines]) -> _Lines:
        return _Lines(
            *(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(_Lines))
        )


def _log_uniform_pence(rng: np.random.Generator, low: float, high: float, n: int) -> np.ndarray:
    return np.exp(rng.uniform(np.log(low), np.log(high), n)).astype(np.int64)


def _purchase_lines(
    rng: np.random.Generator, inv: _Invoices, customers: _Customers, cat: _Catalogue
) -> tuple[_Lines, np.ndarray]:
    """Product lines of customer and guest purchase invoices, and which are guests'."""
    invoice = np.repeat(np.arange(inv.kind.size), inv.n_product_lines)
    starts = np.concatenate([[0], np.cumsum(inv.n_product_lines)[:-1]])
    position = (np.arange(invoice.size) - starts[invoice]).astype(float)
    product = _distinct_products(rng, invoice, cat)
    is_guest = inv.customer[invoice] < 0
    customer = np.maximum(inv.customer[invoice], 0)
    # Customers buy whole packs, more of them the bigger the customer, at a discount in bulk.
    spread = rng.gamma(1.3, 1 / 1.3, invoice.size)
    packs = np.maximum(1, np.round(customers.volume[customer] * spread))
    pack = cat.pack_size[product]
    quantity = np.minimum(pack * packs.astype(np.int64), MAX_REGULAR_QUANTITY)
    pence = np.where(quantity >= 12 * pack, cat.bulk_pence[product], cat.base_pence[product])
    # Guests buy a few units at retail prices.
    quantity = np.where(is_guest, rng.geometric(0.55, invoice.size), quantity)
    pence = np.where(is_guest, cat.retail_pence[product], pence)
    # Free items: a few customer lines at zero price, never on an invoice that is cancelled.
    cancelled_purchases = inv.reference[inv.reference >= 0]
    eligible = np.flatnonzero(~is_guest & ~np.isin(invoice, cancelled_purchases))
    free = rng.choice(eligible, size=min(inv.n_free_lines, eligible.size), replace=False)
    pence[free] = 0
    return _Lines(invoice, position, product, product.copy(), quantity, pence), is_guest


def _cancellation_lines(rng: np.random.Generator, inv: _Invoices, purchases: _Lines) -> _Lines:
    """Distinct lines of each referenced purchase, same code and price, at most the quantity."""
    cancel_inv = np.flatnonzero(inv.reference >= 0)
    reference = inv.reference[cancel_inv]
    candidate = np.flatnonzero(np.isin(purchases.invoice, reference) & (purchases.pence > 0))
    # Shuffle the candidates within their invoice, then keep the first n_cancelled of each.
    order = np.lexsort((rng.random(candidate.size), purchases.invoice[candidate]))
    candidate = candidate[order]
    candidate_inv = purchases.invoice[candidate]
    rank = np.arange(candidate.size) - np.searchsorted(candidate_inv, candidate_inv, side="left")
    n_taken = np.zeros(inv.kind.size, dtype=np.int64)
    cancellation_of = np.full(inv.kind.size, -1, dtype=np.int64)
    n_taken[reference] = inv.n_cancelled[cancel_inv]
    cancellation_of[reference] = cancel_inv
    chosen = purchases.take(candidate[rank < n_taken[candidate_inv]])
    bought = chosen.quantity
    partial = (rng.random(bought.size) < 0.35) & (bought > 1)
    returned = np.where(
        partial, 1 + (rng.random(bought.size) * (bought - 1)).astype(np.int64), bought
    )
    # `chosen` is grouped by purchase invoice, hence by cancellation.
    first_of_invoice = np.searchsorted(chosen.invoice, chosen.invoice, side="left")
    position = np.arange(bought.size) - first_of_invoice
    chosen.invoice = cancellation_of[chosen.invoice]
    chosen.position = position.astype(float)
    chosen.quantity = -returned
    return chosen


def _duplicate_lines(
    rng: np.random.Generator, inv: _Invoices, purchases: _Lines, is_guest: np.ndarray
) -> _Lines:
    """Exact copies of some lines, placed right after the original or a few lines later."""
    customer_lines = np.flatnonzero(~is_guest & (purchases.pence > 0))
    guest_lines = np.flatnonzero(is_guest)
    duplicated = np.concatenate(
        [
            rng.choice(
                customer_lines,
                size=min(inv.n_customer_duplicates, customer_lines.size),
                replace=False,
            ),
            rng.choice(
                guest_lines, size=min(inv.n_guest_duplicates, guest_lines.size), replace=False
            ),
        ]
    )
    copies = purchases.take(duplicated)
    copies.position = copies.position + rng.choice([0, 0, 0, 1, 2, 3], duplicated.size) + 0.5
    return copies


def _extra_lines(rng: np.random.Generator, inv: _Invoices, cat: _Catalogue) -> _Lines:
    """Non-product lines inside purchase invoices (postage, manual lines...), at the end."""
    code = inv.extra_code
    quantity = np.ones(code.size, dtype=np.int64)
    pence = np.zeros(code.size, dtype=np.int64)
    npi = cat.non_product_index
    # Price range in pence and most units per line.
    for name, (low, high, most) in {
        "POST": (1500, 4000, 4),
        "post": (1500, 4000, 2),
        "C2": (5000, 5001, 1),
        "DOT": (1000, 150_000, 1),
        "M": (20, 2_000, 12),
        "BANK CHARGES": (1500, 1501, 1),
        "PADS": (1, 2, 1),
    }.items():
        mask = code == npi[name]
        pence[mask] = _log_uniform_pence(rng, low, high, int(mask.sum()))
        quantity[mask] = rng.integers(1, most + 1, int(mask.sum()))
    is_dcgs = np.isin(code, [i for c, i in npi.items() if c.startswith("DCGS")])
    pence[is_dcgs] = _log_uniform_pence(rng, 150, 1_500, int(is_dcgs.sum()))
    is_gift = np.isin(code, [i for c, i in npi.items() if c.startswith("gift_0001")])
    face_value = np.array([int(c.rsplit("_", 1)[1]) for c in cat.codes[code[is_gift]]])
    pence[is_gift] = np.round(face_value * 100 * 0.85).astype(np.int64)
    position = inv.n_product_lines[inv.extra_inv] + 10.0 + np.arange(code.size) % 3
    return _Lines(inv.extra_inv, position, code, code.copy(), quantity, pence)


def _solo_lines(rng: np.random.Generator, inv: _Invoices, cat: _Catalogue) -> _Lines:
    """The line of every one-line invoice: adjustments, fees, slips, bad debt, the big order."""
    invoice = np.flatnonzero((inv.solo_code != NO_SOLO_CODE) | (inv.kind == STOCK_ADJUST))
    kind = inv.kind[invoice]
    has_customer = inv.customer[invoice] >= 0
    code = inv.solo_code[invoice].copy()
    description = code.copy()
    quantity = np.ones(invoice.size, dtype=np.int64)
    pence = np.zeros(invoice.size, dtype=np.int64)
    npi = cat.non_product_index

    # Stock adjustments: a product code, zero price, no or a terse description.
    adjust = kind == STOCK_ADJUST
    n_adjust = int(adjust.sum())
    code[adjust] = np.searchsorted(cat.cumulative_popularity, rng.random(n_adjust), side="right")
    notes_start = cat.n_products + len(NON_PRODUCTS)
    description[adjust] = np.where(
        rng.random(n_adjust) < STOCK_ADJUSTMENT_MISSING_DESCRIPTION_SHARE,
        -1,
        notes_start + rng.integers(0, len(STOCK_ADJUSTMENT_NOTES), n_adjust),
    )
    size = np.maximum(1, np.round(np.exp(rng.normal(np.log(12), 1.1, n_adjust)))).astype(np.int64)
    is_negative = rng.random(n_adjust) < STOCK_ADJUSTMENT_NEGATIVE_SHARE
    quantity[adjust] = np.where(is_negative, -size, size)

    # Zero-quantity slips: a product at its price but no units.
    slip = code == ZERO_QUANTITY_SLIP
    slip_product = np.searchsorted(
        cat.cumulative_popularity, rng.random(int(slip.sum())), side="right"
    )
    code[slip], description[slip] = slip_product, slip_product
    quantity[slip] = 0
    pence[slip] = cat.base_pence[slip_product]

    for name, (low, high) in {
        "D": (500, 20_000),
        "S": (100, 10_000),
        "M": (20, 30_000),
        "CRUK": (100, 50_000),
        "AMAZONFEE": (500_000, 1_800_000),
        "B": (5_000, 50_000),
    }.items():
        mask = code == npi[name]
        if name == "B":
            mask &= has_customer  # the three fixed A lines are priced below
        pence[mask] = _log_uniform_pence(rng, low, high, int(mask.sum()))
    fixed_debt = (code == npi["B"]) & ~has_customer
    # One credit and two write-offs, as A563185-A563187 in the real file.
    pence[fixed_debt] = np.array([1, -1, -1])[: int(fixed_debt.sum())] * BAD_DEBT_PENCE
    if inv.big_order is not None:
        big = np.isin(invoice, inv.big_order)
        quantity[big] = BIG_ORDER_QUANTITY
        pence[big] = BIG_ORDER_PENCE
    if inv.manual_max >= 0:
        pence[invoice == inv.manual_max] = MANUAL_MAX_PENCE
    quantity = np.where(np.isin(kind, CANCEL_KINDS), -np.abs(quantity), quantity)
    return _Lines(invoice, np.zeros(invoice.size), code, description, quantity, pence)


def _chunk_lines(plan: _Plan, chunk: int, numbers: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pass 2: the typed order lines and the personas of one chunk."""
    customers, inv = _draw_invoices(plan, chunk)
    rng = _rng(plan.seed, _STREAM_LINES, chunk)
    cat = plan.catalogue
    purchases, is_guest = _purchase_lines(rng, inv, customers, cat)
    lines = _Lines.concat(
        [
            purchases,
            _cancellation_lines(rng, inv, purchases),
            _duplicate_lines(rng, inv, purchases, is_guest),
            _extra_lines(rng, inv, cat),
            _solo_lines(rng, inv, cat),
        ]
    )
    lines = lines.take(np.lexsort((lines.position, numbers[lines.invoice])))

    invoice = lines.invoice
    customer = inv.customer[invoice]
    customer_id = pd.arrays.IntegerArray(
        customers.ids[np.maximum(customer, 0)].astype(np.int64), mask=customer < 0
    )
    descriptions = np.append(cat.descriptions, None)  # index -1 -> missing
    frame = pd.DataFrame(
        {
            "InvoiceNo": _invoice_numbers_text(inv, numbers)[invoice],
            "StockCode": cat.codes[lines.code],
            "Description": descriptions[lines.description],
            "Quantity": lines.quantity.astype(np.int64),
            "InvoiceDate": pd.Timestamp(START_DATE)
            + pd.to_timedelta(inv.minute[invoice], unit="min"),
            "UnitPrice": lines.pence / 100.0,
            "CustomerID": customer_id,
            "Country": np.asarray(plan.countries, dtype=object)[inv.country[invoice]],
        }
    )
    personas = pd.DataFrame(
        {
            "customer_id": customers.ids,
            "persona_key": np.asarray(PERSONA_KEYS, dtype=object)[customers.persona],
            "kind": np.asarray(timelines.KIND_KEYS, dtype=object)[customers.kind],
            "has_stopped": customers.has_stopped,
        }
    )
    return frame, personas


def _invoice_numbers_text(inv: _Invoices, numbers: np.ndarray) -> np.ndarray:
    prefix = np.where(np.isin(inv.kind, CANCEL_KINDS), "C", np.where(inv.kind == BAD_DEBT, "A", ""))
    return np.array([p + str(n) for p, n in zip(prefix, numbers, strict=True)], dtype=object)


# ============================================================================================
# Public API
# ============================================================================================
def iter_order_line_chunks(
    n_lines: int = DEFAULT_LINES, seed: int = 42, *, chunk_customers: int = CHUNK_CUSTOMERS
) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Generate the order lines chunk by chunk, with bounded memory.

    Parameters
    ----------
    n_lines : int
        Total number of raw order lines over all chunks (at least 10,000). Customers scale
        with it: about 4,372 per 541,909 lines.
    seed : int
        Seed of every random stream; the same seed and size give the same lines.
    chunk_customers : int
        Most customers per chunk; bounds memory (about 124 lines per customer). Changing it
        changes the random draws, so keep the default for reproducible files.

    Yields
    ------
    lines : pandas.DataFrame
        The order lines of one chunk of customers (with the guest lines of that chunk), in
        invoice-number order, with the columns of :data:`COLUMNS`: ``Quantity`` int64,
        ``InvoiceDate`` datetime64 (minutes), ``UnitPrice`` float64 in GBP, ``CustomerID``
        nullable Int64 (missing for guests), the rest text with ``Description`` missing
        (None) on some stock adjustments.
    personas : pandas.DataFrame
        ``customer_id``, ``persona_key``, ``kind`` and ``has_stopped`` of the chunk's
        customers (see ``timelines.py``).
    """
    plan = _make_plan(n_lines, seed, chunk_customers)
    numbers = _number_invoices(plan)
    for chunk in range(plan.n_chunks):
        yield _chunk_lines(plan, chunk, numbers[chunk])


def generate_order_lines(
    n_lines: int = DEFAULT_LINES, seed: int = 42, *, chunk_customers: int = CHUNK_CUSTOMERS
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Generate the whole file in memory: order lines and each customer's true state.

    Parameters
    ----------
    n_lines : int
        Number of raw order lines (at least 10,000); 541,909 is the size of the real file.
    seed : int
        Seed of every random stream.
    chunk_customers : int
        Most customers per chunk, see :func:`iter_order_line_chunks`.

    Returns
    -------
    lines : pandas.DataFrame
        Shape (n_lines, 8), typed as described in :func:`iter_order_line_chunks`.
    personas : pandas.DataFrame
        One row per generated customer, sorted by ``customer_id`` (int64): ``persona_key`` (one
        of :data:`PERSONA_KEYS`, the state on the last day), ``kind`` (``light`` or
        ``frequent``) and ``has_stopped`` (bool: will not buy again).
    """
    chunks = list(iter_order_line_chunks(n_lines, seed, chunk_customers=chunk_customers))
    lines = pd.concat([lines for lines, _ in chunks], ignore_index=True)
    personas = pd.concat([p for _, p in chunks], ignore_index=True)
    return lines, personas.sort_values("customer_id", ignore_index=True)


def format_prices(prices: pd.Series) -> pd.Series:
    """Unit prices as the Kaggle file writes them: ``2.55``, ``2.1``, ``18``, ``0``.

    Parameters
    ----------
    prices : pandas.Series
        Prices in GBP with at most two decimals.

    Returns
    -------
    pandas.Series
        Text without trailing zeros or a trailing dot.
    """
    pence = np.round(prices.to_numpy(dtype=float) * 100).astype(np.int64)
    unique, inverse = np.unique(pence, return_inverse=True)
    text = np.array([_pence_text(int(p)) for p in unique], dtype=object)
    return pd.Series(text[inverse], index=prices.index, dtype=object)


def _pence_text(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    pounds, rest = divmod(abs(pence), 100)
    if rest == 0:
        return f"{sign}{pounds}"
    return f"{sign}{pounds}.{rest:02d}".rstrip("0")


def format_invoice_dates(dates: pd.Series) -> pd.Series:
    """Timestamps as the Kaggle file writes them: ``12/1/2010 8:26``.

    Parameters
    ----------
    dates : pandas.Series
        Timestamps (datetime64), to the minute.

    Returns
    -------
    pandas.Series
        ``M/D/YYYY H:MM`` text, without zero padding on month, day and hour, no seconds.
    """
    unique, inverse = np.unique(dates.to_numpy(), return_inverse=True)
    stamps = pd.DatetimeIndex(unique)
    text = np.array(
        [f"{t.month}/{t.day}/{t.year} {t.hour}:{t.minute:02d}" for t in stamps], dtype=object
    )
    return pd.Series(text[inverse.reshape(-1)], index=dates.index, dtype=object)


def _as_written(lines: pd.DataFrame) -> pd.DataFrame:
    """The columns as text, exactly as the Kaggle CSV has them."""
    return lines.assign(
        InvoiceDate=format_invoice_dates(lines["InvoiceDate"]),
        UnitPrice=format_prices(lines["UnitPrice"]),
    )


def _parquet_table(lines: pd.DataFrame):
    """A pyarrow table of the lines: text columns as in the CSV, numbers typed."""
    import pyarrow as pa  # only the Parquet output needs it

    schema = pa.schema(
        [
            ("InvoiceNo", pa.string()),
            ("StockCode", pa.string()),
            ("Description", pa.string()),
            ("Quantity", pa.int64()),
            ("InvoiceDate", pa.string()),
            ("UnitPrice", pa.float64()),
            ("CustomerID", pa.int64()),
            ("Country", pa.string()),
        ]
    )
    written = lines.assign(InvoiceDate=format_invoice_dates(lines["InvoiceDate"]))
    table = pa.Table.from_pandas(written[COLUMNS], schema=schema, preserve_index=False)
    # Without the pandas metadata the bytes depend on the data alone.
    return table.replace_schema_metadata(None)


def write_dataset(
    out: Path | str,
    personas_out: Path | str,
    n_lines: int = DEFAULT_LINES,
    seed: int = 42,
    file_format: str = "csv",
) -> dict[str, int]:
    """Write the order lines and each customer's true state, one chunk of customers at a time.

    Parameters
    ----------
    out : path
        Order lines file: Kaggle ``data.csv`` layout in ISO-8859-1 (``csv``) or Parquet with
        the same columns (``parquet``; ``InvoiceDate`` as text, numbers typed).
    personas_out : path
        Ground truth CSV ``customer_id,persona_key,kind,has_stopped``, one row per customer, sorted
        by id.
    n_lines : int
        Number of order lines (at least 10,000).
    seed : int
        Seed; the same seed, size and format give byte-identical files.
    file_format : {"csv", "parquet"}
        Format of `out`.

    Returns
    -------
    dict
        ``lines`` and ``customers`` written.
    """
    if file_format not in ("csv", "parquet"):
        raise ValueError(f"file_format must be 'csv' or 'parquet'; got {file_format!r}")
    out, personas_out = Path(out), Path(personas_out)
    out.parent.mkdir(parents=True, exist_ok=True)
    personas_out.parent.mkdir(parents=True, exist_ok=True)
    # Written beside the target and renamed at the end, so an interrupted run leaves no
    # truncated file that looks complete.
    partial = out.with_name(out.name + ".partial")
    persona_chunks = []
    n_written = 0
    chunks = iter_order_line_chunks(n_lines, seed)
    if file_format == "csv":
        with open(partial, "w", encoding="latin-1", newline="") as handle:
            for i, (lines, personas) in enumerate(chunks):
                _as_written(lines).to_csv(handle, index=False, header=i == 0, lineterminator="\n")
                n_written += len(lines)
                persona_chunks.append(personas)
    else:
        import pyarrow.parquet as pq  # only the Parquet output needs it

        writer = None
        try:
            for lines, personas in chunks:
                table = _parquet_table(lines)
                if writer is None:
                    writer = pq.ParquetWriter(partial, table.schema)
                writer.write_table(table)
                n_written += len(lines)
                persona_chunks.append(personas)
        finally:
            if writer is not None:
                writer.close()
    partial.replace(out)
    personas = pd.concat(persona_chunks, ignore_index=True).sort_values("customer_id")
    personas.to_csv(personas_out, index=False, lineterminator="\n")
    return {"lines": n_written, "customers": len(personas)}


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m online_retail_generator",
        description=(
            "Write synthetic Online Retail order lines (Kaggle data.csv layout, ISO-8859-1) "
            "and the true state of each customer. The same seed gives byte-identical files."
        ),
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("data/online_retail.csv"),
        help="order lines file (default: %(default)s)",
    )
    parser.add_argument(
        "--personas-out",
        type=Path,
        default=Path("data/online_retail_personas.csv"),
        help="ground truth customer_id,persona_key,kind,has_stopped (default: %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: %(default)s)")
    parser.add_argument(
        "--lines",
        type=int,
        default=DEFAULT_LINES,
        help="number of order lines, at least 10,000; customers scale with it "
        "(default: %(default)s, the size of the real file)",
    )
    parser.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        dest="file_format",
        help="csv: Kaggle layout; parquet: same columns, InvoiceDate as text, "
        "numbers typed (default: %(default)s)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code."""
    args = _parse_args(argv)
    written = write_dataset(args.out, args.personas_out, args.lines, args.seed, args.file_format)
    print(
        f"wrote {written['lines']:,} order lines to {args.out} and "
        f"the true state of {written['customers']:,} customers to {args.personas_out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
