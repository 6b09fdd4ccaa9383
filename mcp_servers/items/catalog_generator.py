"""Deterministic generator of a realistic product catalog for the items MCP server.

The catalog is synthetic but reads like a real store: fifteen categories, each with its own
invented brands, product nouns, materials, features and description templates. The vocabulary is
shaped for search benchmarks: a few very frequent words ("black", "premium", "set"), a body of
mid-frequency terms, rare terms (exotic materials, model codes) in well under 0.5% of items, words
sharing prefixes (lamp/lantern, desk/design, chair/charger) and occasional non-ASCII names
("Café", "Crème", "Jalapeño").

Item ``i`` is generated from its own ``random.Random(seed * 1_000_003 + i)``, so the output depends
only on ``(count, seed)`` and the first N items are the same for every ``count >= N``. Standard
library only.

Regenerate the bundled data file (from the repository root)::

    python -m mcp_servers.items.catalog_generator --count 1200 --seed 20261126 \\
        --out mcp_servers/items/data/catalog.json
"""

from __future__ import annotations

import argparse
import json
import random
from bisect import bisect
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Any, TypeVar

_T = TypeVar("_T")

DEFAULT_SEED = 20261126
DEFAULT_COUNT = 1200

# Colours shared by most categories, with weights: "black" ends up in roughly a quarter of items.
_COLOURS: tuple[tuple[str, int], ...] = (
    ("Black", 30),
    ("Matte Black", 9),
    ("White", 14),
    ("Grey", 8),
    ("Charcoal", 5),
    ("Silver", 5),
    ("Navy", 5),
    ("Natural", 5),
    ("Beige", 4),
    ("Blue", 4),
    ("Red", 3),
    ("Walnut", 3),
    ("Sage Green", 3),
    ("Olive", 2),
    ("Sand", 2),
    ("Terracotta", 2),
    ("Blush Pink", 2),
    ("Mustard", 1),
    ("Cobalt", 1),
    ("Crème", 1),
)
_COLOUR_NAMES: tuple[str, ...] = tuple(c for c, _ in _COLOURS)
_COLOUR_CUM: list[int] = list(accumulate(w for _, w in _COLOURS))

_LINE_WORDS: tuple[str, ...] = ("Pro", "Max", "Mini", "Lite", "Plus", "Air", "Ultra", "Flex", "Go", "Prime")
_GLOBAL_ADJECTIVES: tuple[str, ...] = ("Premium", "Premium", "Classic", "Essential", "Deluxe", "Compact")

# Rare materials/finishes: any one of them lands in roughly 0.1-0.2% of items.
_RARE_MATERIALS: tuple[str, ...] = (
    "Obsidian",
    "Graphene",
    "Meteorite",
    "Alpaca Wool",
    "Damascus Steel",
    "Zirconia",
    "Tourmaline",
    "Kevlar",
    "Basalt",
    "Ebony",
    "Mother-of-Pearl",
    "Titanium",
    "Yak Wool",
    "Cork Oak",
    "Onyx",
    "Vicuña",
    "Papier-Mâché",
    "Jadeite",
)
_MODEL_LETTERS: str = "ABCDEFGHJKLMNPRSTVXZ"

_WARRANTY_YEARS: tuple[int, ...] = (1, 1, 2, 2, 3, 5)
_PRICE_ENDINGS: tuple[float, ...] = (0.99, 0.99, 0.95, 0.49, 0.0)
_WATTS: tuple[int, ...] = (5, 10, 15, 20, 30, 45, 65, 100, 140)
# Plural product nouns are described through a singular container ("a pair of running shoes").
_PLURAL_CONTAINERS: dict[str, str] = {
    "earbuds": "pair",
    "headphones": "pair",
    "speakers": "pair",
    "shoes": "pair",
    "trousers": "pair",
    "poles": "pair",
    "shears": "pair",
    "socks": "pack",
    "salts": "jar",
    "lights": "set",
    "cups": "set",
}

