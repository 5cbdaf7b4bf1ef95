"""Models of the DMP app, one module per use case: feeding orders (``feeding``) and the traces,
links and settings of the consultation (``consultation``)."""

from dmp.models.consultation import (
    DmpTransaction,
    IntegratedDmpDocument,
    NewDocumentsAcknowledgement,
    NewDocumentsRule,
)
from dmp.models.feeding import (
    BusinessAck,
    DeletionReason,
    FeedingChannel,
    FeedingDelay,
    FeedingOrder,
    OrderKind,
    OrderState,
    Purpose,
    Trigger,
)

__all__ = [
    "BusinessAck",
    "DeletionReason",
    "DmpTransaction",
    "FeedingChannel",
    "FeedingDelay",
    "FeedingOrder",
    "IntegratedDmpDocument",
    "NewDocumentsAcknowledgement",
    "NewDocumentsRule",
    "OrderKind",
    "OrderState",
    "Purpose",
    "Trigger",
]
