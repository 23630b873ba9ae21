"""Computing resources of a training: what a client asks for, what a machine has, and where
a training is placed (no aiohttp in here)."""