# Category table. Prices are per product noun as (noun, low, high) in USD; the price is drawn
# log-uniformly in that band. "specs" templates may use {w} {d} {h} (cm), {kg}, {load} (kg), {ml},
# {pages}, {hours}, {watts}, {lumens}, {litres}, {age}, {players}; "dims" bounds the random cm values
# and the optional "watts" replaces the default wattages. Optional "finishes" replace the colours and
# optional "intros" replace the default first sentences.
_CATEGORIES: tuple[dict[str, Any], ...] = (
    {
        "name": "Electronics",
        "tag": "electronics",
        "brands": ("Voltix", "Northwind", "Kairo", "Brightline", "Helio", "Quantra"),
        "products": (
            ("Wireless Charger", 14.99, 79.0),
            ("Charging Stand", 19.99, 89.0),
            ("USB-C Hub", 19.99, 129.0),
            ("Power Bank", 17.99, 149.0),
            ("Smart Plug", 9.99, 39.0),
            ("Webcam", 29.99, 199.0),
            ("Portable Monitor", 129.0, 449.0),
            ("Tablet Stand", 14.99, 69.0),
            ("Fitness Tracker", 39.99, 249.0),
            ("Smartwatch", 99.0, 499.0),
            ("E-Reader", 89.0, 279.0),
            ("Laptop", 499.0, 2499.0),
            ("Action Camera", 79.0, 449.0),
            ("Cable Organizer Set", 7.99, 29.0),
        ),
        "adjectives": ("Fast-Charging", "Smart", "Portable", "Slim", "Wireless", "Magnetic", "Foldable"),
        "materials": ("aluminium", "recycled plastic", "tempered glass", "silicone", "ABS plastic"),
        "features": (
            "USB-C Power Delivery",
            "overcharge protection",
            "a braided 1.5 m cable",
            "an LED status indicator",
            "Bluetooth 5.3",
            "a non-slip base",
            "Qi2 compatibility",
            "firmware updates over the air",
        ),
        "uses": ("home offices", "travel", "bedside tables", "commuting", "shared family desks"),
        "tags": ("gadgets", "usb-c", "wireless", "charging", "tech", "smart-home"),
        "specs": (
            "Measures {w} x {d} x {h} cm and weighs {kg} kg.",
            "Delivers up to {watts} W and runs {hours} hours on a single charge.",
            "Supports up to {watts} W output.",
        ),
        "dims": (4, 30),
    },
    {
        "name": "Audio",
        "tag": "audio",
        "brands": ("Sonnet", "Auralis", "Northwind", "Basswell", "Echoa"),
        "products": (
            ("Wireless Earbuds", 29.99, 279.0),
            ("Over-Ear Headphones", 49.0, 449.0),
            ("Bluetooth Speaker", 24.99, 349.0),
            ("Soundbar", 99.0, 899.0),
            ("Turntable", 129.0, 799.0),
            ("Studio Monitor Pair", 149.0, 999.0),
            ("USB Microphone", 39.0, 229.0),
            ("Headphone Stand", 14.99, 59.0),
            ("Bookshelf Speakers", 89.0, 699.0),
            ("Clock Radio", 24.99, 129.0),
        ),
        "adjectives": ("Noise-Cancelling", "Wireless", "Hi-Fi", "Waterproof", "Studio", "Retro"),
        "materials": ("aluminium", "walnut veneer", "memory foam", "protein leather", "fabric mesh"),
        "features": (
            "active noise cancelling",
            "aptX Adaptive support",
            "a 3.5 mm aux input",
            "multipoint pairing",
            "a built-in equalizer",
            "spatial audio",
            "IPX7 water resistance",
        ),
        "uses": ("commuting", "home cinema", "podcasting", "workouts", "vinyl listening", "video calls"),
        "tags": ("music", "bluetooth", "sound", "hifi", "wireless", "podcast"),
        "specs": (
            "Offers up to {hours} hours of playback.",
            "Rated at {watts} W with a frequency response of 20 Hz-20 kHz.",
            "Measures {w} x {d} x {h} cm.",
        ),
        "dims": (5, 90),
    },
    {
        "name": "Home Office",
        "tag": "home-office",
        "brands": ("Deskly", "Northwind", "Officina", "Paperleaf", "Ergon"),
        "products": (
            ("Standing Desk", 199.0, 899.0),
            ("Desk Organizer", 12.99, 59.0),
            ("Desk Mat", 14.99, 49.0),
            ("Monitor Arm", 39.0, 199.0),
            ("Office Chair", 129.0, 899.0),
            ("Ergonomic Chair", 199.0, 1299.0),
            ("Laptop Stand", 19.99, 99.0),
            ("Filing Cabinet", 89.0, 349.0),
            ("Notebook Set", 9.99, 34.0),
            ("Fountain Pen", 14.99, 189.0),
            ("Whiteboard", 24.99, 149.0),
            ("Footrest", 19.99, 79.0),
            ("Paper Shredder", 39.0, 249.0),
        ),
        "adjectives": ("Ergonomic", "Adjustable", "Height-Adjustable", "Minimalist", "Designer", "Modular"),
        "materials": ("bamboo", "powder-coated steel", "oak veneer", "felt", "vegan leather", "mesh"),
        "features": (
            "cable management trays",
            "a memory-preset keypad",
            "lumbar support",
            "4D armrests",
            "a scratch-resistant surface",
            "whisper-quiet dual motors",
            "anti-fatigue padding",
        ),
        "uses": ("home offices", "long workdays", "small apartments", "study corners", "shared workspaces"),
        "tags": ("office", "desk", "ergonomic", "workspace", "productivity", "stationery"),
        "specs": (
            "Measures {w} x {d} x {h} cm and supports up to {load} kg.",
            "Assembles in about 20 minutes; overall size {w} x {d} x {h} cm.",
        ),
        "dims": (20, 160),
    },
    {
        "name": "Kitchen",
        "tag": "kitchen",
        "brands": ("Cuisina", "Hearthstone", "Mesa & Co", "Copperleaf", "Saltbox"),
        "products": (
            ("Chef's Knife", 24.99, 249.0),
            ("Knife Block Set", 49.0, 399.0),
            ("Cast Iron Skillet", 19.99, 129.0),
            ("Dutch Oven", 49.0, 399.0),
            ("Espresso Machine", 129.0, 1499.0),
            ("Café Espresso Cups (Set of 4)", 14.99, 49.0),
            ("Crème Brûlée Torch", 19.99, 59.0),
            ("Jalapeño Popper Rack", 12.99, 34.0),
            ("Cutting Board", 14.99, 89.0),
            ("Mixing Bowl Set", 19.99, 79.0),
            ("Pour-Over Coffee Maker", 19.99, 79.0),
            ("Electric Kettle", 24.99, 149.0),
            ("Stand Mixer", 149.0, 699.0),
            ("Spice Rack", 14.99, 69.0),
            ("Measuring Cup Set", 7.99, 29.0),
        ),
        "adjectives": ("Non-Stick", "Dishwasher-Safe", "Professional", "Nesting", "Enamelled", "Stackable"),
        "materials": (
            "stainless steel",
            "cast iron",
            "acacia wood",
            "borosilicate glass",
            "ceramic",
            "copper",
        ),
        "features": (
            "a tri-ply base for even heating",
            "a stay-cool handle",
            "a precision thermostat",
            "an auto shut-off",
            "a full-tang blade",
            "oven-safe construction up to 260 °C",
            "a gooseneck spout",
        ),
        "uses": ("weeknight dinners", "meal prep", "baking", "entertaining guests", "small kitchens"),
        "tags": ("cooking", "cookware", "baking", "coffee", "kitchenware", "dishwasher-safe"),
        "specs": (
            "Holds {ml} ml and weighs {kg} kg.",
            "Measures {w} x {d} x {h} cm.",
            "Capacity: {litres} L.",
        ),
        "dims": (8, 50),
    },
    {
        "name": "Furniture",
        "tag": "furniture",
        "brands": ("Oakhaven", "Nordhem", "Linden & Lane", "Casamia", "Fjordline"),
        "products": (
            ("Dining Chair", 59.0, 399.0),
            ("Lounge Chair", 199.0, 1499.0),
            ("Accent Chair", 149.0, 899.0),
            ("Bookshelf", 79.0, 599.0),
            ("Coffee Table", 89.0, 899.0),
            ("Sideboard", 249.0, 1899.0),
            ("Bar Stool", 49.0, 249.0),
            ("Bed Frame", 199.0, 2199.0),
            ("Nightstand", 59.0, 399.0),
            ("Sofa", 499.0, 2499.0),
            ("Writing Desk", 129.0, 899.0),
            ("Shoe Cabinet", 69.0, 299.0),
            ("Ottoman", 49.0, 349.0),
        ),
        "adjectives": ("Mid-Century", "Scandinavian", "Upholstered", "Solid Wood", "Designer", "Industrial"),
        "materials": ("solid oak", "walnut", "rattan", "boucle fabric", "velvet", "powder-coated steel"),
        "features": (
            "tapered solid-wood legs",
            "soft-close drawers",
            "high-density foam cushions",
            "adjustable shelves",
            "hidden storage",
            "felt floor protectors",
            "a hand-rubbed oil finish",
        ),
        "uses": ("living rooms", "small apartments", "dining rooms", "bedrooms", "reading nooks"),
        "tags": ("home", "decor", "living-room", "storage", "mid-century", "seating"),
        "specs": (
            "Measures {w} x {d} x {h} cm and supports up to {load} kg.",
            "Overall dimensions: {w} x {d} x {h} cm.",
        ),
        "dims": (35, 220),
    },
    {
        "name": "Lighting",
        "tag": "lighting",
        "brands": ("Lumora", "Northwind", "Glowhaus", "Lanterna", "Brightline"),
        "products": (
            ("Desk Lamp", 19.99, 189.0),
            ("LED Desk Lamp", 24.99, 149.0),
            ("Floor Lamp", 49.0, 399.0),
            ("Table Lamp", 29.99, 249.0),
            ("Pendant Light", 49.0, 599.0),
            ("String Lights", 9.99, 49.0),
            ("Lantern", 14.99, 89.0),
            ("Wall Sconce", 39.0, 249.0),
            ("Smart Bulb (Set of 2)", 14.99, 59.0),
            ("Night Light", 7.99, 34.0),
            ("Lamp Shade", 14.99, 79.0),
            ("Ceiling Fan Light", 129.0, 499.0),
        ),
        "adjectives": ("Adjustable", "Dimmable", "Rechargeable", "Minimalist", "Designer", "Arc"),
        "materials": ("brushed brass", "opal glass", "linen", "aluminium", "rattan", "ceramic"),
        "features": (
            "touch-sensitive dimming",
            "a weighted base",
            "adjustable colour temperature from 2700 K to 6500 K",
            "a flicker-free LED module",
            "a built-in USB charging port",
            "a pivoting head",
            "app and voice control",
        ),
        "uses": ("late-night reading", "home offices", "bedrooms", "patios", "dorm rooms", "living rooms"),
        "tags": ("lamp", "led", "light", "dimmable", "home", "decor"),
        "specs": (
            "Puts out {lumens} lumens at just {watts} W.",
            "Measures {w} x {d} x {h} cm with a 1.8 m cord.",
        ),
        "dims": (10, 170),
        "watts": (4, 6, 8, 9, 10, 12, 15),
    },
    {
        "name": "Outdoor",
        "tag": "outdoor",
        "brands": ("Trailmark", "Summit & Pine", "Northwind", "Campfyre", "Ridgeway"),
        "products": (
            ("Camping Tent", 79.0, 699.0),
            ("Sleeping Bag", 39.0, 349.0),
            ("Camping Lantern", 14.99, 69.0),
            ("Hiking Backpack", 49.0, 299.0),
            ("Camp Chair", 29.99, 149.0),
            ("Insulated Water Bottle", 14.99, 49.0),
            ("Portable Grill", 59.0, 399.0),
            ("Hammock", 24.99, 129.0),
            ("Cooler Box", 39.0, 349.0),
            ("Trekking Poles", 29.99, 159.0),
            ("Headlamp", 12.99, 79.0),
        ),
        "adjectives": ("Ultralight", "Waterproof", "Insulated", "Packable", "All-Weather", "Rugged"),
        "materials": ("ripstop nylon", "aluminium", "recycled polyester", "stainless steel", "canvas"),
        "features": (
            "taped seams",
            "a 3-season rating",
            "a compression stuff sack",
            "double-wall vacuum insulation",
            "quick-pitch colour-coded poles",
            "reflective guy lines",
        ),
        "uses": ("weekend camping", "backpacking trips", "festivals", "day hikes", "backyard evenings"),
        "tags": ("camping", "hiking", "outdoors", "travel", "waterproof", "adventure"),
        "specs": (
            "Packs down to {w} x {d} cm and weighs {kg} kg.",
            "Holds {litres} L.",
        ),
        "dims": (10, 80),
    },
    {
        "name": "Sports & Fitness",
        "tag": "fitness",
        "brands": ("Pulsefit", "Stridex", "Corebound", "Apexa", "Velocita"),
        "products": (
            ("Yoga Mat", 19.99, 129.0),
            ("Adjustable Dumbbell Set", 99.0, 599.0),
            ("Kettlebell", 24.99, 149.0),
            ("Resistance Band Set", 12.99, 49.0),
            ("Foam Roller", 14.99, 59.0),
            ("Jump Rope", 7.99, 39.0),
            ("Exercise Bike", 249.0, 1999.0),
            ("Running Shoes", 59.0, 219.0),
            ("Gym Bag", 24.99, 129.0),
            ("Pull-Up Bar", 24.99, 89.0),
            ("Tennis Racket", 39.0, 279.0),
            ("Cycling Helmet", 39.0, 249.0),
        ),
        "adjectives": ("Non-Slip", "Heavy-Duty", "Lightweight", "Breathable", "Pro-Grade", "Compact"),
        "materials": ("natural rubber", "TPE foam", "cast iron", "neoprene", "EVA foam", "carbon fibre"),
        "features": (
            "a non-slip textured grip",
            "quick-change weight dials",
            "a moisture-wicking lining",
            "alignment markings",
            "a magnetic resistance system",
            "ventilated panels",
        ),
        "uses": ("home workouts", "yoga classes", "strength training", "marathon training", "HIIT sessions"),
        "tags": ("fitness", "workout", "gym", "training", "yoga", "sports"),
        "specs": (
            "Measures {w} x {d} cm and weighs {kg} kg.",
            "Supports users up to {load} kg.",
        ),
        "dims": (10, 190),
    },
    {
        "name": "Toys & Games",
        "tag": "toys",
        "brands": ("Playnook", "Tinkertot", "Marblejar", "Kidora", "Whimsy Works"),
        "products": (
            ("Building Blocks Set", 14.99, 149.0),
            ("Board Game", 14.99, 69.0),
            ("Jigsaw Puzzle (1000 Pieces)", 12.99, 39.0),
            ("Wooden Train Set", 29.99, 149.0),
            ("Plush Bear", 9.99, 49.0),
            ("Remote Control Car", 24.99, 199.0),
            ("Card Game", 7.99, 29.0),
            ("Piñata", 12.99, 39.0),
            ("Science Kit", 19.99, 79.0),
            ("Dollhouse", 49.0, 249.0),
            ("Play Kitchen", 69.0, 299.0),
        ),
        "adjectives": ("Educational", "Colourful", "Cooperative", "Collectible", "STEM", "Family"),
        "materials": ("FSC-certified wood", "BPA-free plastic", "recycled cardboard", "organic cotton"),
        "features": (
            "rounded edges",
            "non-toxic water-based paints",
            "easy-to-read rules",
            "a sturdy storage box",
            "rechargeable batteries",
            "glow-in-the-dark pieces",
        ),
        "uses": ("family game nights", "rainy afternoons", "classrooms", "birthday gifts", "road trips"),
        "tags": ("kids", "gift", "family", "games", "learning", "puzzle"),
        "specs": (
            "Recommended for ages {age}+; box measures {w} x {d} x {h} cm.",
            "For 2-{players} players, ages {age}+.",
        ),
        "dims": (10, 60),
    },
    {
        "name": "Books",
        "tag": "books",
        "brands": ("Harbor Press", "Quill & Ink", "Paperleaf Books", "Lanternlight Editions", "Maple Row"),
        "products": (
            ("Sourdough Cookbook", 14.99, 39.0),
            ("Field Guide to Birds", 12.99, 34.0),
            ("Mystery Novel", 8.99, 27.0),
            ("Illustrated Atlas", 19.99, 59.0),
            ("Gardening Handbook", 12.99, 34.0),
            ("Design Sketchbook", 9.99, 29.0),
            ("Python Programming Guide", 24.99, 69.0),
            ("Children's Picture Book", 7.99, 22.0),
            ("Poetry Anthology", 9.99, 29.0),
            ("Café Culture Photo Book", 24.99, 69.0),
            ("Travel Journal", 9.99, 29.0),
        ),
        "adjectives": ("Illustrated", "Bestselling", "Annotated", "Collector's", "Revised", "Pocket"),
        "materials": ("acid-free paper", "recycled paper", "cloth binding", "lay-flat binding"),
        "finishes": ("Hardcover", "Paperback", "Paperback", "Spiral-Bound", "Large Print", "Box Set"),
        "features": (
            "full-colour photography",
            "step-by-step instructions",
            "a ribbon bookmark",
            "an index of recipes",
            "a foreword by the author",
            "hand-drawn maps",
        ),
        "uses": ("curious beginners", "gift giving", "coffee tables", "bedtime reading", "weekend projects"),
        "intros": (
            "{A} {adj_noun} from {brand}, perfect for {use}.",
            "This {adj_noun} is printed on {material} and includes {f1}.",
            "A premium {noun} with {f1} and {f2}, ideal for {use}.",
            "Written for {use}, this {noun} features {f1} and {f2}.",
        ),
        "tags": ("reading", "gift", "hardcover", "paperback", "learning", "novel"),
        "specs": ("{pages} pages.", "Runs to {pages} pages with {w} colour plates."),
        "dims": (12, 80),
    },
    {
        "name": "Clothing",
        "tag": "clothing",
        "brands": ("Threadwell", "Northwind", "Maison Lévy", "Cotswold & Co", "Kinfolk Supply"),
        "products": (
            ("Crewneck Sweater", 39.0, 189.0),
            ("Rain Jacket", 59.0, 299.0),
            ("Chino Trousers", 39.0, 129.0),
            ("Oxford Shirt", 29.99, 119.0),
            ("Cotton T-Shirt (Set of 3)", 19.99, 59.0),
            ("Wool Socks (Set of 3)", 12.99, 39.0),
            ("Puffer Vest", 49.0, 199.0),
            ("Denim Jacket", 59.0, 199.0),
            ("Beanie", 12.99, 49.0),
            ("Leather Belt", 19.99, 89.0),
            ("Linen Dress", 49.0, 219.0),
        ),
        "adjectives": ("Relaxed-Fit", "Slim-Fit", "Organic", "Lightweight", "Cosy", "Tailored"),
        "materials": ("organic cotton", "merino wool", "linen", "recycled polyester", "denim", "cashmere"),
        "features": (
            "reinforced seams",
            "a water-repellent finish",
            "deep side pockets",
            "a ribbed collar",
            "a relaxed drop shoulder",
            "horn buttons",
        ),
        "uses": ("everyday wear", "travel", "the office", "chilly mornings", "weekend layering"),
        "tags": ("apparel", "fashion", "menswear", "womenswear", "cotton", "wool"),
        "specs": ("Available in sizes XS-XXL.", "True to size; model is 183 cm and wears a medium."),
        "dims": (30, 90),
    },
    {
        "name": "Beauty",
        "tag": "beauty",
        "brands": ("Lumière", "Botanica", "Dewdrop", "Saffron & Sage", "Velour"),
        "products": (
            ("Face Serum", 14.99, 89.0),
            ("Moisturizing Crème", 12.99, 79.0),
            ("Hand Cream", 7.99, 29.0),
            ("Lip Balm (Set of 3)", 5.99, 19.0),
            ("Sheet Mask (Set of 5)", 9.99, 34.0),
            ("Body Lotion", 9.99, 49.0),
            ("Shampoo Bar", 6.99, 19.0),
            ("Perfume", 29.99, 189.0),
            ("Facial Cleanser", 9.99, 39.0),
            ("Eye Cream", 14.99, 69.0),
            ("Bath Salts", 7.99, 29.0),
        ),
        "adjectives": ("Hydrating", "Fragrance-Free", "Vegan", "Cruelty-Free", "Soothing", "Brightening"),
        "materials": ("shea butter", "hyaluronic acid", "argan oil", "aloe vera", "vitamin C", "rosehip oil"),
        "finishes": ("Lavender", "Unscented", "Citrus", "Rose", "Sandalwood", "Eucalyptus", "Vanilla"),
        "features": (
            "a lightweight, non-greasy texture",
            "recyclable glass packaging",
            "a dermatologist-tested formula",
            "no parabens or sulphates",
            "a precision pump",
        ),
        "uses": ("sensitive skin", "daily routines", "dry winter skin", "travel bags", "gift sets"),
        "intros": (
            "{A} {adj_noun} with {material}, made for {use}.",
            "This {adj_noun} from {brand} blends {material} with {f1}.",
            "A premium {noun} enriched with {material}, ideal for {use} and {use2}.",
            "Formulated for {use}, this {noun} features {f1} and {f2}.",
        ),
        "tags": ("skincare", "beauty", "vegan", "self-care", "natural", "gift"),
        "specs": ("Contains {ml} ml.", "Net weight {ml} g."),
        "dims": (5, 25),
    },
    {
        "name": "Garden",
        "tag": "garden",
        "brands": ("Greenhollow", "Terra & Twig", "Bloomfield", "Rootstock", "Fernway"),
        "products": (
            ("Raised Garden Bed", 49.0, 399.0),
            ("Watering Can", 12.99, 49.0),
            ("Pruning Shears", 14.99, 69.0),
            ("Garden Hose", 24.99, 119.0),
            ("Planter", 14.99, 149.0),
            ("Bird Feeder", 14.99, 79.0),
            ("Compost Bin", 39.0, 199.0),
            ("Solar Garden Lantern", 14.99, 59.0),
            ("Seed Starter Kit", 12.99, 49.0),
            ("Patio Chair", 69.0, 399.0),
            ("Garden Kneeler", 19.99, 59.0),
        ),
        "adjectives": ("Weatherproof", "Self-Watering", "Solar-Powered", "Heavy-Duty", "Expandable"),
        "materials": ("galvanised steel", "cedar wood", "terracotta", "recycled plastic", "teak", "zinc"),
        "features": (
            "drainage holes",
            "UV-resistant coating",
            "an ergonomic handle",
            "a built-in water reservoir",
            "rust-proof hardware",
            "a soft-grip trigger",
        ),
        "uses": ("balconies", "vegetable patches", "patios", "herb gardens", "small backyards"),
        "tags": ("gardening", "plants", "outdoor", "patio", "planter", "backyard"),
        "specs": ("Measures {w} x {d} x {h} cm.", "Holds {litres} L of soil or water."),
        "dims": (10, 180),
    },
    {
        "name": "Pet Supplies",
        "tag": "pets",
        "brands": ("Pawsome", "Whisker & Wag", "Barkley", "Furrow", "Tailwind"),
        "products": (
            ("Dog Bed", 29.99, 199.0),
            ("Cat Tree", 49.0, 249.0),
            ("Dog Leash", 12.99, 49.0),
            ("Pet Water Fountain", 24.99, 79.0),
            ("Automatic Pet Feeder", 39.0, 149.0),
            ("Chew Toy (Set of 3)", 9.99, 29.0),
            ("Cat Litter Box", 19.99, 199.0),
            ("Pet Carrier", 29.99, 129.0),
            ("Grooming Brush", 9.99, 39.0),
            ("Dog Harness", 19.99, 69.0),
        ),
        "adjectives": ("Orthopedic", "Washable", "Chew-Resistant", "Reflective", "Cosy", "Anti-Skid"),
        "materials": ("memory foam", "natural rubber", "nylon webbing", "sherpa fleece", "sisal rope"),
        "features": (
            "a removable machine-washable cover",
            "a non-slip bottom",
            "reflective stitching",
            "a quiet pump",
            "a programmable timer",
            "a padded chest plate",
        ),
        "uses": ("large dogs", "indoor cats", "puppies", "senior pets", "road trips"),
        "tags": ("dog", "cat", "pets", "pet-care", "puppy", "kitten"),
        "specs": ("Fits pets up to {kg} kg.", "Measures {w} x {d} x {h} cm."),
        "dims": (15, 120),
    },
    {
        "name": "Tools",
        "tag": "tools",
        "brands": ("Forgewell", "Ironclad", "Torqa", "Benchmark Tools", "Northwind"),
        "products": (
            ("Cordless Drill", 49.0, 299.0),
            ("Screwdriver Set", 14.99, 79.0),
            ("Socket Wrench Set", 29.99, 199.0),
            ("Tool Chest", 89.0, 899.0),
            ("Laser Level", 29.99, 249.0),
            ("Tape Measure", 7.99, 34.0),
            ("Battery Charger", 24.99, 99.0),
            ("Workbench", 99.0, 599.0),
            ("Utility Knife", 7.99, 29.0),
            ("Stud Finder", 14.99, 59.0),
            ("Multi-Tool", 24.99, 149.0),
        ),
        "adjectives": ("Cordless", "Heavy-Duty", "Precision", "Magnetic", "Brushless", "Professional"),
        "materials": (
            "chrome vanadium steel",
            "hardened steel",
            "aluminium",
            "fibreglass",
            "rubberised grip",
        ),
        "features": (
            "a brushless 20 V motor",
            "a magnetic bit holder",
            "an LED work light",
            "a two-speed gearbox",
            "a lifetime-rated ratchet",
            "a shock-absorbing housing",
        ),
        "uses": ("DIY projects", "home repairs", "woodworking", "professional job sites", "garage workshops"),
        "tags": ("diy", "hardware", "workshop", "repair", "power-tools", "woodworking"),
        "specs": ("Weighs {kg} kg.", "Delivers {watts} W; case measures {w} x {d} x {h} cm."),
        "dims": (10, 120),
    },
)

