"""The ``notifications:`` section of the retailer's policy file (checked with the rest of the file
when it is loaded, ``shared.policy.parse_policy``): who among staff is told, at which
e-mail addresses and webhooks, in which language, and where customers check a claim's status."""
from __future__ import annotations

from dataclasses import dataclass, field

from shared.policy import PolicyError

ROLE_OF_DEPARTMENT = {"department_queue": "queue", "department_lead": "lead"}


@dataclass(frozen=True)
class Webhook:
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recipients:
    email: tuple[str, ...] = ()
    webhook: tuple[Webhook, ...] = ()


@dataclass(frozen=True)
class NotifyPolicy:
    staff_language: str = "ru"
    status_url: str | None = None              # a format string with {claim_number}
    departments: dict[str, dict[str, Recipients]] = field(default_factory=dict)   # department → queue | lead
    head_of_claims: Recipients = Recipients()
    management: Recipients = Recipients()

    def recipients(self, role: str, department: str | None) -> Recipients:
        """Whom a staff notice to ``role`` (about a claim of ``department``) goes to."""
        if role in ROLE_OF_DEPARTMENT:
            return self.departments.get(department or "", {}).get(ROLE_OF_DEPARTMENT[role], Recipients())
        if role in ("head_of_claims", "management"):
            return getattr(self, role)
        raise PolicyError(f"unknown staff role {role!r}")


def _recipients(spec, where: str) -> Recipients:
    if spec is None:
        return Recipients()
    if not isinstance(spec, dict) or set(spec) - {"email", "webhook"}:
        raise PolicyError(f"{where}: expected a mapping of email and webhook lists")
    hooks = []
    for hook in spec.get("webhook") or ():
        if isinstance(hook, str):
            hooks.append(Webhook(hook))
        elif isinstance(hook, dict) and isinstance(hook.get("url"), str):
            hooks.append(Webhook(hook["url"], {str(k): str(v) for k, v in (hook.get("headers") or {}).items()}))
        else:
            raise PolicyError(f"{where}.webhook: a URL or {{url, headers}}, not {hook!r}")
    return Recipients(tuple(str(e) for e in spec.get("email") or ()), tuple(hooks))


def parse_notifications(doc: dict | None, source: str = "", departments=None) -> NotifyPolicy:
    section = (doc or {}).get("notifications") or {}
    if not isinstance(section, dict):
        raise PolicyError(f"{source}: notifications must be a mapping")
    known = ("staff_language", "status_url", "departments", "head_of_claims", "management")
    unknown = sorted(map(str, set(section) - set(known)))
    if unknown:
        raise PolicyError(f"{source}: notifications: unknown setting {', '.join(unknown)} (known: {', '.join(known)})")
    language = str(section.get("staff_language", "ru"))
    if language not in ("ru", "en"):
        raise PolicyError(f"{source}: notifications.staff_language must be ru or en, not {language!r}")
    depts = {}
    for name, roles in (section.get("departments") or {}).items():
        if departments is not None and name not in departments:
            raise PolicyError(f"{source}: notifications.departments.{name} is not among departments")
        unknown = set(roles or {}) - {"queue", "lead"}
        if unknown:
            raise PolicyError(f"{source}: notifications.departments.{name}: only queue and lead, not {sorted(unknown)}")
        depts[str(name)] = {role: _recipients(spec, f"notifications.departments.{name}.{role}")
                            for role, spec in (roles or {}).items()}
    return NotifyPolicy(staff_language=language, status_url=section.get("status_url"), departments=depts,
                        head_of_claims=_recipients(section.get("head_of_claims"), "notifications.head_of_claims"),
                        management=_recipients(section.get("management"), "notifications.management"))
