"""Operator screens for trust: receipts and log heads are read-only; keys rotate by
action; disputes are a work queue resolved through services."""

import datetime as dt

from django.contrib import admin, messages
from django.db.models import Case, When
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from apps.core.admin import (
    Audited,
    Exported,
    NeverDeleted,
    ReadOnlyAdmin,
    ask_reason,
    asked_amount,
    asked_reason,
    badge_column,
    preformatted,
    pretty_json,
)
from apps.core.errors import ApplicationError
from apps.core.status import Tone, badge
from apps.trust import selectors, services
from apps.trust.audit import audit_export_json
from apps.trust.exports import DisputeResource, ReceiptResource
from apps.trust.models import (
    OPEN_DISPUTE_STATUSES,
    AuditCheckpoint,
    Dispute,
    Receipt,
    SigningKey,
    TreeHead,
)


@admin.register(Receipt)
class ReceiptAdmin(Exported, ReadOnlyAdmin):
    list_display = ["log_index", "resolution_badge", "user", "kid", "issued_at", "previous"]
    list_filter = ["resolution", "kid"]
    search_fields = ["id", "user__email", "payload__payment_ref"]
    list_select_related = ["user", "previous"]
    fields = [
        "id",
        "log_index",
        "resolution",
        "issued_at",
        "kid",
        "user",
        "previous",
        "pretty_payload",
        "jws",
    ]
    readonly_fields = fields
    actions = ["verify"]
    resource_classes = [ReceiptResource]
    resolution_badge = badge_column(
        Receipt.resolutions, field="resolution", description="Resolution"
    )

    @display(description="Payload")
    def pretty_payload(self, receipt: Receipt) -> str:
        return pretty_json(receipt.payload)

    @action(description="Verify signature and log inclusion", permissions=["view"])
    def verify(self, request, queryset) -> None:
        for receipt in queryset:
            valid, reason, _ = selectors.receipt_verify_online(token=receipt.jws)
            level = messages.SUCCESS if valid else messages.ERROR
            verdict = "valid" if valid else "INVALID"
            self.message_user(request, f"Receipt #{receipt.log_index}: {verdict} — {reason}", level)


@admin.register(TreeHead)
class TreeHeadAdmin(ReadOnlyAdmin):
    list_display = ["size", "kid", "created_at"]
    fields = ["size", "kid", "created_at", "checkpoint_text"]
    readonly_fields = fields

    @display(description="Checkpoint")
    def checkpoint_text(self, head: TreeHead) -> str:
        return preformatted(head.checkpoint)


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    """The operator audit log's head as signed after each event (apps.trust.audit)."""

    list_display = ["length", "kid", "created_at"]
    fields = ["length", "head", "kid", "created_at", "checkpoint_text"]
    readonly_fields = fields
    actions_list = ["export"]

    @display(description="Checkpoint")
    def checkpoint_text(self, checkpoint: AuditCheckpoint) -> str:
        return preformatted(checkpoint.checkpoint)

    def has_export_permission(self, request, obj=None) -> bool:
        # The export holds the events as well as their signed heads.
        return request.user.has_perms(["core.view_auditevent", "trust.view_auditcheckpoint"])

    @action(
        description="Download the audit log (verifiable offline)",
        url_path="export",
        permissions=["export"],
    )
    def export(self, request):
        """What `manage.py export_audit_log` writes, for `python -m apps.trust.verify --audit`.
        The download is itself an event, so only a form carrying the CSRF token makes it."""
        if request.method != "POST":
            context = {**self.admin_site.each_context(request), "opts": self.model._meta}
            context["title"] = "Download the audit log?"
            return TemplateResponse(request, "admin/trust/audit_export_confirm.html", context)
        response = HttpResponse(audit_export_json(request=request), content_type="application/json")
        response["Content-Disposition"] = (
            f'attachment; filename="audit-{timezone.now():%Y%m%d}.json"'
        )
        return response


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ["kid", "status_badge", "created_at", "retired_at"]
    fields = ["kid", "status", "created_at", "retired_at"]
    readonly_fields = fields
    actions_list = ["rotate"]
    status_badge = badge_column(SigningKey.statuses)

    def has_rotate_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("trust.rotate_signingkey")

    @action(description="Rotate signing key", url_path="rotate", permissions=["rotate"])
    def rotate(self, request):
        # Only the confirmation form, posted with its CSRF token and a reason, rotates: a GET
        # could come from any page.
        reason = asked_reason(request)
        if not reason:
            context = {
                **self.admin_site.each_context(request),
                "title": "Rotate the signing key?",
                "active_key": SigningKey.objects.filter(status=SigningKey.Status.ACTIVE).first(),
                "opts": self.model._meta,
            }
            return TemplateResponse(request, "admin/trust/signingkey_rotate_confirm.html", context)
        key = services.signing_key_rotate(request=request, reason=reason)
        self.message_user(request, f"{key.kid} now signs; the old key stays published.")
        return redirect(reverse_lazy("admin:trust_signingkey_changelist"))