# Description templates (a category may override the intros). Slots: {noun} ("desk lamp", or "pair of
# running shoes" for plurals, so it always takes a singular verb), {adj_noun} ("adjustable desk lamp"),
# {A} its article, {material}, {use}, {use2}, {use3}, {f1}, {f2}, {f3}, {brand}, {colour}, {category},
# {years}. Intros use f1/f2 and use/use2; extras use f3/use3 so sentences do not repeat each other.
_INTROS: tuple[str, ...] = (
    "{A} {adj_noun} made from {material}, built for {use}.",
    "This {adj_noun} from {brand} pairs {material} with {f1}.",
    "A premium {noun} in {material}, ideal for {use} and {use2}.",
    "From {brand}, this {noun} combines {f1} with a clean, modern design.",
    "{A} {adj_noun} crafted in {material} with {f1}.",
    "Designed for {use}, this {noun} features {f1} and {f2}.",
    "Our bestselling {noun}: {material}, {f1}, and {f2}.",
    "Built from {material}, this {adj_noun} is a smart upgrade for {use}.",
)
_FEATURE_EXTRAS: tuple[str, ...] = (
    "Also features {f3}.",
    "Comes with {f3}.",
    "Premium materials throughout, with {f3}.",
    "Thoughtful details include {f3}.",
)
_EXTRAS: tuple[str, ...] = (
    "Perfect for {use3}.",
    "Available in {colour}, with more options in store.",
    "Part of the {brand} {category} collection.",
    "Backed by a {years}-year limited warranty.",
    "Ships in plastic-free, recyclable packaging.",
    "Pairs well with other pieces in the {brand} range.",
    "Easy to clean with a damp cloth.",
)


