//! The closed sets of words the contract allows (roles, ledger kinds, statuses, webhook
//! events), each parsed once into an enum at the edge.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, CoreResult};

/// A closed set of words the contract allows: parsed once into a variant, so code past the
/// edge matches on variants (the compiler checks every case) and never compares strings.
macro_rules! choices {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal $label:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// Each word with the label a person reads (the staff site's choices).
            pub const CHOICES: &'static [(&'static str, &'static str)] = &[$(($text, $label),)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            /// The variant a request names, or the contract's message for a word outside the set.
            pub fn parse(s: &str) -> Result<$name, String> {
                match s {
                    $($text => Ok($name::$variant),)*
                    other => Err(format!("\"{other}\" is not a valid choice.")),
                }
            }

            /// The words of `set`, for a SQL `IN` list.
            pub fn strs(set: &[$name]) -> Vec<&'static str> {
                set.iter().map(|v| v.as_str()).collect()
            }

            /// As [`Self::parse`], as the 400 of the field the word came in.
            pub fn parse_field(field: &str, s: &str) -> CoreResult<$name> {
                Self::parse(s).map_err(|m| CoreError::validation(field, m))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

choices! {
    /// What a user may do; see API.md §2.3 for the table of who may do what.
    Role {
        Admin = "admin" "Admin",
        Manager = "manager" "Manager",
        Employee = "employee" "Employee",
        Auditor = "auditor" "Auditor",
    }
}

choices! {
    /// Why a ledger row changed a quantity. The last five are booked by the system only (a
    /// transfer's two legs, a purchase order's receipt, a sales order's shipment and return).
    AdjustmentKind {
        Receive = "receive" "Receive",
        Sale = "sale" "Sale",
        Remove = "remove" "Remove",
        Loss = "loss" "Loss",
        Correction = "correction" "Correction",
        Audit = "audit" "Audit",
        TransferOut = "transfer_out" "Transfer out",
        TransferIn = "transfer_in" "Transfer in",
        OrderReceipt = "order_receipt" "Order receipt",
        Shipment = "shipment" "Shipment",
        Return = "return" "Return",
    }
}

impl AdjustmentKind {
    /// For the kinds a person books through the adjustments endpoint, whether it takes a
    /// manager (those that can rewrite history's totals); `None` for the system's kinds.
    pub fn needs_manager(self) -> Option<bool> {
        match self {
            AdjustmentKind::Receive | AdjustmentKind::Sale | AdjustmentKind::Remove => Some(false),
            AdjustmentKind::Correction | AdjustmentKind::Audit | AdjustmentKind::Loss => Some(true),
            AdjustmentKind::TransferOut
            | AdjustmentKind::TransferIn
            | AdjustmentKind::OrderReceipt
            | AdjustmentKind::Shipment
            | AdjustmentKind::Return => None,
        }
    }
}

choices! {
    /// What a webhook can subscribe to (API.md §11). `ping` is not among them: it is sent to
    /// one webhook on request, whatever it subscribes to.
    WebhookEvent {
        StockChanged = "stock.changed" "Stock changed (a ledger row)",
        ProductCreated = "product.created" "Product created",
        ProductUpdated = "product.updated" "Product updated",
        ProductDeleted = "product.deleted" "Product deleted",
        AlertOpened = "alert.opened" "Alert opened",
        TransferCompleted = "transfer.completed" "Transfer completed",
        OrderReceived = "order.received" "Purchase order received",
        SalesOrderShipped = "sales_order.shipped" "Sales order shipped",
    }
}

choices! {
    /// Where a purchase order stands, from draft to received (API.md §5).
    OrderStatus {
        Draft = "draft" "Draft",
        Submitted = "submitted" "Submitted",
        Approved = "approved" "Approved",
        PartiallyReceived = "partially_received" "Partially received",
        Received = "received" "Received",
        Cancelled = "cancelled" "Cancelled",
    }
}

impl OrderStatus {
    /// The statuses of an order still expected to bring goods.
    pub const OPEN: [OrderStatus; 4] = [
        OrderStatus::Draft,
        OrderStatus::Submitted,
        OrderStatus::Approved,
        OrderStatus::PartiallyReceived,
    ];
}

choices! {
    /// Where a sales order stands: a draft reserves nothing; confirming reserves every line at
    /// the order's location; shipments consume the reservation.
    SalesStatus {
        Draft = "draft" "Draft",
        Confirmed = "confirmed" "Confirmed",
        PartiallyShipped = "partially_shipped" "Partially shipped",
        Shipped = "shipped" "Shipped",
        Cancelled = "cancelled" "Cancelled",
    }
}

choices! {
    /// Where a transfer between locations stands: decided once, from pending.
    TransferStatus {
        Pending = "pending" "Pending",
        Completed = "completed" "Completed",
        Rejected = "rejected" "Rejected",
        Cancelled = "cancelled" "Cancelled",
    }
}

choices! {
    /// Where a low-stock alert stands: open until acknowledged or until stock recovers.
    AlertStatus {
        Open = "open" "Open",
        Acknowledged = "acknowledged" "Acknowledged",
        Resolved = "resolved" "Resolved",
    }
}
