"""Fault knobs of the mock gateway; the grammar and the seeded roller are shared with the
portal (app/core/faults.py). Pure, no I/O.

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

from collections.abc import Mapping

from app.core import vnpay
from app.core.faults import Fault, FaultRoller, Faults, FaultSyntaxError, Knob, merge, parse_knobs

__all__ = [
    "DECLINE_CODES",
    "FAULT_HEADER",
    "KNOBS",
    "Fault",
    "FaultRoller",
    "FaultSyntaxError",
    "Faults",
    "from_json",
    "merge",
    "parse_faults",
    "to_json",
]

FAULT_HEADER = "X-Gateway-Faults"
DECLINE_CODES = frozenset(code for code in vnpay.PAYMENT_RESPONSES if code != "00")

KNOBS: Mapping[str, Knob] = {
    "latency": Knob("500"),
    "decline": Knob("51", DECLINE_CODES, "a decline code"),
    "ipn_late": Knob("5"),
    "ipn_duplicate": Knob(None),
    "ipn_before_return": Knob(None),
    "ipn_never": Knob(None),
    "error": Knob(None),
    "timeout": Knob("30"),
}


def parse_faults(text: str | None) -> Faults:
    """`latency=0.5:800,ipn_never=1` → {"latency": Fault(0.5, "800"), "ipn_never": Fault(1)}."""
    return parse_knobs(text, KNOBS)


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