def _article(word: str) -> str:
    """Return "An" or "A" for the word that follows."""
    return "An" if word[:1].lower() in "aeiou" else "A"


@lru_cache(maxsize=4096)
def _slug(text: str) -> str:
    """Lowercase tag form of a phrase: "Desk Lamp" -> "desk-lamp"."""
    return text.lower().replace(" & ", "-").replace(" ", "-").replace("(", "").replace(")", "")


@lru_cache(maxsize=4096)
def _title(text: str) -> str:
    """Capitalise each word and hyphen part: "FSC-certified wood" -> "FSC-Certified Wood"."""
    return " ".join(
        "-".join(part if part in ("of", "and") else part[:1].upper() + part[1:] for part in word.split("-"))
        for word in text.split()
    )


@lru_cache(maxsize=4096)
def _soft_lower(text: str) -> str:
    """Lowercase a title-cased phrase for running text, keeping acronyms: "LED Lamp" -> "LED lamp"."""
    return " ".join(
        "-".join(part.lower() if part[1:].islower() else part for part in word.split("-"))
        for word in text.split()
    )


def _pick(rand: Callable[[], float], seq: Sequence[_T]) -> _T:
    """Uniform choice driven by ``rand()`` (cheaper than ``Random.choice`` for bulk generation)."""
    return seq[int(rand() * len(seq))]


