"""`mysocial seed` makes its data through the API; the workers persist all of it."""
from __future__ import annotations

import io

from mysocial import seed
from mysocial.core.writepath import PENDING


async def test_seed_creates_a_connected_data_set(settings, db, r, drain):
    plan = seed.Plan(users=6, posts=2, follows=3, reactions=10, comments=8, messages=6, seed=7)
    out = io.StringIO()
    async with seed.local_api(settings) as base:
        made = await seed.run(base, plan, out=out)
    assert made["users"] == 6 and made["posts"] == 12 and made["messages"] == 6
    assert made["reactions"] == 10 and made["comments"] == 8 and 0 < made["follows"] <= 18
    total = 6 * (1 + 2 + 3) + 10 + 8 + 6
    assert out.getvalue().rstrip().endswith(f"] {total}/{total} messages"), "the progress bar reached the end"
    await drain()
    assert r.hlen(PENDING) == 0
    assert db["users"].count_documents({}) == 6
    assert db["posts"].count_documents({"_deleted": {"$ne": True}}) == 12
    assert db["messages"].count_documents({}) == 6
    assert db["comments"].count_documents({"_deleted": {"$ne": True}}) == 8
    assert db["follows"].count_documents({"_deleted": {"$ne": True}}) == made["follows"]
    assert 0 < db["reactions"].count_documents({"_deleted": {"$ne": True}}) <= 10
