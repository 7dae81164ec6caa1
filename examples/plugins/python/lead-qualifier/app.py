"""lead-qualifier: a plugin written in Python (componentize-py).

Reads the lead named by the input, scores it from its fields, writes `score`
and `status` back through the host, and logs what it decided. Input:
`{"lead_id": "...", "threshold": 60}` (the score from which a lead is
qualified; optional); output: `{"lead_id", "score", "status", "reasons"}`.

Errors: a problem the plugin expects (no such lead) raises
`Err("message")`, which fails the step with that message. Any other
exception is caught at the boundary and returned as `Err` with its Python
traceback, so the run shows where it happened.
"""

import json
import traceback

import wit_world
from componentize_py_types import Err
from wit_world.imports import log, records

FREE_MAIL = {"gmail.com", "yahoo.com", "hotmail.com", "outlook.com"}
SOURCE_POINTS = {"referral": 30, "partner": 25, "event": 15, "web": 10, "other": 0}


def score_lead(lead: dict) -> tuple[int, list[str]]:
    """The lead's score (0-100) and why."""
    score, reasons = 0, []
    email = lead.get("email") or ""
    domain = email.rpartition("@")[2].lower()
    if domain and domain not in FREE_MAIL:
        score += 30
        reasons.append(f"company email ({domain})")
    if lead.get("company"):
        score += 20
        reasons.append("company given")
    points = SOURCE_POINTS.get(lead.get("source") or "other", 0)
    if points:
        score += points
        reasons.append(f"source {lead['source']} (+{points})")
    if lead.get("phone"):
        score += 10
        reasons.append("phone given")
    return min(score, 100), reasons


def qualify(data: dict) -> dict:
    lead_id = data.get("lead_id")
    if not isinstance(lead_id, str):
        raise Err("input.lead_id must be a string")
    text = records.get("lead", lead_id)
    if text is None:
        raise Err(f"lead {lead_id} not found")
    lead = json.loads(text)
    score, reasons = score_lead(lead)
    status = "qualified" if score >= data.get("threshold", 60) else "working"
    records.update("lead", lead_id, json.dumps({"score": score, "status": status}))
    log.log(log.Level.INFO, f"lead {lead_id} scored {score}", [("status", status)])
    return {"lead_id": lead_id, "score": score, "status": status, "reasons": reasons}


class WitWorld(wit_world.WitWorld):
    def run(self, input: str) -> str:
        try:
            return json.dumps(qualify(json.loads(input)))
        except Err:
            raise
        except Exception as error:
            # The host shows this text as the step's error: keep the traceback.
            raise Err(f"{type(error).__name__}: {error}\n{traceback.format_exc()}")