def _pick_three(rand: Callable[[], float], seq: Sequence[_T]) -> tuple[_T, _T, _T]:
    """Three distinct elements of ``seq`` (which must hold at least three)."""
    n = len(seq)
    i = int(rand() * n)
    j = (i + 1 + int(rand() * (n - 2))) % n
    return seq[i], seq[j], seq[(i + n - 1) % n]


def _price(rand: Callable[[], float], low: float, high: float) -> float:
    """Log-uniform price in [low, high] with retail-style endings, clamped to 3.99..2499.00."""
    raw = low * (high / low) ** rand()
    if raw >= 200:
        value = float(int(raw)) if rand() < 0.5 else int(raw) + 0.99
    else:
        value = int(raw) + _pick(rand, _PRICE_ENDINGS)
    return round(min(max(value, 3.99), 2499.0), 2)


def _spec(rand: Callable[[], float], cat: dict[str, Any]) -> str:
    """One specification sentence (dimensions, capacity, power...) for the category."""
    lo, hi = cat["dims"]
    span = hi - lo + 1
    return str(_pick(rand, cat["specs"])).format(
        w=lo + int(rand() * span),
        d=lo + int(rand() * span),
        h=lo + int(rand() * span),
        kg=round(0.2 + rand() * 25, 1),
        load=60 + 10 * int(rand() * 15),
        ml=_pick(rand, (30, 50, 100, 250, 350, 500, 750, 1000)),
        litres=_pick(rand, (1.5, 2, 5, 10, 20, 35, 50)),
        pages=96 + 8 * int(rand() * 68),
        hours=6 + int(rand() * 55),
        watts=_pick(rand, cat.get("watts", _WATTS)),
        lumens=200 + 50 * int(rand() * 28),
        age=_pick(rand, (3, 5, 8, 10, 12)),
        players=_pick(rand, (4, 5, 6, 8)),
    )


