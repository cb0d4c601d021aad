"""The writeback gateway: the one place that writes to external systems (store, chat, helpdesk, 3PL).

Every action is checked against policy and the workflow's rollout mode, audited before anything is
sent, made idempotent by a ledger key, sent with retries, and its outcome recorded. What an action is,
and the policy, are pure and live in ``oms_pipeline.domain.writeback``.
"""
