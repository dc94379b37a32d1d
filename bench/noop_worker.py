"""The baseline: a dramatiq worker process whose actor does nothing, on the same broker and
with the same worker settings (threads, prefetch) as claimflow's workers."""
from __future__ import annotations

import signal
import sys
import threading

import dramatiq

from shared.messaging.broker import make_broker
from shared.settings import Settings


def declare_noop(broker, settings: Settings):
    def noop() -> None:
        pass
    return dramatiq.actor(noop, broker=broker, actor_name="noop", queue_name=settings.queue_prefix + "noop")


def main() -> None:
    settings = Settings()
    broker = make_broker(settings)
    actor = declare_noop(broker, settings)
    worker = dramatiq.Worker(broker, queues={actor.queue_name}, worker_threads=settings.worker_threads)
    worker.queue_prefetch = settings.queue_prefetch
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    worker.start()
    print("ready", flush=True)
    stop.wait()
    worker.stop()
    broker.close()
    sys.exit(0)


if __name__ == "__main__":
    main()
