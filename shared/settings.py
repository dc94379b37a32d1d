"""The one reader of ``CLAIMFLOW_*`` environment variables.

Nothing else in claimflow looks at the environment: every process builds one
:class:`Settings` and hands it to :func:`shared.bootstrap.bootstrap`.
"""
from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

EMBEDDED_DATABASE_URL = "sqlite:///claimflow.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLAIMFLOW_", extra="ignore")

    # --- where state lives -------------------------------------------------------------
    database_url: str = Field(EMBEDDED_DATABASE_URL,
                              description="SQLAlchemy URL; PostgreSQL in production "
                                          "(postgresql+psycopg://…), a SQLite file by default")
    broker_url: str | None = Field(None, description="redis://… or amqp://…; unset: in-process stub broker")
    department_queue_url: str | None = Field(
        None, description="kombu URL of the department queues; default: the broker, or the database "
                          "through kombu's SQLAlchemy transport on the embedded default")

    # --- names (tests give each run its own) ---------------------------------------------
    queue_prefix: str = Field("claimflow.", description="prefix of the workers' dramatiq queues")
    department_exchange: str = Field("claims", description="kombu exchange of the department queues")
    department_queue_prefix: str = Field("claims.", description="department queue = prefix + department")
    redis_namespace: str = Field("dramatiq", description="key namespace of dramatiq's Redis broker")

    # --- policy -------------------------------------------------------------------------
    policy_file: Path | None = Field(None, description="the retailer's policy YAML; default: the bundled one")
    routing_model: str = Field("bundled", description="the category model that reads every claim: bundled (the "
                                                     "shipped one), the path of one trained by `claimflow routing "
                                                     "train`, or none (the policy's keyword rules alone)")
    default_region: str = Field("RU", description="region for phone numbers written without a country code")

    # --- intake -------------------------------------------------------------------------
    blob_dir: Path = Field(Path("blobs"), description="where attachment bytes are kept, by sha256")
    dedupe_window_days: float = Field(14, description="same customer and order within this many days: one claim")
    dedupe_text_hours: float = Field(72, description="same customer, no order, near-duplicate text within this "
                                                     "many hours: one claim")
    dedupe_text_similarity: float = Field(0.6, ge=0, le=1, description="how alike (0-1, content words in "
                                                                        "common) two texts must be for rule 5")
    dedupe_order_wait_seconds: float = Field(2.0, ge=0, description="how long an intake batch waits for older "
                                                                     "events' batches to commit (0: not at all)")
    webhook_secrets: dict[str, str] = Field(default_factory=dict,
                                            description='HMAC-SHA256 secret per marketplace, JSON: {"ozon": "…"}')
    gateway_host: str = Field("127.0.0.1", description="address the HTTP gateway listens on")
    gateway_port: int = Field(8080, description="port of the HTTP gateway")
    public_url: str | None = Field(None, description="the gateway's address as customers reach it, for links "
                                                     "in their messages; default http://GATEWAY_HOST:GATEWAY_PORT")
    survey_secret: str | None = Field(None, description="signs the satisfaction survey links; unset: no links "
                                                        "are made and the survey endpoint knows none")

    # --- notifications (notify_worker) --------------------------------------------------
    template_dir: Path | None = Field(None, description="the retailer's notification templates (ru/, en/: "
                                                        "<kind>.subject.j2, .txt.j2, .html.j2, .sms.j2), "
                                                        "over the bundled ones")
    smtp_host: str = Field("localhost", description="SMTP server notices are sent through")
    smtp_port: int = Field(25, description="its port")
    smtp_from: str = Field("claims@localhost", description="From: of the notices")
    smtp_username: str | None = Field(None, description="SMTP login; unset: none")
    smtp_password: str | None = Field(None, description="SMTP password")
    smtp_starttls: bool = Field(False, description="STARTTLS before sending")
    sms_gateway_url: str | None = Field(None, description="HTTP SMS gateway (POST JSON {to, text}); unset: no SMS")
    sms_gateway_token: str | None = Field(None, description="Bearer token of the SMS gateway")
    notify_max_attempts: int = Field(8, ge=1, description="tries of a notice before the dead-letter list")
    notify_backoff_seconds: float = Field(30.0, gt=0, description="first retry delay scale (doubles, full jitter)")
    notify_backoff_max_seconds: float = Field(3600.0, gt=0, description="longest delay between retries")
    notify_lease_seconds: float = Field(60.0, gt=0, description="a notice being sent is another worker's "
                                                                "again after this long (a killed worker)")
    notify_poll_seconds: float = Field(1.0, gt=0, description="how often an idle notify worker looks for notices")
    notify_batch_size: int = Field(20, ge=1, le=1000, description="notices leased at once by a notify worker")

    # --- limits and tuning --------------------------------------------------------------
    max_event_bytes: int = Field(256 * 1024, description="larger envelopes are quarantined as oversize")
    received_at_max_age_days: int = Field(1826, ge=1, le=36500, description="an event received longer ago than "
                                          "this is quarantined as bad_timestamp (its deadlines would be nonsense)")
    received_at_max_ahead_hours: int = Field(24, ge=0, le=8760, description="an event dated further ahead than "
                                             "this is quarantined as bad_timestamp")
    stuck_after_seconds: float = Field(300, ge=1, description="a worker loop that has not come round for this long "
                                       "is stuck: /healthz answers 503 so the liveness probe restarts it")
    batch_size: int = Field(100, ge=1, le=5000, description="events (intake) or claims (routing) per database transaction")
    worker_threads: int = Field(4, ge=1, description="threads per worker process")
    queue_prefetch: int = Field(64, description="messages a worker holds in advance (Redis broker)")
    max_retries: int = Field(5, description="dramatiq retries of a failed batch before dead-lettering")
    redrive_after_seconds: float = Field(15.0, description="work untouched this long is re-driven from the database")
    redrive_interval_seconds: float = Field(5.0, description="how often each worker looks for stuck work")
    sla_interval_seconds: float = Field(1.0, gt=0, description="how often an SLA worker looks for due claims")
    sla_batch_size: int = Field(500, ge=1, le=10000, description="claims an SLA sweep takes per transaction")
    metrics_port: int | None = Field(None, description="port of a worker's /metrics; default per worker, 0 disables")

    # --- logging ------------------------------------------------------------------------
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR")
    log_format: str = Field("auto", description="json, console, or auto (json unless on a terminal)")

    @property
    def embedded(self) -> bool:
        """True when no broker is configured: the in-process stub broker and in-process workers."""
        return not self.broker_url

    @property
    def effective_department_queue_url(self) -> str:
        if self.department_queue_url:
            return self.department_queue_url
        if self.broker_url:
            return self.broker_url
        return "sqla+" + self.database_url
