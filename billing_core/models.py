"""Every model, imported once so `Base.metadata` is complete (Alembic, tests)."""
from billing_core.arrangements.models import ArrangementInstalment, PaymentArrangement
from billing_core.audit.models import AuditEvent
from billing_core.concessions.models import Adjustment, ConcessionPolicy
from billing_core.customers.models import Account, Customer
from billing_core.db import Base
from billing_core.invoices.models import Invoice, InvoiceLine, Payment
from billing_core.plans.models import Plan, PlanChange, Subscription, UsageRecord
from billing_core.retention.models import RetentionOutcome
from billing_core.staff.models import StaffUser

__all__ = [
    "Account", "Adjustment", "ArrangementInstalment", "AuditEvent", "Base", "ConcessionPolicy",
    "Customer", "Invoice", "InvoiceLine", "Payment", "PaymentArrangement", "Plan", "PlanChange",
    "RetentionOutcome", "StaffUser", "Subscription", "UsageRecord",
]
