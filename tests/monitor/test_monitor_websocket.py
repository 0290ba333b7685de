"""The monitor's websocket, at the websocket level: who sees which requests, who may cancel.

Requests are played by usage meters created in this process (what the /v1 view does), so the
board, the in-memory channel layer and the consumer all run here.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import Tenant, TenantMembership
from monitor.monitor_consumer import FORBIDDEN, UNAUTHENTICATED, MonitorConsumer
from oarlock.asgi import application
from paddler_protocol.paddler_message import ContentToken, PaddlerLine, ReasoningToken
from usage.usage_meter import UsageMeter

pytestmark = pytest.mark.django_db(transaction=True)


def _people() -> dict[str, Any]:
    tenant_a = Tenant.objects.create(name="tenant-a")
    tenant_b = Tenant.objects.create(name="tenant-b")
    people = {
        "alice": User.objects.create_user("alice"),  # member of A
        "adam": User.objects.create_user("adam"),  # admin of A
        "bob": User.objects.create_user("bob"),  # member of B
        "nobody": User.objects.create_user("nobody"),  # no tenant
        "root": User.objects.create_user("root", is_staff=True),
    }
    TenantMembership.objects.create(user=people["alice"], tenant=tenant_a)
    TenantMembership.objects.create(user=people["adam"], tenant=tenant_a, role="admin")
    TenantMembership.objects.create(user=people["bob"], tenant=tenant_b)
    return {**people, "a": tenant_a, "b": tenant_b}


async def _connect(user: User) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(MonitorConsumer.as_asgi(), "/ws/monitor/")
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    hello = await communicator.receive_json_from()
    assert hello["type"] == "hello"
    return communicator


def _meter(request_id: str, tenant: Tenant, owner: User | None) -> UsageMeter:
    meter = UsageMeter(
        request_id=request_id,
        endpoint="chat.completions",
        tenant_id=tenant.pk,
        api_key_id=1,
        tenant_name=tenant.name,
        key_prefix="oar_test",
        owner_id=owner.pk if owner else None,
        owner_name=owner.username if owner else "",
    )
    meter.set_target(model="default", upstream="default", streamed=True)
    return meter


async def _events(communicator: WebsocketCommunicator, seconds: float) -> list[dict[str, Any]]:
    """Every request event received within ``seconds``."""
    seen: list[dict[str, Any]] = []
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        # receive_nothing, not a receive timeout: a timed-out receive cancels the consumer.
        if await communicator.receive_nothing(timeout=0.05):
            continue
        message = await communicator.receive_json_from()
        if message["type"] == "events":
            seen.extend(message["events"])
    return seen


async def test_each_role_sees_exactly_what_it_may() -> None:
    p = await sync_to_async(_people)()
    watchers = {name: await _connect(p[name]) for name in ("alice", "adam", "bob", "root")}
    alice_request = _meter("req_alice", p["a"], p["alice"])
    adam_request = _meter("req_adam", p["a"], p["adam"])
    bob_request = _meter("req_bob", p["b"], p["bob"])
    alice_request.observe(PaddlerLine(message=ReasoningToken("hm")))
    for _ in range(3):
        alice_request.observe(PaddlerLine(message=ContentToken("x")))
    seen = {name: await _events(ws, 0.8) for name, ws in watchers.items()}
    ids = {name: {event["request_id"] for event in events} for name, events in seen.items()}
    assert ids["alice"] == {"req_alice"}
    assert ids["adam"] == {"req_alice", "req_adam"}
    assert ids["bob"] == {"req_bob"}  # nothing of tenant A reaches tenant B's member
    assert ids["root"] == {"req_alice", "req_adam", "req_bob"}
    latest = [e for e in seen["alice"] if e["request_id"] == "req_alice"][-1]
    assert latest["state"] == "generating"
    assert (latest["reasoning_tokens"], latest["content_tokens"]) == (1, 3)
    assert latest["person"] == "alice" and latest["tenant"] == "tenant-a"

    alice_request.finish(outcome="completed", http_status=200)
    finished = [e for e in await _events(watchers["alice"], 0.6) if e["state"] == "finished"]
    assert [(e["request_id"], e["outcome"]) for e in finished] == [("req_alice", "completed")]
    for meter in (adam_request, bob_request):
        meter.finish(outcome="completed", http_status=200)
    for ws in watchers.values():
        await ws.disconnect()


async def test_the_session_authenticates_the_socket_and_a_person_without_a_tenant_is_refused() -> None:
    p = await sync_to_async(_people)()
    anonymous = WebsocketCommunicator(application, "/ws/monitor/", headers=[(b"origin", b"http://127.0.0.1")])
    connected, code = await anonymous.connect()
    assert not connected and code == UNAUTHENTICATED

    client = Client()
    await sync_to_async(client.force_login)(p["bob"])
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()
    signed_in = WebsocketCommunicator(
        application, "/ws/monitor/", headers=[(b"origin", b"http://127.0.0.1"), (b"cookie", cookie)]
    )
    connected, _ = await signed_in.connect()
    assert connected
    assert (await signed_in.receive_json_from())["username"] == "bob"
    await signed_in.disconnect()

    other_site = WebsocketCommunicator(
        application, "/ws/monitor/", headers=[(b"origin", b"http://evil.example"), (b"cookie", cookie)]
    )
    connected, _ = await other_site.connect()
    assert not connected

    no_tenant = WebsocketCommunicator(MonitorConsumer.as_asgi(), "/ws/monitor/")
    no_tenant.scope["user"] = p["nobody"]
    connected, code = await no_tenant.connect()
    assert not connected and code == FORBIDDEN


async def test_a_person_may_cancel_only_their_own_request_and_staff_any() -> None:
    p = await sync_to_async(_people)()
    alice, adam, root = [await _connect(p[name]) for name in ("alice", "adam", "root")]

    async def serve(request_id: str, owner: User) -> None:
        _meter(request_id, p["a"], owner)  # created inside the task that serves the request
        await asyncio.sleep(30)

    tasks = {
        "req_1": asyncio.ensure_future(serve("req_1", p["alice"])),
        "req_2": asyncio.ensure_future(serve("req_2", p["adam"])),
    }
    await asyncio.sleep(0)
    await _events(alice, 0.6), await _events(adam, 0.6), await _events(root, 0.6)

    await adam.send_json_to({"type": "cancel", "request_id": "req_1"})  # a tenant admin, not the owner
    assert (await adam.receive_json_from())["type"] == "cancel_refused"
    await alice.send_json_to({"type": "cancel", "request_id": "req_2"})  # never seen: not hers
    assert (await alice.receive_json_from())["type"] == "cancel_refused"
    assert not tasks["req_1"].done() and not tasks["req_2"].done()

    await alice.send_json_to({"type": "cancel", "request_id": "req_1"})
    assert (await alice.receive_json_from())["type"] == "cancel_sent"
    await root.send_json_to({"type": "cancel", "request_id": "req_2"})
    assert (await root.receive_json_from())["type"] == "cancel_sent"
    await asyncio.sleep(0.3)
    assert tasks["req_1"].cancelled() and tasks["req_2"].cancelled()
    outcomes = {e["request_id"]: e["outcome"] for e in await _events(root, 0.6) if e["state"] == "finished"}
    assert outcomes == {"req_1": "cancelled", "req_2": "cancelled"}
    for ws in (alice, adam, root):
        await ws.disconnect()
