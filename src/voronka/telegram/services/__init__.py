"""Every write of the Telegram channel: bots (:mod:`.bots`), what they receive
(:mod:`.updates`) and the replies they send (:mod:`.replies`)."""

from voronka.telegram.services.bots import (
    CheckResult,
    bot_check,
    bot_connect,
    bot_delete,
    bot_disconnect,
    bot_update,
    webhook_url,
)
from voronka.telegram.services.replies import send_reply
from voronka.telegram.services.updates import (
    poll_bot,
    process_pending,
    retry_stuck,
    run_due,
    update_accept,
)

__all__ = [
    "CheckResult",
    "bot_check",
    "bot_connect",
    "bot_delete",
    "bot_disconnect",
    "bot_update",
    "poll_bot",
    "process_pending",
    "retry_stuck",
    "run_due",
    "send_reply",
    "update_accept",
    "webhook_url",
]
