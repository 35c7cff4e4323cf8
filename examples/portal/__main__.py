"""`python -m examples.portal`: serve the example portal on localhost:5001."""

import os

from .app import create_portal

if __name__ == "__main__":
    port = int(os.environ.get("PORTAL_PORT", "5001"))
    # localhost, while the app is on 127.0.0.1: two sites, as in production.
    create_portal().run(host="localhost", port=port)
