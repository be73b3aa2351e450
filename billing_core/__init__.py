"""Billing core: customers, plans, invoices, payments, concessions and their audit trail.

Services are keyword-only functions over a session the caller owns; they raise
`billing_core.errors.BillingError` subclasses and never commit.
"""
