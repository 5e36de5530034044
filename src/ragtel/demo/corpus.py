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

# Questions about a topic the knowledge base does not cover (managed databases): the drift
# scenario's second half. Worded the way users ask, so they share words with each other and, as
# real questions do, now and then with the corpus ("region", "billed", "CPU", "encrypted").
OFF_TOPIC_QUESTIONS: Final[list[str]] = [
    "Can I run a managed PostgreSQL database with read replicas?",
    "How do I create a database backup and restore it to a point in time?",
    "Which database engines and versions can I run as a managed database?",
    "How many connections can a managed database instance accept?",
    "Can I scale database storage without downtime?",
    "Is there automatic failover for the managed database?",
    "How do I migrate my MySQL database into Acme Cloud?",
    "What does a database read replica cost per hour?",
    "Which PostgreSQL extensions can I install on a managed database?",
    "Can I upgrade my database to a new major PostgreSQL version?",
    "How often are automated database backups taken?",
    "How long are database backups retained?",
    "Does the managed database offer connection pooling?",
    "Can I change database parameters such as max_connections?",
    "How do I find slow queries on my database?",
    "Is there a MongoDB compatible database service?",
    "Can a database replicate to another region?",
    "How do I restore a database I deleted by mistake?",
    "What is the maximum size of a managed database?",
    "Can I pause a database instance to save money?",
    "How do I rotate the password of a database user?",
    "Can I connect to my database over a private network only?",
    "Is MySQL 8 supported by the managed database service?",
    "How do I export a dump of my database?",
    "How do I import a SQL dump into a managed database?",
    "Can a read replica be promoted to the primary database?",
    "Does my database go offline while it is being patched?",
    "How do I watch database CPU and memory usage?",
    "Can the managed PostgreSQL database do logical replication?",
    "Which database instance sizes can I choose from?",
    "Can I get a highly available database across availability zones?",
    "How do I create a read-only database user?",
    "Are database snapshots encrypted?",
    "Why are queries on my PostgreSQL database slow?",
    "Is there a serverless database option?",
    "How are managed database instances billed?",
    "Can I run SQL Server as a managed database?",
    "How do I clone a production database for testing?",
]

# On-topic questions for query streams (the drift scenario), by the document that answers them:
# worded as users ask, with the terms of the documentation they have read.
QUESTIONS_BY_DOCUMENT: Final[dict[str, list[str]]] = {
    "billing-1": [
        "How do I download my invoice?",
        "When are invoices issued each month?",
        "Where in the console can I find the invoices for each month?",
        "Are invoices issued as PDF?",
        "On which day of the month is the invoice issued?",
        "Where in the console is the Billing page with my invoices?",
        "Is last month's invoice still available as PDF on the Billing page?",
    ],
    "billing-2": [
        "Which payment methods does Acme Cloud accept, credit cards or direct debit?",
        "Can I pay an annual plan by bank transfer?",
        "Do you accept credit cards?",
        "Is SEPA direct debit accepted?",
        "Are bank transfers available for monthly plans?",
        "Can I pay by SEPA direct debit instead of a credit card?",
    ],
    "billing-3": [
        "How long does a refund take after a cancellation request?",
        "Do I get a refund if I cancel my annual plan?",
        "Is the refund for an unused annual plan prorated?",
        "Is the refund paid back within 14 days?",
        "How do I request a refund for an unused annual plan?",
    ],
    "security-1": [
        "How do I turn on two-factor authentication?",
        "Can I use hardware keys for two-factor authentication?",
        "Which authenticator apps work with two-factor authentication?",
        "Where do I enable two-factor authentication in my account security settings?",
        "Does Acme Cloud support hardware keys or only authenticator apps?",
    ],
    "security-2": [
        "Is my data encrypted at rest?",
        "Is data encrypted in transit with TLS?",
        "Does the Enterprise plan include customer-managed keys?",
        "Which encryption protects data at rest, is it AES-256?",
        "Are customer-managed encryption keys available?",
        "Which TLS version protects data in transit?",
    ],
    "security-3": [
        "Does single sign-on work with Okta?",
        "Can I set up single sign-on with Azure AD?",
        "Which identity providers work with single sign-on?",
        "Is SAML 2.0 supported for single sign-on?",
        "Can I use OpenID Connect for single sign-on?",
    ],
    "storage-1": [
        "What is the largest object I can store in a bucket?",
        "Should I use multipart upload for large files?",
        "How many objects can a bucket hold?",
        "How large can a single object be?",
        "What is the largest single object a bucket can hold?",
        "When should I switch to multipart upload?",
        "Can I upload a 5 TB object to a bucket?",
    ],
    "storage-2": [
        "How does object versioning work?",
        "Can I get back a previous version of an object?",
        "How long does versioning keep a previous version of an object?",
        "Does object versioning keep every version forever?",
        "Can a lifecycle rule delete old versions of an object?",
    ],
    "storage-3": [
        "When do lifecycle rules move objects to the cold tier?",
        "How much cheaper is the cold tier than the standard tier?",
        "Can a lifecycle rule move old objects to the cold tier?",
        "What does the cold tier cost compared to the standard tier?",
        "After how many days do lifecycle rules move objects?",
    ],
    "compute-1": [
        "How quickly do new virtual machines start?",
        "How are virtual machines billed?",
        "Is there a minimum charge for a virtual machine, like one minute?",
        "Are virtual machines billed per second or per hour?",
        "How long does it take a virtual machine to start?",
    ],
    "compute-2": [
        "When do autoscaling groups add machines?",
        "How does an autoscaling group decide to remove machines?",
        "Which average CPU target triggers autoscaling?",
        "How long must CPU stay above the target before autoscaling adds machines?",
        "When are idle machines removed from an autoscaling group?",
    ],
    "compute-3": [
        "Which regions have GPU machines?",
        "How many accelerators are available on GPU machines?",
        "Can I run GPU machines in Frankfurt?",
        "Are GPU machines available in the Virginia region?",
        "Are GPU machines available with eight accelerators?",
    ],
    "support-1": [
        "How can I reach support?",
        "What is the response time for Business support plans?",
        "Can I reach support through the console chat?",
        "Can I email support instead of using the console chat?",
        "How fast does support respond on a Business plan?",
    ],
    "support-2": [
        "Where can I see incidents and planned maintenance?",
        "Is there a status page that lists incidents?",
        "How do I find out about planned maintenance in my region?",
        "Where does the status page list current incidents?",
        "Does the status page cover every region?",
    ],
}

STREAM_QUESTIONS: Final[list[str]] = [q for qs in QUESTIONS_BY_DOCUMENT.values() for q in qs]
