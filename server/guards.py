"""The guards around a state-changing request: audit before send, and the blast-radius limits (one for
destructive calls, one for account-takeover calls: magic links, access tokens, password and email changes)."""

from __future__ import annotations

from dataclasses import dataclass

from server.audit import AuditTrail, AuditUnavailable
from server.audit_records import CallContext, call_record
from server.limits import SlidingWindowLimit
from tools.backend import ApiRequest, ApiResponse, Backend, BackendError, BackendRefused


class AuditedBackend:
    """Wraps the backend for one call: a state-changing request is audited (intent) and rate-capped first.

    It also keeps what the call's outcome record must say when the call ends abnormally (cancelled,
    or an exception of ours): whether a request may have reached PropelAuth.
    """

    def __init__(
        self,
        inner: Backend,
        call: CallContext,
        audit: AuditTrail,
        limit: SlidingWindowLimit,
        sensitive_limit: SlidingWindowLimit | None = None,
    ) -> None:
        self._inner = inner
        self._call = call
        self._audit = audit
        self._budget = _budget_of(call, limit, sensitive_limit)
        self.intent_written = False
        self.change_may_have_reached = False  # a state-changing request was sent or is in flight
        self.read_may_have_reached = False  # a read (the call's own, or a preview's) was sent or is in flight

    @property
    def may_have_reached(self) -> bool:
        """Whether the request of the call's own operation (a write or a read) may have reached PropelAuth."""
        if self._call.definition.operation.changes_state:
            return self.change_may_have_reached
        return self.read_may_have_reached

    async def send(self, request: ApiRequest) -> ApiResponse:
        took_slot = False
        if request.changes_state:
            # The audit is checked first, so that a call refused for it spends no destructive slot.
            if not self._audit.writable:
                raise _audit_refusal(self._audit.unavailable_reason)
            if self._budget is not None:
                self._take_slot(self._budget)
                took_slot = True
            try:
                self._audit.write(
                    call_record(self._call, kind="intent", outcome=None, status=None, duration_ms=None),
                    durable=True,
                )
            except AuditUnavailable as exc:
                if took_slot:
                    self._release_slot()
                raise _audit_refusal(str(exc)) from exc
            self.intent_written = True
        reached_before = self.change_may_have_reached if request.changes_state else self.read_may_have_reached
        self._mark_reached(request, True)
        try:
            return await self._inner.send(request)
        except BackendError as exc:
            if not exc.may_have_reached:  # refused or not connected: nothing left this server
                self._mark_reached(request, reached_before)
                if took_slot:  # a confirmed call that changed nothing does not count against the limit
                    self._release_slot()
            raise

    def _mark_reached(self, request: ApiRequest, reached: bool) -> None:
        if request.changes_state:
            self.change_may_have_reached = reached
        else:
            self.read_may_have_reached = reached

    def _release_slot(self) -> None:
        if self._budget is not None:
            self._budget.limit.release()

    def _take_slot(self, budget: Budget) -> None:
        wait = budget.limit.try_acquire()
        if wait is None:
            return
        if budget.limit.limit == 0:
            raise BackendRefused(f"{budget.what} tools are disabled on this server ({budget.setting} is 0)")
        raise BackendRefused(
            f"the limit of {budget.limit.limit} {budget.what} calls sent per {budget.limit.window_s:g} s "
            f"is reached; the next slot frees in {wait:.0f} s. Ask the operator if this is expected"
        )


@dataclass(frozen=True)
class Budget:
    limit: SlidingWindowLimit
    what: str  # the kind of call, as the refusal names it
    setting: str


def _budget_of(
    call: CallContext, destructive: SlidingWindowLimit, sensitive: SlidingWindowLimit | None
) -> Budget | None:
    """The budget a call's state-changing request spends a slot of, if any (a preview read spends none)."""
    definition = call.definition
    if definition.destructive:
        return Budget(destructive, "destructive", "the destructive limit")
    if sensitive is not None and definition.sensitive:
        return Budget(sensitive, "account-takeover", "--sensitive-limit")
    return None


def _audit_refusal(reason: str | None) -> BackendRefused:
    return BackendRefused(f"{reason or 'the audit log cannot be written'}; state-changing tools are refused")
