//! The cloud as the engine sees it: a few operations in domain terms. `tencent_cloud`
//! implements it over the Tencent client (real cloud or simulator alike); keeping the engine
//! behind this seam keeps its state machine readable and lets it hold no wire types.
//!
//! Every method is safe to call again after a crash: reads are reads, and each write is
//! preceded by the engine's own reconcile (describe before create).

use std::{collections::BTreeMap, future::Future, pin::Pin, sync::Arc};

use serde::{Deserialize, Serialize};

use super::ids::NatGatewayId;
use super::observed::{Address, Inventory, NatGateway, Route, RouteTable, SnatRule};
use super::plan::Change;
use super::steps::assess::Egress;
use crate::store::{RunId, Step};
use crate::tencent::Refusal;

pub type CloudFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CloudError>> + Send + 'a>>;

/// A failed cloud call as the operator must see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{action}: {code}: {message}{}", .request_id.as_ref().map(|r| format!(" (RequestId {r})")).unwrap_or_default())]
pub struct CloudError {
    pub action: String,
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
    /// Retrying later can succeed without anyone changing anything.
    pub retryable: bool,
}

impl CloudError {
    /// An error the engine itself raises about cloud state (no RequestId).
    pub fn state(action: &str, code: &str, message: impl Into<String>) -> CloudError {
        CloudError {
            action: action.to_owned(),
            code: code.to_owned(),
            message: message.into(),
            request_id: None,
            retryable: false,
        }
    }

    /// The RequestId of the call whose answer showed the problem (a describe that saw a
    /// failed state), so the operator can quote it to Tencent support.
    pub fn with_request_id(mut self, request_id: Option<String>) -> CloudError {
        if self.request_id.is_none() {
            self.request_id = request_id;
        }
        self
    }

    /// A call the ledger refused to send (see `LedgerSink::sent`).
    pub fn refused(action: &str, refusal: Refusal) -> CloudError {
        CloudError {
            action: action.to_owned(),
            code: refusal.code,
            message: refusal.reason,
            request_id: None,
            retryable: false,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.code.starts_with("ResourceNotFound")
            || self.code.starts_with("InvalidAddressId.NotFound")
            || self.code == "InvalidParameterValue.AddressNotFound"
            || self.code == "InvalidParameterValue.AddressIpsNotFound"
    }
}

/// What a describe answered, with the RequestId of the answer (quoted in errors about it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Seen<T> {
    pub items: T,
    pub request_id: Option<String>,
}

/// Where a call's ledger entry belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallScope {
    pub run: RunId,
    pub step: Step,
}

pub type LedgerFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One call attempt about to leave, as the ledger records it.
#[derive(Debug, Clone, Copy)]
pub struct LedgerCall<'a> {
    pub service: &'a str,
    pub action: &'a str,
    pub region: &'a str,
    pub attempt: u32,
    /// Changes the cloud: sent only while this process holds the run's lease.
    pub mutates: bool,
    /// Redacted request parameters.
    pub params: &'a serde_json::Value,
}

/// How an attempt ended.
#[derive(Debug, Clone)]
pub struct LedgerAnswer {
    pub request_id: Option<String>,
    pub duration_ms: i64,
    /// `None` for success, else the error code.
    pub error_code: Option<String>,
}

/// The run's write-ahead ledger, as a cloud sees it (the engine stores it in `api_calls`).
pub trait LedgerSink: Send + Sync {
    /// Records the attempt as sent and returns its entry id, before the request leaves; the
    /// attempt must not be sent when this refuses (a mutating call while this process does not
    /// hold the run's lease, or a ledger that cannot be written).
    fn sent<'a>(&'a self, call: LedgerCall<'a>) -> LedgerFuture<'a, Result<i64, Refusal>>;
    /// Completes the entry with the answer.
    fn answered(&self, entry: i64, answer: LedgerAnswer) -> LedgerFuture<'_, ()>;
}

/// Makes a `Cloud` for one (account, region) whose calls land in `ledger`.
pub trait CloudConnector: Send + Sync {
    fn connect(
        &self,
        account: &str,
        region: &str,
        ledger: Arc<dyn LedgerSink>,
    ) -> Result<Arc<dyn Cloud>, CloudError>;
}