def _refund_said(receipt: Receipt) -> str:
    refund = receipt.payload.get("refund")
    if refund is None:
        return ""
    amount, total = refund["amount"], refund["refunded_total"]
    return (
        f"{amount['amount']} {amount['currency']} "
        f"(refunded so far {total['amount']} {total['currency']})"
    )


# A dispute this close to its deadline is shown amber in the work queue.
DEADLINE_NEAR = dt.timedelta(days=2)


def _duration(span: dt.timedelta) -> str:
    days, hours = span.days, span.seconds // 3600
    return f"{days} d {hours} h" if days else f"{hours} h {span.seconds % 3600 // 60} min"


@admin.register(Dispute)
class DisputeAdmin(Exported, Audited, NeverDeleted, ModelAdmin):
    """A work queue: open disputes first by deadline, each with its money and time left."""

    list_display = [
        "receipt",
        "amount",
        "opened_by",
        "reason",
        "status_badge",
        "time_left",
        "created_at",
    ]
    list_filter = ["status", "reason", "opened_by", "respond_by", "created_at"]
    search_fields = ["id", "receipt__id", "receipt__user__email", "evidence"]
    list_select_related = ["receipt"]
    raw_id_fields = ["receipt"]
    actions = ["start_review", "resolve_upheld", "resolve_refunded", "withdraw"]
    actions_detail = ["refund_this", "uphold_this", "withdraw_this"]
    status_badge = badge_column(Dispute.statuses)
    resource_classes = [DisputeResource]

    def get_fields(self, request, obj=None):
        if obj is None:  # opening a dispute from the admin
            return ["receipt", "opened_by", "reason", "evidence", "evidence_file"]
        return [
            "status_badge",
            "time_left",
            "amount",
            "opened_by",
            "opened_by_user",
            "reason",
            "evidence",
            "evidence_file",
            "receipt_chain",
            "provider_confirmation",
            "rail_confirmation",
            "resolution_note",
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def save_model(self, request, obj: Dispute, form, change) -> None:
        if change:
            return
        opened = services.dispute_open(
            receipt=obj.receipt,
            opened_by=obj.opened_by,
            reason=obj.reason,
            evidence=obj.evidence,
            evidence_file=obj.evidence_file,
            user=request.user,
        )
        obj.pk = opened.pk  # the page, its redirect and the audit event name what was opened

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # state moves only through the actions below

    def has_resolve_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("trust.resolve_dispute")

    def get_ordering(self, request):
        open_first = Case(When(status__in=OPEN_DISPUTE_STATUSES, then=0), default=1)
        return [open_first, "respond_by"]

    @display(description="Amount (settled)")
    def amount(self, dispute: Dispute) -> str:
        """What the receipt says was paid, as the payer saw it and as it settled."""
        amount = dispute.receipt.payload["amount"]
        local, settled = amount["local"], amount["settled"]
        if local == settled:
            return f"{local['amount']} {local['currency']}"
        return f"{local['amount']} {local['currency']} ({settled['amount']} {settled['currency']})"

    @display(description="Receipts")
    def receipt_chain(self, dispute: Dispute) -> str:
        """The disputed receipt and every receipt amending it (refunds, outcomes), in order."""
        chain = [dispute.receipt, *dispute.receipt.amendments.order_by("log_index")]
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}">#{}</a> {} {} · {}',
            (
                (
                    reverse("admin:trust_receipt_change", args=[receipt.pk]),
                    receipt.log_index,
                    Receipt.resolutions.badge(receipt.resolution),
                    _refund_said(receipt),
                    f"{receipt.issued_at:%d %b %Y %H:%M}",
                )
                for receipt in chain
            ),
        )

    @display(description="Provider's signed confirmation")
    def provider_confirmation(self, dispute: Dispute) -> str:
        return pretty_json(dispute.receipt.payload["source"].get("provider_confirmation"))

    @display(description="Rail's confirmation")
    def rail_confirmation(self, dispute: Dispute) -> str:
        return pretty_json(dispute.receipt.payload["source"].get("rail_confirmation"))

    @display(description="Respond by", ordering="respond_by")
    def time_left(self, dispute: Dispute) -> str:
        if dispute.status not in OPEN_DISPUTE_STATUSES:
            return f"{dispute.respond_by:%d %b %Y}"
        left = dispute.respond_by - timezone.now()
        if left < dt.timedelta(0):
            return badge(f"Overdue by {_duration(-left)}", Tone.DANGER)
        tone = Tone.WARNING if left < DEADLINE_NEAR else Tone.INFO
        return badge(f"{_duration(left)} left", tone)

    def _each(self, request, queryset, verb: str, change) -> None:
        for dispute in queryset:
            try:
                changed = change(dispute)
            except ApplicationError as error:
                self.message_user(request, f"{dispute}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{changed}: {verb}.", messages.SUCCESS)

    def _ask_reason(self, request, queryset, *, action: str, title: str, refund: bool = False):
        one = queryset.first() if refund and queryset.count() == 1 else None
        withdrawing = action == "withdraw"
        return ask_reason(
            self,
            request,
            queryset,
            action=action,
            title=title,
            explanation="The buyer no longer disputes it: the order returns to where it was."
            if withdrawing
            else "The decision is signed into a receipt amending the disputed one, and the "
            "buyer and the provider can see it. It cannot be undone.",
            amount_currency=one.receipt.payload["amount"]["local"]["currency"] if one else "",
        )

    @action(description="Start review", permissions=["resolve"])
    def start_review(self, request, queryset) -> None:
        self._each(
            request,
            queryset,
            "under review",
            lambda d: services.dispute_start_review(dispute=d, request=request),
        )

    @action(description="Resolve: uphold the charge (signed receipt)", permissions=["resolve"])
    def resolve_upheld(self, request, queryset):
        reason = asked_reason(request)
        if not reason:
            return self._ask_reason(
                request, queryset, action="resolve_upheld", title="Uphold the charge?"
            )
        self._each(
            request,
            queryset,
            "upheld",
            lambda d: services.dispute_resolve(
                dispute=d, outcome=Dispute.Status.RESOLVED_UPHELD, note=reason, request=request
            ),
        )
        return None

    @action(description="Resolve: refund the buyer (signed receipt)", permissions=["resolve"])
    def resolve_refunded(self, request, queryset):
        reason = asked_reason(request)
        if not reason:
            return self._ask_reason(
                request,
                queryset,
                action="resolve_refunded",
                title="Refund the buyer?",
                refund=True,
            )
        try:
            amount = asked_amount(request, queryset)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)
            return None
        self._each(
            request,
            queryset,
            "refunded",
            lambda d: services.dispute_resolve(
                dispute=d,
                outcome=Dispute.Status.RESOLVED_REFUNDED,
                note=reason,
                amount=amount,
                request=request,
            ),
        )
        return None

    # The dispute page's buttons: each asks the reason (and a refund's amount) on its own
    # page, which posts back to it, then does what the list's action of the same name does.

    @action(description="Refund the buyer", url_path="refund", permissions=["resolve"])
    def refund_this(self, request, object_id):
        return self._decide_one(request, object_id, self.resolve_refunded)

    @action(description="Reject: uphold the charge", url_path="uphold", permissions=["resolve"])
    def uphold_this(self, request, object_id):
        return self._decide_one(request, object_id, self.resolve_upheld)

    @action(description="Withdrawn by the buyer", url_path="withdraw", permissions=["resolve"])
    def withdraw_this(self, request, object_id):
        return self._decide_one(request, object_id, self.withdraw)

    def get_actions_detail(self, request, object_id):
        """A decided dispute offers no more decisions."""
        still_open = Dispute.objects.filter(pk=object_id, status__in=OPEN_DISPUTE_STATUSES)
        return super().get_actions_detail(request, object_id) if still_open.exists() else []

    def _decide_one(self, request, object_id, decide):
        reason_page = decide(request, Dispute.objects.filter(pk=object_id))
        return reason_page or redirect(reverse("admin:trust_dispute_change", args=[object_id]))

    @action(description="Withdraw (the buyer no longer disputes it)", permissions=["resolve"])
    def withdraw(self, request, queryset):
        reason = asked_reason(request)
        if not reason:
            return self._ask_reason(
                request, queryset, action="withdraw", title="Withdraw these disputes?"
            )
        self._each(
            request,
            queryset,
            "withdrawn",
            lambda d: services.dispute_withdraw(dispute=d, reason=reason, request=request),
        )
        return None
