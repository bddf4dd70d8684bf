"""A Hypothesis state machine over the ledger: after every step the invariants hold."""

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
)

from config.errors import ServiceError
from points import selectors, services
from points.models import EntryKind, LedgerEntry


class LedgerMachine(RuleBasedStateMachine):
    adjustments = Bundle("adjustments")

    def __init__(self):
        super().__init__()
        self.keys = 0
        self.snapshot: dict[int, tuple] = {}
        self.experts = []

    @initialize()
    def setup(self):
        from django.contrib.auth import get_user_model

        from community.models import Expert

        users = get_user_model()
        # Each example runs in a savepoint that teardown rolls back: no deletes needed.
        self.savepoint = transaction.savepoint()
        self.staff = users.objects.create_user(username="staff", is_staff=True)
        self.experts = [
            Expert.objects.create(
                user=users.objects.create_user(username=f"e{n}"), display_name=f"E{n}"
            )
            for n in range(2)
        ]

    def next_key(self) -> str:
        self.keys += 1
        return f"k{self.keys}"

    def teardown(self):
        if hasattr(self, "savepoint"):
            transaction.savepoint_rollback(self.savepoint)

    @rule(target=adjustments, who=st.integers(0, 1), amount=st.integers(-50, 50).filter(bool))
    def adjust(self, who, amount):
        expert = self.experts[who]
        before = selectors.balance(expert=expert)
        try:
            entry = services.points_adjust(
                expert=expert,
                amount=amount,
                reason="r",
                staff_member=self.staff,
                idempotency_key=self.next_key(),
            )
        except ServiceError as refused:
            assert refused.code == "insufficient_points" and before + amount < 0
            assert selectors.balance(expert=expert) == before
            return multiple()
        assert selectors.balance(expert=expert) == before + amount
        return entry

    @rule(who=st.integers(0, 1), amount=st.integers(1, 40))
    def hold_and_maybe_release(self, who, amount):
        """A redemption hold, then (sometimes twice, as a retry) its release."""
        expert = self.experts[who]
        key = self.next_key()
        try:
            services._post_entry(
                expert_id=expert.pk,
                amount=-amount,
                kind=EntryKind.REDEMPTION_HOLD,
                idempotency_key=f"hold:{key}",
            )
        except ServiceError:
            return
        for _attempt in range(2):
            services._post_entry(
                expert_id=expert.pk,
                amount=amount,
                kind=EntryKind.REDEMPTION_RELEASE,
                idempotency_key=f"release:{key}",
            )

    @rule(entry=adjustments)
    def reverse(self, entry):
        already = LedgerEntry.objects.filter(reverses=entry).exists()
        before = selectors.balance(expert=entry.expert)
        try:
            services.points_reverse(entry=entry, reason="r", staff_member=self.staff)
            assert not already
        except ServiceError as refused:
            assert refused.code in ("already_reversed", "insufficient_points")
            assert selectors.balance(expert=entry.expert) == before

    @rule(who=st.integers(0, 1))
    def retry_an_old_key(self, who):
        if self.keys == 0:
            return
        count = LedgerEntry.objects.count()
        try:
            services.points_adjust(
                expert=self.experts[who],
                amount=1,
                reason="r",
                staff_member=self.staff,
                idempotency_key="k1",
            )
        except ServiceError as refused:
            assert refused.code == "duplicate"
        assert LedgerEntry.objects.count() in (count, count + 1)

    @invariant()
    def balances_are_the_sum_and_never_negative(self):
        for expert in self.experts:
            total = LedgerEntry.objects.filter(expert=expert).aggregate(s=Sum("amount"))["s"] or 0
            assert selectors.balance(expert=expert) == total >= 0

    @invariant()
    def keys_are_unique_and_entries_unchanged(self):
        rows = list(LedgerEntry.objects.values_list("pk", "idempotency_key", "amount", "kind"))
        assert len({key for _, key, _, _ in rows}) == len(rows)
        for pk, *fields in rows:
            assert self.snapshot.setdefault(pk, tuple(fields)) == tuple(fields)


@pytest.mark.django_db
def test_ledger_invariants_hold_under_any_sequence():
    LedgerMachine.TestCase.settings = hypothesis_settings(
        max_examples=40, stateful_step_count=25, deadline=None
    )
    LedgerMachine.TestCase("runTest").runTest()
