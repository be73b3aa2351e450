"""Handoff service settings from the environment (prefix HANDOFF_)."""
from functools import lru_cache
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from billing_core.config import REPO_ROOT

DEV_SECRET = "dev-only-handoff-secret-not-for-production-use"
DEV_TWILIO_TOKEN = "dev-twilio-auth-token"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HANDOFF_")

    environment: str = "dev"
    database_url: str = f"sqlite:///{REPO_ROOT / 'var' / 'handoff.db'}"
    rasa_url: str = "http://127.0.0.1:5005"
    # Production: Redis pub/sub for live events across workers and replicas (else in-process).
    redis_url: str | None = None
    # Production: Rasa's event broker (RabbitMQ, AMQP URL). The service consumes every event
    # Rasa publishes, so turns that did not pass through it still reach the transcript.
    rasa_events_url: str | None = None
    rasa_events_queue: str = "handoff.rasa_events"  # the queue name in Rasa's endpoints.yml
    rasa_events_retry_seconds: float = 5.0  # waiting while another replica consumes, or no broker
    rasa_timeout_seconds: float = 8.0
    # Production: every Rasa replica's own URL (JSON list), so an admin's model activation
    # reaches each of them; turns still go to rasa_url (the load balancer).
    rasa_replica_urls: list[str] = []
    # Each conversation's turns and tracker updates go straight to one of rasa_replica_urls,
    # chosen by its id, instead of rasa_url: the embedded default's Rasa processes share no
    # lock store, and a conversation's tracker stays in one process's memory between turns.
    rasa_sticky: bool = False
    # Rasa's HTTP API token (`rasa run --auth-token`): its tracker and model endpoints can set
    # any conversation's slots, so production runs them with one. Unset: no token is sent.
    rasa_token: str | None = None
    # Signs staff access tokens.
    secret_key: str = DEV_SECRET
    token_ttl_minutes: int = 8 * 60
    # The URL Twilio calls, exactly as configured there: signatures are computed over it.
    public_url: str = "http://127.0.0.1:8000"
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    twilio_auth_token: str = DEV_TWILIO_TOKEN
    # Where the REST client sends messages; tests and the demo point it at the local stand-in.
    twilio_api_base_url: str = "http://127.0.0.1:8099"
    twilio_from_number: str = "+3197010000000"
    sms_segment_chars: int = 1530  # ten concatenated GSM segments; longer replies are split
    # Outbound SMS sender (handoff.channels.sms): retries with exponential backoff
    # base * 2**(attempt-1), capped; after sms_max_attempts a row is marked failed (kept).
    sms_max_attempts: int = 6
    sms_retry_base_seconds: float = 2.0
    sms_retry_max_seconds: float = 300.0
    sms_poll_seconds: float = 5.0  # also picks up rows other processes queued
    twilio_timeout_seconds: float = 10.0
    # Twilio waits 15 s for the webhook; past this budget it gets its 200 and the turn finishes.
    sms_webhook_budget_seconds: float = 5.0
    queue_update_interval_seconds: int = 120
    default_handle_seconds: int = 300  # used for wait estimates until real handle times exist
    # -- NLU review and retraining (handoff.admin, docs/retraining.md) --
    # Rasa's SQL tracker store, read incrementally for the NLU result of every customer
    # message (no event broker: it costs a full tracker read and a commit per event per turn).
    # Unset: messages keep no intent. The demo sets it to var/rasa-tracker.db.
    nlu_tracker_url: str | None = None
    nlu_poll_seconds: float = 1.0
    # Customer text the bot never saw (agent mode, bot down) is parsed with /model/parse this
    # long after it arrived; 0 turns that off.
    nlu_parse_after_seconds: float = 30.0
    review_confidence: float = 0.6  # below this a message is "low confidence" in the inbox
    nlu_models_dir: Path = REPO_ROOT / "models" / "admin"  # candidates, evaluations, jobs
    nlu_reviewed_dir: Path = REPO_ROOT / "bot" / "data" / "nlu" / "reviewed"  # labels as YAML
    nlu_config: Path = REPO_ROOT / "config.yml"  # pipeline and policies the admin trains with
    nlu_heldout: Path = REPO_ROOT / "bot" / "eval" / "heldout.jsonl"
    nlu_shared_eval_dir: Path = REPO_ROOT.parent / "shared" / "eval"
    nlu_shared_eval_glob: str = "*.jsonl"
    # Action server of a demo/test billing database for the test stories (they write to it);
    # unset: the stories are not run and the report says so.
    nlu_eval_actions_url: str | None = None
    nlu_activation_timeout_seconds: float = 180.0
    # A candidate is "worse" when a figure drops by more than this (fractions, 0.01 = 1 point).
    nlu_worse_tolerance: float = 0.01

    @model_validator(mode="after")
    def _sticky_needs_replicas(self) -> "Settings":
        if self.rasa_sticky and not self.rasa_replica_urls:
            raise ValueError("HANDOFF_RASA_STICKY needs HANDOFF_RASA_REPLICA_URLS (the Rasa processes)")
        return self

    @model_validator(mode="after")
    def _secrets_outside_dev(self) -> "Settings":
        if self.environment != "dev":
            if self.secret_key == DEV_SECRET:
                raise ValueError("HANDOFF_SECRET_KEY must be set outside the dev environment")
            if self.twilio_auth_token == DEV_TWILIO_TOKEN:
                raise ValueError("HANDOFF_TWILIO_AUTH_TOKEN must be set outside the dev environment")
            # their defaults are the local stand-in's: SMS would silently go nowhere
            for name in ("twilio_account_sid", "twilio_api_base_url", "public_url"):
                if name not in self.model_fields_set:
                    raise ValueError(f"HANDOFF_{name.upper()} must be set outside the dev environment "
                                     "(Twilio's API is https://api.twilio.com)")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
