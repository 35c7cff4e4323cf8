"""`python -m examples.portal`: serve the example portal on localhost:5001."""

import os

from .app import create_portal
from .users import DEMO_PASSWORDS, DEMO_USERS

if __name__ == "__main__":
    port = int(os.environ.get("PORTAL_PORT", "5001"))
    portal = create_portal()
    print(f"\nExample portal: http://localhost:{port}/  (sign in as)")
    for user in DEMO_USERS.values():
        limit = f", {len(user.clients)} clients only" if user.clients else ""
        print(
            f"  {user.email:24} {DEMO_PASSWORDS[user.email]:22} "
            f"tenant {user.tenant}, {user.role}{limit}"
        )
    print(f"Invoice Manager: {portal.config['INVOICE_MANAGER_URL']}\n", flush=True)
    # localhost, while the app is on 127.0.0.1: two sites, as in production.
    portal.run(host="localhost", port=port)
