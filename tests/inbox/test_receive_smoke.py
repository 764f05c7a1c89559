import pytest

from voronka.core.models import OutboxEvent
from voronka.inbox.models import Conversation, Message
from voronka.inbox.services import Incoming, receive, register_sender, reply, deliver_due


@pytest.mark.django_db
def test_smoke(admin):
    from voronka.accounts.models import User
    u = admin
    m = receive(Incoming(kind="email", account="mailbox:1", external_id="<1@x>", sender="Ann <ann@x.ru>",
                         name="Ann Lee", email="ann@x.ru", subject="Hi", body_text="Hello", source="E-mail", default_owner_id=u.pk))
    assert m.conversation.lead.email == "ann@x.ru"
    m2 = receive(Incoming(kind="email", account="mailbox:1", external_id="<2@x>", in_reply_to="<1@x>", sender="Ann", email="ann@x.ru", body_text="again"))
    assert m2.conversation_id == m.conversation_id
    assert receive(Incoming(kind="email", account="mailbox:1", external_id="<2@x>")).pk == m2.pk
    assert Conversation.objects.count() == 1 and Message.objects.count() == 2
    assert OutboxEvent.objects.filter(name="message.received").count() == 2
    register_sender("email", lambda msg: "<out@x>")
    r = reply(actor=u, conversation=m.conversation, body_text="Thanks")
    assert deliver_due() == 1
    r.refresh_from_db(); assert r.status == "sent" and r.in_reply_to == "<2@x>"
