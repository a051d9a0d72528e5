"""Ten back-office clients syncing overlapping batches at once: the same dossiers, the same
items resent, in different orders. Meant for PostgreSQL, where the batches really overlap in
the database and the per-dossier advisory locks serialise them; on SQLite they pass too,
serialised by its write lock.

The oracle is one sequential, in-order delivery of the same items to a fresh set of dossier
codes on the next day: every dossier must end in the same state with the same timeline, and
every distinct item must have been taken exactly once."""

from __future__ import annotations

import asyncio
import json
import random
from collections import Counter
from datetime import datetime
from typing import Any

from httpx import AsyncClient

from app.core.config import Settings
from tests.support.clock import ManualClock
from tests.support.factories import new_pin, receiving_pair, vn_time
from tests.support.sync import (
    ACCEPTED,
    PROCESSING,
    RECORDS,
    RESOLVED,
    RETURNED,
    STEPS,
    SUBMITTED,
    SUPPLEMENT,
    BackOffice,
    back_office,
    back_office_code,
    dossier_of,
    events_of,
    outcomes,
    owner_of,
    record,
    state_of,
    step,
    sync_stats,
    timeline,
    with_code,
)

CLIENTS = 10
FEES, WITHDRAWAL, STOPPED = 6, 7, 8
Item = dict[str, Any]


def histories(procedure: str, owners: list[str]) -> tuple[list[Item], list[Item], dict[str, int]]:
    """Six dossiers' records and steps, addressed to the placeholder codes d0..d5, and the
    status each ends at."""
    mon = vn_time(2026, 3, 2, 8)

    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return vn_time(2026, 3, day, hour, minute)

    def submitted(code: str, owner: str) -> Item:
        return record(code, procedure, owner, status=SUBMITTED, submitted=mon)

    d0, d1, d2, d3, d4, d5 = owners
    records = [
        submitted("d0", d0),
        record(
            "d1",
            procedure,
            d1,
            status=PROCESSING,
            submitted=mon,
            accepted=at(2, 9),
            claimed_due=at(6, 17),
        ),
        submitted("d2", d2),
        # Two snapshots of one dossier: submitted, then accepted.
        submitted("d3", d3),
        record(
            "d3",
            procedure,
            d3,
            status=PROCESSING,
            submitted=mon,
            accepted=at(2, 13, 30),
            claimed_due=at(9, 13, 30),
        ),
        record(
            "d4",
            procedure,
            d4,
            status=RETURNED,
            submitted=mon,
            accepted=at(2, 8, 30),
            supplements=[(at(3, 9), at(4, 9))],
            finished=at(6, 9),
            returned=at(6, 14),
        ),
        submitted("d5", d5),
    ]
    steps = [
        step("d0", ACCEPTED, at(2, 8, 15)),
        step("d0", PROCESSING, at(2, 8, 20)),
        step("d0", SUPPLEMENT, at(3, 10)),
        step("d0", PROCESSING, at(5, 14)),
        step("d0", RESOLVED, at(10, 9)),
        step("d0", RETURNED, at(11, 10)),
        step("d1", RESOLVED, at(6, 10)),
        step("d1", RETURNED, at(9, 8)),
        step("d2", ACCEPTED, at(2, 10)),
        step("d2", PROCESSING, at(2, 10)),
        step("d2", SUPPLEMENT, at(4, 9)),
        step("d2", STOPPED, at(16, 9)),
        step("d3", FEES, at(3, 9)),
        step("d3", PROCESSING, at(4, 11)),
        step("d3", RESOLVED, at(5, 15)),
        # Another officer's note while processing, reported after the result was returned.
        step("d4", PROCESSING, at(5, 10), NoiDungXuLy="thẩm định hồ sơ"),
        step("d5", ACCEPTED, at(2, 14)),
        step("d5", PROCESSING, at(2, 14, 5)),
        step("d5", WITHDRAWAL, at(5, 9)),
        step("d5", STOPPED, at(6, 9)),
    ]
    final = {"d0": RETURNED, "d1": RETURNED, "d2": STOPPED, "d3": RESOLVED, "d4": RETURNED}
    return records, steps, final | {"d5": STOPPED}


def key(service: str, item: Item) -> str:
    return json.dumps([service, item], sort_keys=True, ensure_ascii=False)


