"""The wire server's engines (mysocial.mongoserver) keep MongoDB's `_id` rules without full scans."""
from __future__ import annotations

import pytest
from bson import ObjectId
from pymongo.errors import DuplicateKeyError


@pytest.mark.parametrize("engine", ["memory", "sqlite"])
def test_ids_stay_unique_and_upserts_insert(engine, tmp_path):
    from pymongo import MongoClient

    from mysocial.mongoserver import MongoServer

    with MongoServer(engine, tmp_path / "db.sqlite" if engine == "sqlite" else None) as server:
        coll = MongoClient(server.url)["t"]["c"]
        taken = ObjectId()
        coll.insert_one({"_id": taken, "n": 1})
        with pytest.raises(DuplicateKeyError):
            coll.insert_one({"_id": taken, "n": 2})
        coll.insert_one({"_id": "text", "n": 1})
        with pytest.raises(DuplicateKeyError):
            coll.insert_one({"_id": "text", "n": 2})
        coll.insert_one({"_id": 1, "n": 1})
        with pytest.raises(DuplicateKeyError):  # numbers still compare by value
            coll.insert_one({"_id": 1.0, "n": 2})
        assert coll.find_one({"_id": ObjectId()}) is None
        fresh = ObjectId()
        coll.replace_one({"_id": fresh, "v": {"$not": {"$gte": 3}}}, {"n": 3}, upsert=True)
        assert coll.find_one({"_id": fresh})["n"] == 3
        with pytest.raises(DuplicateKeyError):  # the guard misses a newer document: the upsert's insert is refused
            coll.replace_one({"_id": taken, "n": {"$gte": 5}}, {"n": 0}, upsert=True)
        assert sorted(d["n"] for d in coll.find()) == [1, 1, 1, 3]
