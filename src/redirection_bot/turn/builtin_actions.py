"""The program's own actions, behind the same ``ActionRunner`` seam as rasa-sdk's.

``action_resume_phrase`` gives the person their resume words (the conversation is parked
under them when the turn is saved: the action says so in the turn's ``AfterTurn``), and
``action_evaluation`` counts the evaluation answers for today and forgets them at once
(operations/evaluation.py), and ``action_record_outcomes`` counts the outcome consent answer
and measures, as a first band or a change from it, once a visit (operations/outcomes.py; run
at the program's ``return_entry``, it opens a new visit). Every other action goes on to the
runner they wrap (rasa-sdk, in-process).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from redirection_bot.engine import ActionResult, Message
from redirection_bot.operations.evaluation import (
    EVALUATION_ACTION,
    EvaluationCounts,
    answers_to_record,
)
from redirection_bot.operations.logs import log_event
from redirection_bot.operations.outcomes import (
    OUTCOME_MODULE,
    OUTCOMES_ACTION,
    new_visit,
    record,
)
from redirection_bot.store.resume import RESUME_ACTION, ResumeKeys, ResumeVault
from redirection_bot.turn.actions import ActionCall, ActionRunner
from redirection_bot.turn.appointment_actions import ACTIONS as APPOINTMENT_ACTIONS
from redirection_bot.work_lane import LaneFull

if TYPE_CHECKING:
    from redirection_bot.operations.metrics import Metrics
    from redirection_bot.turn.appointment_actions import AppointmentActions


class BuiltInActions:
    """Runs the program's own actions, and hands every other one to ``others``."""

    def __init__(
        self,
        others: ActionRunner,
        resume: ResumeVault,
        evaluation: EvaluationCounts,
        metrics: Metrics | None = None,
        appointments: AppointmentActions | None = None,
    ) -> None:
        self._others = others
        self._appointments = appointments
        self._resume = resume
        self._evaluation = evaluation
        self._metrics = metrics

    async def run(self, call: ActionCall) -> ActionResult:
        if call.action == RESUME_ACTION:
            return await self._offer_phrase(call)
        if call.action == EVALUATION_ACTION and call.program is not None:
            return await self._record_evaluation(call)
        if call.action == OUTCOMES_ACTION:
            return await self._record_outcomes(call)
        if self._appointments is not None and call.action in APPOINTMENT_ACTIONS:
            return await self._appointments.run(call)
        return await self._others.run(call)

    async def _offer_phrase(self, call: ActionCall) -> ActionResult:
        """A new phrase, shown once; the session is parked under it when the turn is saved."""
        words = await self._resume.new_phrase(call.state.locale)
        try:
            call.after.park_under = await self._resume.key_for(words)
        except LaneFull:
            log_event("resume busy", session=call.sender)
            if self._metrics is not None:
                self._metrics.resume("busy")
            return ActionResult(RESUME_ACTION, failed=True)
        log_event("resume phrase given", session=call.sender)
        if self._metrics is not None:
            self._metrics.resume("given")
        days = round(self._resume.ttl_seconds / 86400)
        shown = Message(ResumeKeys.PHRASE, {"phrase": " ".join(words), "days": days})
        return ActionResult(RESUME_ACTION, messages=(shown,))

    async def _record_evaluation(self, call: ActionCall) -> ActionResult:
        program, state = call.program, call.state
        assert program is not None
        module = state.at.flow if state.at is not None else "unknown"
        for question, answer in answers_to_record(program, EVALUATION_ACTION, state.slots):
            await self._evaluation.add(dt.datetime.now(dt.UTC).date(), module, question, answer)
        declared = program.actions[EVALUATION_ACTION]
        return ActionResult(
            EVALUATION_ACTION, slot_sets=tuple((name, None) for name in declared.sets)
        )

    async def _record_outcomes(self, call: ActionCall) -> ActionResult:
        day = dt.datetime.now(dt.UTC).date()
        program, at = call.program, call.state.at
        entry = program.return_entry if program is not None else None
        if entry is not None and program is not None and at == program.resolve(entry):
            recorded = new_visit()
        else:
            recorded = record(call.state.slots, day)
        for question, answer in recorded.counts:
            await self._evaluation.add(day, OUTCOME_MODULE, question, answer)
        return ActionResult(OUTCOMES_ACTION, slot_sets=recorded.slot_sets)