def client_calls(
    rng: random.Random, index: int, records: list[Item], steps: list[Item]
) -> list[tuple[str, list[Item]]]:
    """One client's calls: every record (a dossier must exist before its steps can be taken),
    shuffled with some resent, then a share of the steps in a few scrambled batches. Step j is
    always in client j % CLIENTS's share, so that together the clients deliver every step."""
    own_records = records + rng.choices(records, k=3)
    rng.shuffle(own_records)
    share = [s for j, s in enumerate(steps) if j % CLIENTS == index or rng.random() < 0.5]
    share += rng.choices(steps, k=4)
    rng.shuffle(share)
    cuts = sorted(rng.sample(range(1, len(share)), k=2))
    batches = [share[: cuts[0]], share[cuts[0] : cuts[1]], share[cuts[1] :]]
    return [(RECORDS, own_records)] + [(STEPS, batch) for batch in batches]


async def run_client(
    office: BackOffice, calls: list[tuple[str, list[Item]]]
) -> list[tuple[str, Item, dict[str, Any]]]:
    """Post the calls in turn; each item with its result."""
    answered = []
    for service, batch in calls:
        reply = await office.send(service, batch)
        answered += [
            (service, item, result) for item, result in zip(batch, reply["results"], strict=True)
        ]
    return answered


async def test_ten_clients_syncing_overlapping_batches_end_as_one_sequential_delivery(
    client: AsyncClient, settings: Settings, clock: ManualClock
) -> None:
    procedure, agency = await receiving_pair(client, processing_time=5)
    owners = [new_pin() for _ in range(6)]
    records, steps, final = histories(procedure["code"], owners)
    placeholders = [f"d{i}" for i in range(6)]
    concurrent = {p: back_office_code(agency["code"]) for p in placeholders}
    sequential = {p: back_office_code(agency["code"]) for p in placeholders}
    rng = random.Random(20260303)
    calls = [
        client_calls(rng, i, with_code(records, concurrent), with_code(steps, concurrent))
        for i in range(CLIENTS)
    ]
    offices = [await back_office(client, settings, agency["code"]) for _ in range(CLIENTS)]

    answers = await asyncio.gather(
        *(run_client(office, own) for office, own in zip(offices, calls, strict=True))
    )

    # Every distinct item was taken exactly once; every resend of it was a duplicate.
    taken: Counter[str] = Counter()
    sent = 0
    for service, item, result in (answer for own in answers for answer in own):
        sent += 1
        assert result["error_code"] in (0, 13), (item, result)
        if result["result"] != "duplicate":
            taken[key(service, item)] += 1
    distinct = {key(RECORDS, r) for r in with_code(records, concurrent)} | {
        key(STEPS, s) for s in with_code(steps, concurrent)
    }
    assert set(taken) == distinct
    assert set(taken.values()) == {1}

    # The oracle: the same items in order, one call for the records, then one per step.
    clock.set(vn_time(2026, 3, 4, 9))
    oracle = offices[0]
    in_order = await oracle.records(*with_code(records, sequential))
    # One record opened each dossier; the others of the same dossier were applied to it.
    assert Counter(result for _, _, result in outcomes(in_order)) == {
        "created": len(placeholders),
        "applied": len(records) - len(placeholders),
    }
    for item in sorted(with_code(steps, sequential), key=lambda s: s["ThoiDiemXuLy"]):
        reply = await oracle.steps(item)
        assert reply["results"][0]["error_code"] == 0, reply

    for placeholder, owner_pin in zip(placeholders, owners, strict=True):
        owner = await owner_of(client, owner_pin)
        listing = await client.get("/api/v1/dossiers", headers=owner.headers)
        assert sorted(d["code"] for d in listing.json()["items"]) == sorted(
            [concurrent[placeholder], sequential[placeholder]]
        )
        got = await dossier_of(client, owner, concurrent[placeholder])
        expected = await dossier_of(client, owner, sequential[placeholder])
        assert state_of(got) == state_of(expected), placeholder
        assert got["status"] == final[placeholder], placeholder
        assert timeline(await events_of(client, owner, concurrent[placeholder])) == timeline(
            await events_of(client, owner, sequential[placeholder])
        ), placeholder
        assert all(
            applied
            for _, _, applied in timeline(await events_of(client, owner, concurrent[placeholder]))
        ), placeholder

    by_day = {row["day"]: row for row in await sync_stats(client, agency["code"])}
    assert set(by_day) == {"2026-03-03", "2026-03-04"}
    racing, ordered = by_day["2026-03-03"], by_day["2026-03-04"]
    assert racing["items"] == sent
    assert racing["created"] == len(placeholders)
    assert racing["duplicates"] == sent - len(distinct)
    assert ordered["items"] == len(distinct)
    assert ordered["created"] == len(placeholders)
    assert (ordered["duplicates"], ordered["refused"]) == (0, 0)
    # The one disagreeing claim (d1: Friday, the portal says Monday) is counted once a day.
    assert racing["due_disagreements"] == ordered["due_disagreements"] == 1
