"""A small knowledge base about a fictional product, and questions users ask about it."""

from __future__ import annotations

from typing import Final

DOCUMENTS: Final[list[tuple[str, str, dict[str, str]]]] = [
    (
        "billing-1",
        "Invoices are issued on the first day of each month and can be downloaded as PDF "
        "from the Billing page of the Acme Cloud console.",
        {"topic": "billing", "source": "billing.md"},
    ),
    (
        "billing-2",
        "Acme Cloud accepts credit cards and SEPA direct debit; bank transfers are "
        "available for annual plans only.",
        {"topic": "billing", "source": "billing.md"},
    ),
    (
        "billing-3",
        "A refund for an unused annual plan is prorated and paid back within 14 days of "
        "the cancellation request.",
        {"topic": "billing", "source": "refunds.md"},
    ),
    (
        "security-1",
        "Two-factor authentication can be enabled under Account, Security; Acme Cloud "
        "supports authenticator apps and hardware keys.",
        {"topic": "security", "source": "security.md"},
    ),
    (
        "security-2",
        "All data is encrypted at rest with AES-256 and in transit with TLS 1.3; "
        "customer-managed keys are available on the Enterprise plan.",
        {"topic": "security", "source": "security.md"},
    ),
    (
        "security-3",
        "Single sign-on works with any SAML 2.0 or OpenID Connect identity provider, "
        "such as Okta or Azure AD.",
        {"topic": "security", "source": "sso.md"},
    ),
    (
        "storage-1",
        "Each bucket holds unlimited objects; a single object can be at most 5 TB, and "
        "uploads above 100 MB should use multipart upload.",
        {"topic": "storage", "source": "storage.md"},
    ),
    (
        "storage-2",
        "Object versioning keeps every previous version of an object until a lifecycle "
        "rule deletes it.",
        {"topic": "storage", "source": "storage.md"},
    ),
    (
        "storage-3",
        "Lifecycle rules move objects older than 30 days to the cold tier, which costs a "
        "fifth of the standard tier.",
        {"topic": "storage", "source": "lifecycle.md"},
    ),
    (
        "compute-1",
        "Virtual machines start in under ten seconds and are billed per second with a "
        "one-minute minimum.",
        {"topic": "compute", "source": "compute.md"},
    ),
    (
        "compute-2",
        "Autoscaling groups add machines when average CPU stays above the target for "
        "three minutes and remove them after ten idle minutes.",
        {"topic": "compute", "source": "autoscaling.md"},
    ),
    (
        "compute-3",
        "GPU machines with one to eight accelerators are available in the Frankfurt and "
        "Virginia regions.",
        {"topic": "compute", "source": "gpu.md"},
    ),
    (
        "support-1",
        "Support is reached through the console chat or support@acme.example; Business "
        "plans get a one-hour response time.",
        {"topic": "support", "source": "support.md"},
    ),
    (
        "support-2",
        "The status page at status.acme.example lists incidents and planned maintenance "
        "for every region.",
        {"topic": "support", "source": "support.md"},
    ),
]

QUESTIONS: Final[list[str]] = [
    "How do I download my invoice?",
    "Is my data encrypted at rest?",
    "What is the largest object I can store in a bucket?",
    "How quickly do new virtual machines start?",
    "How can I reach support?",
]

# Questions about a topic the knowledge base does not cover: the drift scenario's second half.
OFF_TOPIC_QUESTIONS: Final[list[str]] = [
    "Can I run a managed PostgreSQL database with read replicas?",
    "How do I create a database backup and restore it to a point in time?",
    "Which database engines and versions does the managed database service support?",
    "How many connections can a managed database instance accept?",
    "Can I scale database storage without downtime?",
    "Is there automatic failover for the managed database?",
    "How do I migrate my MySQL database into Acme Cloud?",
    "What does a database read replica cost per hour?",
]

# A wider set of on-topic questions for query streams (the drift scenario).
STREAM_QUESTIONS: Final[list[str]] = [
    *QUESTIONS,
    "When are invoices issued each month?",
    "Which payment methods does Acme Cloud accept?",
    "Can I pay an annual plan by bank transfer?",
    "How long does a refund take after I cancel?",
    "How do I turn on two-factor authentication?",
    "Can I use a hardware key to log in?",
    "Does single sign-on work with Okta?",
    "Is data encrypted in transit with TLS?",
    "Can I bring my own encryption keys?",
    "Should I use multipart upload for large files?",
    "How does object versioning work in a bucket?",
    "When do lifecycle rules move objects to the cold tier?",
    "How are virtual machines billed?",
    "When does autoscaling add new machines?",
    "Which regions have GPU machines?",
    "What is the response time for Business support plans?",
    "Where can I see incidents and planned maintenance?",
]
