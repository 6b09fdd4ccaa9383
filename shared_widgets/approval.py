"""The data of `approval.widget`: a tool call waiting for the user's decision, or its outcome."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

ApprovalStatus = Literal["pending", "approved", "rejected", "expired"]


class ApprovalField(BaseModel):
    """One argument of the call, as a person reads it."""

    label: str
    value: str


class ApprovalView(BaseModel):
    """What the confirmation shows: the question, the arguments that matter, and where it stands."""

    approval_id: str
    question: str
    server: str
    tool: str
    fields: list[ApprovalField]
    destructive: bool
    status: ApprovalStatus
    note: str
