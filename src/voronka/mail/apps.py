from django.apps import AppConfig


class MailConfig(AppConfig):
    """The e-mail channel: mailboxes read over IMAP by a periodic job, replies sent over SMTP
    as the inbox's sender for e-mail conversations."""

    name = "voronka.mail"
    label = "mail"
    verbose_name = "Mail"

    def ready(self) -> None:
        from voronka.core import periodic
        from voronka.inbox.services import register_sender
        from voronka.mail.sending import send_reply
        from voronka.mail.sync import poll_due

        register_sender("email", send_reply)
        periodic.register("mail.poll", 30.0, poll_due)
