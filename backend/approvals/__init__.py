"""Human approval of tool calls: a run paused before a call its server's policy covers, a
confirmation in the thread, and the run resumed (or the call refused) on the user's decision."""

from backend.approvals.desk import ApprovalDesk, Decided, Resume, outcome_note, rejection_message

__all__ = ["ApprovalDesk", "Decided", "Resume", "outcome_note", "rejection_message"]