def _make_item(index: int, seed: int) -> dict[str, object]:
    """Build product number ``index`` (1-based) from its own seeded generator."""
    rng = random.Random(seed * 1_000_003 + index)
    rand = rng.random
    cat = _pick(rand, _CATEGORIES)
    brand: str = _pick(rand, cat["brands"])
    noun, low, high = _pick(rand, cat["products"])
    finishes: tuple[str, ...] | None = cat.get("finishes")
    colour: str = (
        _pick(rand, finishes) if finishes else _COLOUR_NAMES[bisect(_COLOUR_CUM, rand() * _COLOUR_CUM[-1])]
    )

    rare = rand() < 0.03
    material_name: str = _pick(rand, _RARE_MATERIALS) if rare else _pick(rand, cat["materials"])
    material = material_name.lower() if rare else material_name
    adj: str = _pick(rand, _GLOBAL_ADJECTIVES) if rand() < 0.22 else _pick(rand, cat["adjectives"])
    if adj.lower() in noun.lower():  # no "Wireless Wireless Earbuds"
        adj = _pick(rand, _GLOBAL_ADJECTIVES)

    # Name: "Brand [Adjective] [Material] [Line] Noun[ Model][, Colour][ (Set of N)]".
    parts = [brand]
    if rand() < 0.6:
        parts.append(adj)
    if rare or (cat["tag"] != "books" and rand() < 0.2):
        parts.append(_title(material_name))
    if rand() < 0.18:
        parts.append(_pick(rand, _LINE_WORDS))
    parts.append(noun)
    if rand() < 0.1:
        number = 100 + 10 * int(rand() * 90)
        parts.append(f"{_pick(rand, _MODEL_LETTERS)}{_pick(rand, _MODEL_LETTERS)}-{number}")
    name = " ".join(parts)
    has_colour = rand() < (0.85 if finishes else 0.72)
    if has_colour:
        name = f"{name}, {colour}"
    price_mult = 1.0
    if "Set of" not in noun and cat["tag"] != "books" and rand() < 0.07:
        pack = _pick(rand, (2, 2, 3, 4, 6))
        name = f"{name} (Set of {pack})"
        price_mult = pack * 0.8

    f1, f2, f3 = _pick_three(rand, cat["features"])
    use, use2, use3 = _pick_three(rand, cat["uses"])
    noun_l = _soft_lower(noun.split(" (")[0])
    adj_l = _soft_lower(adj)
    container = _PLURAL_CONTAINERS.get(noun_l.rsplit(" ", 1)[-1])
    if container:
        noun_phrase = f"{container} of {noun_l}"
        adj_noun = f"{container} of {adj_l} {noun_l}"
    else:
        noun_phrase = noun_l
        adj_noun = f"{adj_l} {noun_l}"
    slots = {
        "A": _article(adj_noun),
        "adj_noun": adj_noun,
        "noun": noun_phrase,
        "material": material,
        "use": use,
        "use2": use2,
        "use3": use3,
        "f1": f1,
        "f2": f2,
        "f3": f3,
        "brand": brand,
        "colour": colour.lower(),
        "category": cat["name"],
        "years": _pick(rand, _WARRANTY_YEARS),
    }
    sentences = [_pick(rand, cat.get("intros", _INTROS)).format(**slots)]
    if rand() < 0.4:
        sentences.append(_pick(rand, _FEATURE_EXTRAS).format(**slots))
    if rand() < 0.45:
        sentences.append(_pick(rand, _EXTRAS).format(**slots))
    if rand() < 0.45:
        sentences.append(_spec(rand, cat))
    description = " ".join(sentences)
    description = description[0].upper() + description[1:]

    cat_tags: tuple[str, ...] = cat["tags"]
    start = int(rand() * len(cat_tags))
    tag_pool = [cat["tag"], _slug(noun_l), *(cat_tags[(start + k) % len(cat_tags)] for k in range(3))]
    if has_colour:
        tag_pool.insert(2, _slug(colour))
    if rare:
        tag_pool.insert(1, _slug(material))
    tags: list[str] = []
    for tag in tag_pool:
        if tag not in tags:
            tags.append(tag)
    del tags[2 + int(rand() * 4) :]

    stock = 0 if rand() < 0.12 else min(500, 1 + int(500 * rand() ** 1.6))
    rating = round(min(5.0, max(1.0, rng.gauss(4.2, 0.55))), 1)
    return {
        "id": f"itm_{index:05d}",
        "name": name,
        "description": description,
        "category": cat["name"],
        "price": _price(rand, low * price_mult, high * price_mult),
        "stock": stock,
        "tags": tags,
        "rating": rating,
    }


def generate_catalog(count: int, seed: int = DEFAULT_SEED) -> list[dict[str, object]]:
    """Return ``count`` products, deterministic in ``(count, seed)`` and prefix-stable in ``count``.

    Ids run ``itm_00001``..; item ``i`` depends only on ``(i, seed)``.
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    return [_make_item(i, seed) for i in range(1, count + 1)]


def dump_catalog(items: list[dict[str, object]]) -> str:
    """Serialise products as a JSON array with one product per line (diff-friendly, UTF-8 text)."""
    lines = (json.dumps(item, ensure_ascii=False, sort_keys=True) for item in items)
    return "[\n" + ",\n".join(lines) + "\n]\n"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: write a generated catalog to a JSON file."""
    parser = argparse.ArgumentParser(description="Generate a deterministic synthetic product catalog.")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="number of products")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument("--out", type=Path, required=True, help="output JSON path")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(dump_catalog(generate_catalog(args.count, args.seed)), encoding="utf-8")
    print(f"wrote {args.count} products to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
