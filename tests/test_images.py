"""Images: profile picture, background, gallery, deletes; user fields through the write path; events."""
from __future__ import annotations

from pathlib import Path

import pytest
from bson import ObjectId

from tests.conftest import PNG, redis_state, settle
from tests.posts_helpers import block, call, mongo_state, users

LIVE = {"_deleted": {"$ne": True}}


async def me(client, user) -> dict:
    return (await call(client, "GET", "/user/profile", user))["user"]


async def test_profile_picture(client, settings, db, drain, instances, sockets):
    alice, bob, eve = await users(client, "alice", "bobby", "evely")
    await block(client, eve, alice)
    (api,) = await instances(1)
    watchers = {u.name: await sockets(api.url, token=u.token, user_id=u.id) for u in (alice, bob, eve)}
    body = await call(client, "POST", "/images/profile", alice, json={"image": PNG})
    assert body["message"] == "Image added successfully"
    image = body["image"]
    user = await me(client, alice)
    assert user["profilePicture"].endswith(f"/media/{image['imgId']}.png")
    assert (Path(settings.media_dir) / f"{image['imgId']}.png").exists()
    gallery = await call(client, "GET", f"/images/{alice.id}", bob)
    assert gallery == {"message": "User images", "images": [image]}
    assert {k: image[k] for k in ("userId", "bgImageId", "bgImageVersion")} == {
        "userId": alice.id, "bgImageId": "", "bgImageVersion": ""} and image["imgVersion"]

    for name in ("Alice", "Bobby"):
        event = await watchers[name].wait_for("update user", lambda d: d["_id"] == alice.id)
        assert event["profilePicture"] == user["profilePicture"]
    await settle(settings, *watchers.values())
    assert watchers["Evely"].received("update user") == [], "not to a user in a block with alice"

    await drain()
    assert db["users"].find_one({"_id": ObjectId(alice.id)})["profilePicture"] == user["profilePicture"]
    stored = db["images"].find_one({"_id": ObjectId(image["_id"])})
    assert stored["imgId"] == image["imgId"] and str(stored["userId"]) == alice.id


async def test_background_image_set_and_deleted(client, db, drain):
    alice, bob = await users(client, "alice", "bobby")
    image = (await call(client, "POST", "/images/background", alice, json={"image": PNG}))["image"]
    user = await me(client, alice)
    assert (user["bgImageId"], user["bgImageVersion"]) == (image["bgImageId"], image["bgImageVersion"])
    assert image["bgImageId"] and image["imgId"] == ""
    await drain()
    assert db["users"].find_one({"_id": ObjectId(alice.id)})["bgImageId"] == image["bgImageId"]

    await call(client, "DELETE", f"/images/background/{image['bgImageId']}", bob, 404)
    body = await call(client, "DELETE", f"/images/background/{image['bgImageId']}", alice)
    assert body["message"] == "Image deleted successfully"
    user = await me(client, alice)
    assert (user["bgImageId"], user["bgImageVersion"]) == ("", "")
    assert (await call(client, "GET", f"/images/{alice.id}", alice))["images"] == []
    await drain()
    assert db["users"].find_one({"_id": ObjectId(alice.id)})["bgImageId"] == ""
    assert db["images"].find_one({"_id": ObjectId(image["_id"]), **LIVE}) is None


async def test_delete_image(client, settings, db, r, drain, instances, sockets):
    alice, bob = await users(client, "alice", "bobby")
    old = (await call(client, "POST", "/images/profile", alice, json={"image": PNG}))["image"]
    new = (await call(client, "POST", "/images/profile", alice, json={"image": PNG}))["image"]
    assert [i["_id"] for i in (await call(client, "GET", f"/images/{alice.id}", bob))["images"]] == [new["_id"], old["_id"]]
    await drain()
    before, mongo_before = redis_state(r), mongo_state(db)
    assert (await call(client, "DELETE", f"/images/{old['_id']}", bob, 403))["message"] == \
        "You can only delete your own images"
    assert redis_state(r) == before

    (api,) = await instances(1)
    watcher = await sockets(api.url, token=bob.token, user_id=bob.id)
    assert (await call(client, "DELETE", f"/images/{old['_id']}", alice))["message"] == "Image deleted successfully"
    assert await watcher.wait_for("delete image") == old["_id"]
    assert [i["_id"] for i in (await call(client, "GET", f"/images/{alice.id}", bob))["images"]] == [new["_id"]]
    await call(client, "DELETE", f"/images/{old['_id']}", alice, 404)
    await drain()
    assert db["images"].find_one({"_id": ObjectId(old["_id"]), **LIVE}) is None
    assert db["images"].find_one({"_id": ObjectId(new["_id"]), **LIVE}) is not None
    assert mongo_before != mongo_state(db)


async def test_gallery_is_hidden_across_a_block(client, settings):
    alice, bob = await users(client, "alice", "bobby")
    await call(client, "POST", "/images/profile", alice, json={"image": PNG})
    await block(client, alice, bob)
    body = await call(client, "GET", f"/images/{alice.id}", bob, 404)
    assert body["message"] == "User not found", "the one rule of every profile read"
    assert len((await call(client, "GET", f"/images/{alice.id}", alice))["images"]) == 1


BAD = [
    ("POST", "/images/profile", {}, 400, '"image" is required'),
    ("POST", "/images/profile", {"image": ""}, 400, '"image" is not allowed to be empty'),
    ("POST", "/images/profile", {"image": None}, 400, '"image" must be a string'),
    ("POST", "/images/profile", {"image": "data:video/mp4;base64,AAAA"}, 400, "File upload: Error occurred. Try again."),
    ("POST", "/images/background", {"image": "nope"}, 400, "File upload: Error occurred. Try again."),
    ("GET", "/images/bad", None, 400, "Invalid user id"),
    ("GET", f"/images/{ObjectId()}", None, 404, "User not found"),
    ("DELETE", "/images/bad", None, 400, "Invalid image id"),
    ("DELETE", f"/images/{ObjectId()}", None, 404, "Image not found"),
    ("DELETE", "/images/background/unknown", None, 404, "Image not found"),
    ("DELETE", "/images/background/" + "x" * 129, None, 400, "Invalid image id"),
]


@pytest.mark.parametrize("method, path, body, status, message", BAD)
async def test_bad_image_requests_write_nothing(client, settings, db, r, drain, method, path, body, status, message):
    (alice,) = await users(client, "alice")
    await call(client, "GET", f"/images/{alice.id}", alice)
    await drain()
    before, mongo_before = redis_state(r), mongo_state(db)
    answer = await call(client, method, path, alice, status, json=body)
    assert answer["message"] == message
    assert redis_state(r) == before
    await drain()
    assert mongo_state(db) == mongo_before
    assert {p.stem for p in Path(settings.media_dir).iterdir()} == {alice.id}
