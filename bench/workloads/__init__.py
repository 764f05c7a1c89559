"""The workloads of the issue, W1–W8. Each module's ``run`` returns report rows."""

from __future__ import annotations

WORKLOADS: dict[str, str] = {
    "W1": "Contact list: filter + sort + a page of 50, and the keyset next page",
    "W2": "Global search: name, e-mail, phone digits, phone as typed",
    "W3": "Import of a contact file",
    "W4": "REST API over HTTP: creates and list pages",
    "W5": "Sales funnel report and the kanban board's first screen",
    "W6": "Automation rules on events",
    "W7": "Mixed users at growing concurrency",
    "W8": "Export of all visible contacts to CSV",
}
# Workloads whose feature does not exist yet, with the reason (none left).
NOT_YET_BUILT: dict[str, str] = {}
