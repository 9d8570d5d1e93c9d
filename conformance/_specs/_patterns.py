"""Unicode property classes in `pattern` (`\\p{L}`, `\\p{P}`, ...), honoured the same way by every consumer.

ECMA-262 (the dialect JSON Schema's `pattern` uses) knows `\\p{L}`; Python's `re` (jsonschema,
Hypothesis' `from_regex`, hence Schemathesis) does not, while the Rust engine behind jsonschema_rs
does. Left as they are, the mock would accept what the checks call malformed and the strategies could
not generate at all. So the loader rewrites each class once into the explicit code-point ranges of
that Unicode general category, which every engine reads alike; the original text is kept for
messages. A pattern that still does not compile is not refused: it is dropped from the schema (so
nothing judges by it) and reported as a finding at its full location.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from functools import cache

_CATEGORY_NAMES = {
    "Letter": "L", "Cased_Letter": "LC", "Uppercase_Letter": "Lu", "Lowercase_Letter": "Ll",
    "Titlecase_Letter": "Lt", "Modifier_Letter": "Lm", "Other_Letter": "Lo", "Mark": "M", "Nonspacing_Mark": "Mn",
    "Spacing_Mark": "Mc", "Enclosing_Mark": "Me", "Number": "N", "Decimal_Number": "Nd", "Letter_Number": "Nl",
    "Other_Number": "No", "Punctuation": "P", "Connector_Punctuation": "Pc", "Dash_Punctuation": "Pd",
    "Open_Punctuation": "Ps", "Close_Punctuation": "Pe", "Initial_Punctuation": "Pi", "Final_Punctuation": "Pf",
    "Other_Punctuation": "Po", "Symbol": "S", "Math_Symbol": "Sm", "Currency_Symbol": "Sc",
    "Modifier_Symbol": "Sk", "Other_Symbol": "So", "Separator": "Z", "Space_Separator": "Zs",
    "Line_Separator": "Zl", "Paragraph_Separator": "Zp", "Other": "C", "Control": "Cc", "Format": "Cf",
    "Private_Use": "Co", "Unassigned": "Cn",
}
_PROPERTY = re.compile(r"\\([pP])\{([A-Za-z_&=]+)\}")


class PatternError(ValueError):
    """A pattern no engine here can use."""


@cache
def _categories() -> dict[str, list[tuple[int, int]]]:
    """Code-point ranges of every two-letter general category (surrogates left out: JSON text cannot hold them)."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    current, start = None, 0
    for code in range(sys.maxunicode + 1):
        category = "Cs" if 0xD800 <= code <= 0xDFFF else unicodedata.category(chr(code))
        if category != current:
            if current is not None:
                ranges.setdefault(current, []).append((start, code - 1))
            current, start = category, code
    ranges.setdefault(current or "Cn", []).append((start, sys.maxunicode))
    return ranges


@cache
def category_ranges(name: str) -> tuple[tuple[int, int], ...]:
    """Merged code-point ranges of a general category ("L", "Lu", "Letter", "L&"); PatternError if unknown."""
    short = _CATEGORY_NAMES.get(name, name)
    if short in ("L&", "LC"):
        wanted = ["Lu", "Ll", "Lt"]
    elif len(short) == 1 and short.isupper():
        wanted = [key for key in _categories() if key[0] == short and key != "Cs"]
    elif len(short) == 2 and short in _categories() and short != "Cs":
        wanted = [short]
    else:
        raise PatternError(f"unknown Unicode property \\p{{{name}}}")
    merged: list[tuple[int, int]] = []
    for low, high in sorted(r for key in wanted for r in _categories()[key]):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
        else:
            merged.append((low, high))
    return tuple(merged)


def _char(code: int) -> str:
    if code < 0x80 and chr(code).isalnum():
        return chr(code)
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def _ranges_text(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(_char(low) if low == high else f"{_char(low)}-{_char(high)}" for low, high in ranges)


def _complement(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    result, next_low = [], 0
    for low, high in ranges:
        if low > next_low:
            result.append((next_low, low - 1))
        next_low = high + 1
    if next_low <= sys.maxunicode:
        result.append((next_low, sys.maxunicode))
    return tuple((low, high) for low, high in result if not (low >= 0xD800 and high <= 0xDFFF))


def has_properties(pattern: str) -> bool:
    return "\\p{" in pattern or "\\P{" in pattern


def translate(pattern: str) -> str:
    """The pattern with every `\\p{X}`/`\\P{X}` as explicit ranges; PatternError when that cannot be done."""
    if not has_properties(pattern):
        return pattern
    out: list[str] = []
    index, in_class = 0, False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            match = _PROPERTY.match(pattern, index)
            if match:
                negated = match.group(1) == "P"
                ranges = category_ranges(match.group(2).split("=")[-1])
                if negated and in_class:
                    raise PatternError(f"{match.group(0)} inside a [...] class cannot be rewritten")
                text = _ranges_text(_complement(ranges) if negated else ranges)
                out.append(text if in_class else f"[{text}]")
                index = match.end()
                continue
            out.append(pattern[index:index + 2])
            index += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            if pattern[index + 1:index + 2] == "^":
                out.append("^")
                index += 1
            if pattern[index + 1:index + 2] == "]":  # a leading "]" is a literal
                out.append("\\]")
                index += 1
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
        else:
            out.append(char)
        index += 1
    return "".join(out)


def compile_check(pattern: str) -> None:
    """PatternError unless Python's engine (the strictest consumer here) compiles the pattern."""
    try:
        re.compile(pattern)
    except re.error as exc:
        raise PatternError(str(exc)) from None
