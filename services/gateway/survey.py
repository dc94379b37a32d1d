"""``/v1/survey/{token}``: the customer's satisfaction survey. ``GET`` shows a tiny form; ``POST``
takes the answer (score 1–5 and a comment) as JSON, or as the form's fields — a browser posting the
form is answered with a page, anyone else with JSON. The token is the signed, expiring link of
``services.closing.survey_token``; what the answer does (close, reopen, record) is ``satisfaction``'s."""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import parse_qs

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from services.closing.closing import record_survey_answer
from services.closing.satisfaction import MAX_COMMENT, Refused
from services.closing.survey_token import TokenExpired, TokenRefused, verify
from services.gateway.body import parse_json, read_body
from services.gateway.deps import claimflow
from services.gateway.errors import ApiError
from services.gateway.models import ErrorBody, json_body
from services.gateway.responses import UNAVAILABLE
from shared.bootstrap import App

router = APIRouter(tags=["survey"])

FORM = "application/x-www-form-urlencoded"
MAX_BODY = 16 * 1024
TEXTS = {
    "ru": {"title": "Оцените, как мы решили вашу рекламацию", "ask": "Насколько вы довольны решением по рекламации",
           "scale": "1 — совсем недоволен, 5 — полностью доволен", "comment": "Комментарий (необязательно)",
           "send": "Отправить", "thanks": "Спасибо! Ваш ответ записан.",
           "reopened": "Спасибо. Мы снова открыли рекламацию и свяжемся с вами."},
    "en": {"title": "How did we handle your claim?", "ask": "How satisfied are you with the outcome of claim",
           "scale": "1: not at all, 5: completely", "comment": "Comment (optional)", "send": "Send",
           "thanks": "Thank you! Your answer is recorded.",
           "reopened": "Thank you. We have reopened your claim and will be in touch."},
}


class SurveyAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    score: int = Field(ge=1, le=5, description="1 (not at all satisfied) to 5 (completely)")
    comment: str | None = Field(None, max_length=MAX_COMMENT, description="anything the customer adds")


class SurveyRecorded(BaseModel):
    claim_number: str
    status: str = Field(description="the claim's status after the answer: closed, or reopened")
    actions: list[str] = Field(description="what the answer did, in order: closed, reopened, survey_answered")


def _page_and_json(description: str) -> dict:
    return {"model": ErrorBody, "description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


PAGE = {"description": "the page", "content": {"text/html": {"schema": {"type": "string"}}}}
GET_RESPONSES = {200: PAGE, 404: {**PAGE, "description": "not a survey link of ours"},
                 410: {**PAGE, "description": "the link expired"}}
POST_RESPONSES = {
    200: {"model": SurveyRecorded, "description": "the answer is recorded (a page for a browser's form post)",
          "content": {"text/html": {"schema": {"type": "string"}}}},
    400: _page_and_json("not_json: the body is not JSON"),
    404: _page_and_json("not_found: not a survey link of ours"),
    409: _page_and_json("archived, not_awaiting, no_evidence: the claim cannot take an answer now"),
    410: _page_and_json("expired: the link is too old; stale: the claim was reopened since the link was sent"),
    413: _page_and_json("oversize: the body is too large"),
    422: _page_and_json("invalid_request: the score is not 1 to 5, or the comment is too long"),
    **UNAVAILABLE}
POST_BODY = json_body(SurveyAnswer, "the answer")
POST_BODY["requestBody"]["content"][FORM] = dict(POST_BODY["requestBody"]["content"]["application/json"])


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(loader=jinja2.PackageLoader("services.closing", "templates"), autoescape=True)
    return env.get_template("survey.html.j2")


def _lang(request: Request) -> str:
    return "ru" if request.headers.get("accept-language", "ru").lower().startswith("ru") else "en"


def _page(request: Request, status: int = 200, *, message: str | None = None, claim_number: str = "") -> HTMLResponse:
    lang = _lang(request)
    return HTMLResponse(_template().render(t=TEXTS[lang], lang=lang, message=message, claim_number=claim_number),
                        status_code=status)


def _refusal(exc: Exception) -> ApiError:
    if isinstance(exc, TokenExpired):
        return ApiError(410, "expired", str(exc))
    if isinstance(exc, TokenRefused):
        return ApiError(404, "not_found", "not a survey link of ours")
    if isinstance(exc, Refused):
        return ApiError(410 if exc.code == "stale" else 409, exc.code, str(exc))
    return ApiError(422, "invalid_request", str(exc))


@router.get("/v1/survey/{token}", summary="The satisfaction survey's form", response_class=HTMLResponse,
            responses=GET_RESPONSES)
def survey_form(token: str, request: Request, app: App = Depends(claimflow)):
    try:
        ticket = verify(app.settings.survey_secret or "", token, app.clock.now())
    except TokenRefused as exc:
        error = _refusal(exc)
        return _page(request, error.status, message=error.message)
    return _page(request, claim_number=ticket.claim_number)


def _answer(raw: bytes, form: bool) -> SurveyAnswer:
    if form:
        fields = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
        fields = {k: v for k, v in fields.items() if v != "" or k != "comment"}
    else:
        fields = parse_json(raw)
    if not isinstance(fields, dict):
        raise ApiError(422, "invalid_request", "the answer is a JSON object: {\"score\": 1-5, \"comment\": …}")
    try:
        return SurveyAnswer.model_validate(fields)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
        raise ApiError(422, "invalid_request", where or "the answer is invalid") from None


@router.post("/v1/survey/{token}", summary="The customer's answer to the satisfaction survey", response_model=None,
             openapi_extra=POST_BODY, responses=POST_RESPONSES)
async def survey_answer(token: str, request: Request, app: App = Depends(claimflow)):
    form = request.headers.get("content-type", "").split(";")[0].strip().lower() == FORM
    try:
        verify(app.settings.survey_secret or "", token, app.clock.now())
        answer = _answer(await read_body(request, MAX_BODY), form)
        outcome = await run_in_threadpool(record_survey_answer, app, token, answer.score, answer.comment,
                                          app.clock.now())
    except (TokenRefused, Refused, ValueError) as exc:
        error = _refusal(exc)
        if not form:
            raise error from None
        return _page(request, error.status, message=error.message)
    except ApiError as error:
        if not form:
            raise
        return _page(request, error.status, message=error.message)
    if form:
        said = TEXTS[_lang(request)]
        return _page(request, message=said["reopened"] if outcome.status == "reopened" else said["thanks"])
    return JSONResponse({"claim_number": outcome.claim_number, "status": outcome.status, "actions": outcome.actions})
