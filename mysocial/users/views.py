"""What of a user document others see.

The owner gets the whole document (`/currentuser`, `/user/profile`, and any read of their own
id). Everyone else gets PUBLIC: what a client renders of another person. Left out: `authId` (an
internal id), `blocked` and `blockedBy` (whom they block, who blocks them), `notifications`
(their settings) and `email` — which the contract keeps only in search results and in posts.
"""
from __future__ import annotations

PUBLIC = ("_id", "uId", "username", "avatarColor", "profilePicture", "postsCount", "followersCount",
          "followingCount", "social", "work", "school", "quote", "location", "bgImageVersion", "bgImageId",
          "createdAt")


def public(user: dict) -> dict:
    return {name: user[name] for name in PUBLIC if name in user}


def for_reader(user: dict, reader: str) -> dict:
    """The whole document for its owner, the public projection for anyone else."""
    return user if user.get("_id") == reader else public(user)
