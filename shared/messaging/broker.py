"""The dramatiq broker that ``CLAIMFLOW_BROKER_URL`` names: Redis, RabbitMQ, or the in-process
stub broker when it is unset. Built by bootstrap, never at import time."""
from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker

from shared.settings import Settings


class BrokerURLError(ValueError):
    pass


def make_broker(settings: Settings) -> dramatiq.Broker:
    url = settings.broker_url
    if not url:
        broker = StubBroker()
        broker.emit_after("process_boot")
    elif url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker
        broker = RedisBroker(url=url, namespace=settings.redis_namespace)
    elif url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker
        broker = RabbitmqBroker(url=url, confirm_delivery=True)
    else:
        raise BrokerURLError(f"CLAIMFLOW_BROKER_URL={url!r}: use redis://…, amqp://…, or leave it unset "
                             "for the in-process broker")
    return broker
