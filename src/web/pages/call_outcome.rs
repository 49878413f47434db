//! How a ledger row's outcome reads on the run and ledger pages. A row still `sent` is a call
//! whose answer nobody recorded — the process stopped while it was in flight — so its outcome
//! is unknown; the page says which look of the resumed engine settles what it did.

use crate::store::ledger::{ApiCall, CallState};

/// The resumed engine's reconcile-first look that settles an action whose answer was lost.
pub(crate) fn reconciled_by(action: &str) -> &'static str {
    match action {
        "CreateNatGateway" | "DeleteNatGateway" => {
            "the DescribeNatGateways lookup (by the run's tag) that the resumed step makes before it creates or deletes a gateway"
        }
        "CreateRoutes" | "ReplaceRoutes" | "DeleteRoutes" => {
            "the DescribeRouteTables read that the resumed step makes before it changes a route"
        }
        "AssociateAddress"
        | "DisassociateAddress"
        | "ReleaseAddresses"
        | "TransformAddress"
        | "ReturnNormalAddresses"
        | "AllocateAddresses" => {
            "the DescribeAddresses read that the resumed step makes before it changes an address"
        }
        "RunCommand" => "the egress test, which the resumed step runs again",
        a if !crate::tencent::action::mutates(a) => "nothing: a read changes nothing",
        _ => "the describe that the resumed step makes before it acts",
    }
}

/// Rendering helpers on a ledger row (used by `partials/call_row.html`).
pub(crate) trait CallOutcomeView {
    /// For a row left `sent`: what reconciles it.
    fn unknown_outcome(&self) -> Option<&'static str>;
}

impl CallOutcomeView for ApiCall {
    fn unknown_outcome(&self) -> Option<&'static str> {
        (self.state == CallState::Sent).then(|| reconciled_by(&self.action))
    }
}
