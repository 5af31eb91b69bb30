"""The drawing page and the HTTP API (``inkmath serve``); FastAPI is imported only here, never by ``import inkmath``."""
