"""Follow answers (the follow routes take no body)."""
from __future__ import annotations

from marshmallow import fields

from mysocial.core.answers import Out, answer, count, many, text
from mysocial.users.schemas import PublicUserDoc


class FollowerCard(Out):
    _id = text()
    username = text()
    avatarColor = text()
    postCount = count()
    followersCount = count()
    followingCount = count()
    profilePicture = text()
    uId = text()
    userProfile = fields.Nested(PublicUserDoc, required=True)
    blocked = fields.Boolean(metadata={"description": "in the owner's own followers list: a user the owner blocked"})


FollowersAnswer = answer("FollowersAnswer", followers=many(FollowerCard))
FollowingAnswer = answer("FollowingAnswer", following=many(FollowerCard))
