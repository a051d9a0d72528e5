"""Fault knobs of the mock gateway: pure parsing and rolling, no I/O.

A fault set is written `name=probability[:value],...`, e.g.
`latency=0.5:800,decline=0.2:51,ipn_late=1:3,ipn_duplicate=0.5,ipn_never=0.1`. It comes from the
`GATEWAY_FAULTS` setting and, per payment, from the pay-URL request's `X-Gateway-Faults` header,
which overrides the setting knob by knob (`name=0` turns a configured knob off). Each knob is
rolled independently with the app's seeded `random.Random`, so a run is reproducible.

Knobs (value and its default, then effect):
- `latency` (milliseconds, 500): pay page, pay, simulate and API answer that much later;
- `decline` (a response code, 51): a successful payment is declined with that code;
- `ipn_late` (seconds, 5): the IPN leaves that much later;
- `ipn_duplicate`: the IPN is delivered twice, concurrently;
- `ipn_before_return`: the IPN completes before the payer's 302 is sent (by default the IPN
  runs concurrently with the redirect, so it may arrive before or after it);
- `ipn_never`: no IPN at all, the merchant must reconcile with `querydr`;
- `error`: pay, simulate and the API answer 502 and change nothing;
- `timeout` (seconds, 30): sleep that long (at most GATEWAY_TIMEOUT_MAX_SECONDS), then answer
  504 and change nothing.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

from app.core import vnpay

FAULT_HEADER = "X-Gateway-Faults"


@dataclass(frozen=True)
class Knob:
    default: str | None  # the value when none is given; None: the knob takes no value
    kind: str  # "float" (a non-negative number), "code" (a decline code) or "none"


KNOBS: Mapping[str, Knob] = {
    "latency": Knob("500", "float"),
    "decline": Knob("51", "code"),
    "ipn_late": Knob("5", "float"),
    "ipn_duplicate": Knob(None, "none"),
    "ipn_before_return": Knob(None, "none"),
    "ipn_never": Knob(None, "none"),
    "error": Knob(None, "none"),
    "timeout": Knob("30", "float"),
}
DECLINE_CODES = frozenset(code for code in vnpay.PAYMENT_RESPONSES if code != "00")


class FaultSyntaxError(ValueError):
    """A fault set that cannot be parsed: unknown knob, bad probability or value."""


@dataclass(frozen=True)
class Fault:
    probability: float
    value: str | None = None

    @property
    def number(self) -> float:
        return float(self.value or 0)


Faults = dict[str, Fault]


def parse_faults(text: str | None) -> Faults:
    """`latency=0.5:800,ipn_never=1` → {"latency": Fault(0.5, "800"), "ipn_never": Fault(1)}."""
    faults: Faults = {}
    for raw in (text or "").split(","):
        item = raw.strip()
        if not item:
            continue
        name, sep, rest = item.partition("=")
        name = name.strip()
        if name not in KNOBS:
            known = ", ".join(KNOBS)
            raise FaultSyntaxError(f"unknown fault knob {name!r} (known: {known})")
        if not sep:
            raise FaultSyntaxError(f"{name}: expected {name}=probability[:value]")
        probability_text, _, value_text = rest.partition(":")
        try:
            probability = float(probability_text)
        except ValueError:
            raise FaultSyntaxError(f"{name}: {probability_text!r} is not a probability") from None
        if not 0.0 <= probability <= 1.0:
            raise FaultSyntaxError(f"{name}: probability {probability} is outside [0, 1]")
        faults[name] = Fault(probability, _value(name, value_text.strip() or None))
    return faults


def _value(name: str, value: str | None) -> str | None:
    knob = KNOBS[name]
    if knob.kind == "none":
        if value is not None:
            raise FaultSyntaxError(f"{name} takes no value")
        return None
    value = value or knob.default
    assert value is not None
    if knob.kind == "code":
        if value not in DECLINE_CODES:
            raise FaultSyntaxError(f"{name}: {value!r} is not a decline code")
        return value
    try:
        number = float(value)
    except ValueError:
        raise FaultSyntaxError(f"{name}: {value!r} is not a number") from None
    if number < 0 or number != number:
        raise FaultSyntaxError(f"{name}: {value!r} must be a non-negative number")
    return value


def merge(base: Faults, override: Faults) -> Faults:
    """The knobs in force: the base set, each knob the override names replaced."""
    return {**base, **override}


def to_json(faults: Faults) -> dict[str, dict[str, float | str | None]]:
    return {name: {"p": f.probability, "value": f.value} for name, f in faults.items()}


def from_json(data: Mapping[str, Mapping[str, object]] | None) -> Faults:
    faults: Faults = {}
    for name, item in (data or {}).items():
        if name in KNOBS:
            value = item.get("value")
            probability = item.get("p", 0)
            faults[name] = Fault(
                float(probability) if isinstance(probability, int | float) else 0.0,
                None if value is None else str(value),
            )
    return faults


class FaultRoller:
    """Rolls knobs with one seeded generator (one per app)."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def fires(self, faults: Faults, name: str) -> Fault | None:
        """The knob if it fires this time, else None. A probability of 0 never draws, so a set
        of zero knobs leaves the sequence (and thus the run) exactly as without them."""
        fault = faults.get(name)
        if fault is None or fault.probability <= 0:
            return None
        if fault.probability >= 1 or self._random.random() < fault.probability:
            return fault
        return None
