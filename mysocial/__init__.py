"""MySocial: a cache-first, write-behind social network back end."""