pub trait Cloud: Send + Sync {
    /// Every page of subnets, route tables, instances (with TAT agent state), EIPs and the VPC's
    /// ordinary public IPs, NAT gateways, DNS records and the EIP quota.
    fn inventory<'a>(&'a self, vpc_id: &'a str) -> CloudFuture<'a, Inventory>;
    /// `curl -s --max-time 10 ifconfig.co` through TAT on each instance; stopped instances and
    /// offline agents come back `Untestable` without a command being sent to them.
    fn egress_test<'a>(
        &'a self,
        inventory: &'a Inventory,
        instance_ids: &'a [String],
    ) -> CloudFuture<'a, BTreeMap<String, Egress>>;
    /// The VPC's NAT gateways, with the RequestId of the answer.
    fn nat_gateways<'a>(&'a self, vpc_id: &'a str) -> CloudFuture<'a, Seen<Vec<NatGateway>>>;
    /// Sends CreateNatGateway (a `Change::CreateNatGateway`); returns the new gateway id.
    fn create_nat<'a>(
        &'a self,
        vpc_id: &'a str,
        change: &'a Change,
    ) -> CloudFuture<'a, NatGatewayId>;
    fn delete_nat<'a>(&'a self, nat_id: &'a NatGatewayId) -> CloudFuture<'a, ()>;
    fn route_table<'a>(&'a self, table_id: &'a str) -> CloudFuture<'a, Option<RouteTable>>;
    /// CreateRoutes: `0.0.0.0/0 → nat_id`, with `description` on the route.
    fn create_default_route<'a>(
        &'a self,
        table_id: &'a str,
        nat_id: &'a NatGatewayId,
        description: &'a str,
    ) -> CloudFuture<'a, ()>;
    /// ReplaceRoutes on `current` (same RouteId): its next hop and description become those
    /// of `next`.
    fn replace_route<'a>(
        &'a self,
        table_id: &'a str,
        current: &'a Route,
        next: &'a Route,
    ) -> CloudFuture<'a, ()>;
    fn create_route<'a>(&'a self, table_id: &'a str, route: &'a Route) -> CloudFuture<'a, ()>;
    fn delete_route<'a>(&'a self, table_id: &'a str, route: &'a Route) -> CloudFuture<'a, ()>;
    /// EIPs of the region and ordinary public IPs of `instance_ids` (address-type WanIP).
    fn addresses<'a>(&'a self, instance_ids: &'a [String]) -> CloudFuture<'a, Vec<Address>>;
    /// The EIP(s) holding `ip` — one DescribeAddresses call, where `addresses` lists the whole
    /// region (rollback binds thousands back, one look each).
    fn eips_with_ip<'a>(&'a self, ip: &'a str) -> CloudFuture<'a, Vec<Address>>;
    /// DisassociateAddress and wait for its task.
    fn disassociate_address<'a>(&'a self, address_id: &'a str) -> CloudFuture<'a, ()>;
    /// AssociateAddress and wait for its task.
    fn associate_address<'a>(
        &'a self,
        address_id: &'a str,
        instance_id: &'a str,
    ) -> CloudFuture<'a, ()>;
    /// ReleaseAddresses and wait for its task. Irreversible.
    fn release_address<'a>(&'a self, address_id: &'a str) -> CloudFuture<'a, ()>;
    /// TransformAddress and wait for its task; returns the new EIP's id.
    fn transform_address<'a>(&'a self, instance_id: &'a str) -> CloudFuture<'a, String>;
    /// ReturnNormalAddresses. Irreversible.
    fn return_normal_address<'a>(&'a self, ip: &'a str) -> CloudFuture<'a, ()>;

    // Issue 12 (keeping egress IPs). A cloud that does not implement them refuses clearly;
    // the unit-test fake of `engine::tests` is such a cloud.

    /// Every SNAT rule of the gateway (DescribeNatGatewaySourceIpTranslationNatRules).
    fn snat_rules<'a>(&'a self, nat_id: &'a NatGatewayId) -> CloudFuture<'a, Vec<SnatRule>> {
        let _ = nat_id;
        unsupported("DescribeNatGatewaySourceIpTranslationNatRules")
    }
    /// CreateNatGatewaySourceIpTranslationNatRule for a `Change::CreateSnatRule`; answers no
    /// id (find the rule with [`Cloud::snat_rules`] by its description).
    fn create_snat_rule<'a>(&'a self, change: &'a Change) -> CloudFuture<'a, ()> {
        let _ = change;
        unsupported("CreateNatGatewaySourceIpTranslationNatRule")
    }
    fn delete_snat_rule<'a>(
        &'a self,
        nat_id: &'a NatGatewayId,
        snat_id: &'a str,
    ) -> CloudFuture<'a, ()> {
        let _ = (nat_id, snat_id);
        unsupported("DeleteNatGatewaySourceIpTranslationNatRule")
    }
    /// AssociateNatGatewayAddress with one existing EIP, and wait for its VPC task.
    fn associate_nat_address<'a>(
        &'a self,
        nat_id: &'a NatGatewayId,
        ip: &'a str,
    ) -> CloudFuture<'a, ()> {
        let _ = (nat_id, ip);
        unsupported("AssociateNatGatewayAddress")
    }
    /// DisassociateNatGatewayAddress of one EIP, and wait for its VPC task.
    fn disassociate_nat_address<'a>(
        &'a self,
        nat_id: &'a NatGatewayId,
        ip: &'a str,
    ) -> CloudFuture<'a, ()> {
        let _ = (nat_id, ip);
        unsupported("DisassociateNatGatewayAddress")
    }
}

fn unsupported<'a, T: 'a>(action: &'static str) -> CloudFuture<'a, T> {
    Box::pin(async move {
        Err(CloudError::state(
            action,
            "natpilot.Unsupported",
            "this cloud connection cannot keep egress IPs (no SNAT rules)",
        ))
    })
}
