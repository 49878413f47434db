//! `Cloud` over the Tencent client: the same code path for Tencent Cloud and the simulator.
//! Every call attempt of a run gets its ledger row before it leaves, through the client's
//! write-ahead journal (which also refuses a mutating call whose run lease is not held). Creates without an
//! idempotency token that fail ambiguously (`MaybeApplied`) are reconciled here by looking the
//! resource up before the error is believed.

mod addresses;
mod egress;
mod inventory;
mod nat;
mod snat;

use std::sync::Arc;

use crate::tencent::journal::{Attempt, CallJournal, EntryId, JournalFuture, Refusal};
use crate::tencent::observer::{CallOutcome, CallRecord};
use crate::tencent::{Action, Client, TencentError};
use crate::wizard::cloud::{
    Cloud, CloudConnector, CloudError, LedgerAnswer, LedgerCall, LedgerSink,
};
use crate::wizard::poll::Poll;

/// Hands out per-run clouds sharing one client per account (one HTTP pool, one rate limiter).
#[derive(Clone)]
pub struct TencentConnector {
    client: Client,
    /// The portal's accounts (issue 13): a run's cloud is its account's client. `None`: every
    /// run uses `client` (engine tests, benchmarks).
    accounts: Option<crate::estate::CloudAccounts>,
    /// The rehearsals' simulated twins (issue 13 item 7): a run whose account is a twin's
    /// label connects only here.
    twins: crate::rehearsal::Twins,
    /// Pauses between polls of asynchronous work (EIP tasks, TAT invocations).
    poll: Poll,
}

impl TencentConnector {
    pub fn new(client: Client, poll: Poll) -> TencentConnector {
        TencentConnector {
            client,
            accounts: None,
            twins: Default::default(),
            poll,
        }
    }

    /// Runs act through the client of the account they were started in.
    /// Rehearsal runs act through their twin's client, found in `twins`.
    pub fn for_accounts(
        accounts: crate::estate::CloudAccounts,
        twins: crate::rehearsal::Twins,
        poll: Poll,
    ) -> TencentConnector {
        let client = accounts
            .default_account()
            .client
            .clone()
            .expect("the default account always has a client");
        TencentConnector {
            client,
            accounts: Some(accounts),
            twins,
            poll,
        }
    }
}

impl CloudConnector for TencentConnector {
    fn connect(
        &self,
        account: &str,
        region: &str,
        ledger: Arc<dyn LedgerSink>,
    ) -> Result<Arc<dyn Cloud>, CloudError> {
        // A run of an account that is no longer configured (or whose entry is broken) fails
        // closed, naming the account: acting with another account's keys would be worse.
        // A rehearsal's run reaches its twin or nothing: never the default client, never a
        // real account (a lost twin after a restart fails closed with the reason).
        let client = match &self.accounts {
            _ if crate::rehearsal::TwinLabel::is_twin(account) => {
                self.twins.client(account).map_err(|message| CloudError {
                    action: "connect".into(),
                    code: "natpilot.TwinLost".into(),
                    message,
                    request_id: None,
                    retryable: false,
                })?
            }
            None => self.client.clone(),
            Some(accounts) => accounts.client(account).map_err(|message| CloudError {
                action: "connect".into(),
                code: "natpilot.AccountUnavailable".into(),
                message,
                request_id: None,
                retryable: false,
            })?,
        };
        Ok(Arc::new(TencentCloud {
            client: ledgered(&client, ledger),
            region: region.to_owned(),
            poll: self.poll,
        }))
    }
}

/// The client's write-ahead journal over the run's ledger: the row of each attempt is
/// written (and for a mutating call, the run's lease checked) before the attempt leaves.
struct LedgerJournal(Arc<dyn LedgerSink>);

/// `client` with every attempt written ahead in `ledger` (a rehearsal's copy of its real VPC).
pub(crate) fn ledgered(client: &Client, ledger: Arc<dyn LedgerSink>) -> Client {
    client.with_journal(Arc::new(LedgerJournal(ledger)))
}

impl CallJournal for LedgerJournal {
    fn before_send<'a>(
        &'a self,
        a: &'a Attempt<'a>,
    ) -> JournalFuture<'a, Result<EntryId, Refusal>> {
        self.0.sent(LedgerCall {
            service: a.service.name(),
            action: a.action,
            region: a.region,
            attempt: a.attempt,
            mutates: a.mutates,
            params: a.parameters,
        })
    }

    fn after_answer<'a>(&'a self, entry: EntryId, r: &'a CallRecord) -> JournalFuture<'a, ()> {
        self.0.answered(
            entry,
            LedgerAnswer {
                request_id: r.request_id.clone(),
                duration_ms: i64::try_from(r.duration.as_millis()).unwrap_or(i64::MAX),
                error_code: match &r.outcome {
                    CallOutcome::Ok => None,
                    CallOutcome::Error { code } => Some(code.clone()),
                },
            },
        )
    }
}

pub struct TencentCloud {
    client: Client,
    region: String,
    poll: Poll,
}

pub(crate) fn cloud_error(action: &str, e: &TencentError) -> CloudError {
    let message = match e {
        TencentError::Api { message, .. } => message.clone(),
        other => other.to_string(),
    };
    CloudError {
        action: action.to_owned(),
        code: e.outcome_code(),
        message,
        request_id: e.request_id().map(str::to_owned),
        retryable: e.is_retryable(),
    }
}

impl TencentCloud {
    async fn call<A: Action>(&self, req: &A::Request) -> Result<A::Response, CloudError> {
        self.client
            .call::<A>(&self.region, req)
            .await
            .map_err(|e| cloud_error(A::NAME, &e))
    }

    /// Like `call`, but hands back an ambiguous failure of an unsafe create for reconciling.
    async fn call_raw<A: Action>(&self, req: &A::Request) -> Result<A::Response, TencentError> {
        self.client.call::<A>(&self.region, req).await
    }

    async fn fetch_all<A: crate::tencent::PagedAction>(
        &self,
        req: &A::Request,
    ) -> Result<Vec<A::Item>, CloudError> {
        self.client
            .fetch_all::<A>(&self.region, req)
            .await
            .map_err(|e| cloud_error(A::NAME, &e))
    }
}

impl Cloud for TencentCloud {
    fn inventory<'a>(
        &'a self,
        vpc_id: &'a str,
    ) -> crate::wizard::cloud::CloudFuture<'a, crate::wizard::observed::Inventory> {
        Box::pin(self.load_inventory(vpc_id))
    }
    fn egress_test<'a>(
        &'a self,
        inventory: &'a crate::wizard::observed::Inventory,
        instance_ids: &'a [String],
    ) -> crate::wizard::cloud::CloudFuture<
        'a,
        std::collections::BTreeMap<String, crate::wizard::steps::assess::Egress>,
    > {
        Box::pin(self.run_egress_test(inventory, instance_ids))
    }
    fn nat_gateways<'a>(
        &'a self,
        vpc_id: &'a str,
    ) -> crate::wizard::cloud::CloudFuture<
        'a,
        crate::wizard::cloud::Seen<Vec<crate::wizard::observed::NatGateway>>,
    > {
        Box::pin(self.list_nats_seen(vpc_id))
    }
    fn create_nat<'a>(
        &'a self,
        vpc_id: &'a str,
        change: &'a crate::wizard::plan::Change,
    ) -> crate::wizard::cloud::CloudFuture<'a, crate::wizard::ids::NatGatewayId> {
        Box::pin(self.do_create_nat(vpc_id, change))
    }
    fn delete_nat<'a>(
        &'a self,
        nat_id: &'a crate::wizard::ids::NatGatewayId,
    ) -> crate::wizard::cloud::CloudFuture<'a, ()> {
        Box::pin(self.do_delete_nat(nat_id))
    }
    fn route_table<'a>(
        &'a self,
        table_id: &'a str,
    ) -> crate::wizard::cloud::CloudFuture<'a, Option<crate::wizard::observed::RouteTable>> {
        Box::pin(self.get_route_table(table_id))
    }
    fn create_default_route<'a>(
        &'a self,
        table_id: &'a str,
        nat_id: &'a crate::wizard::ids::NatGatewayId,
        description: &'a str,
    ) -> crate::wizard::cloud::CloudFuture<'a, ()> {
        Box::pin(self.do_create_default_route(table_id, nat_id, description))
    }
    fn replace_route<'a>(
        &'a self,
        table_id: &'a str,
        current: &'a crate::wizard::observed::Route,
        next: &'a crate::wizard::observed::Route,
    ) -> crate::wizard::cloud::CloudFuture<'a, ()> {
        Box::pin(self.do_replace_route(table_id, current, next))
    }
    fn create_route<'a>(
        &'a self,
        table_id: &'a str,
        route: &'a crate::wizard::observed::Route,
    ) -> crate::wizard::cloud::CloudFuture<'a, ()> {
        Box::pin(self.do_create_route(table_id, route))
    }
    fn delete_route<'a>(
        &'a self,
        table_id: &'a str,
        route: &'a crate::wizard::observed::Route,
    ) -> crate::wizard::cloud::CloudFuture<'a, ()> {
        Box::pin(self.do_delete_route(table_id, route))
    }
    fn addresses<'a>(
        &'a self,
        instance_ids: &'a [String],
    ) -> crate::wizard::cloud::CloudFuture<'a, Vec<crate::wizard::observed::Address>> {
        Box::pin(self.list_addresses(instance_ids))
    }
    fn eips_with_ip<'a>(
        &'a self,
        ip: &'a str,
    ) -> crate::wizard::cloud::CloudFuture<'a, Vec<crate::wizard::observed::Address>> {
        Box::pin(self.list_eips_with_ip(ip))
    }
    fn disassociate_address<'a>(
        &'a self,
        address_id: &'a str,
    ) -> crate::wizard::cloud::CloudFuture<'a, ()> {
        Box::pin(self.do_disassociate(address_id))
    }
    fn associate_address<'a>(
        &'a self,
        address_id: &'a str,
        instance_id: &'a str,
    ) -> crate::wizard::cloud::CloudFuture<'a, ()> {
        Box::pin(self.do_associate(address_id, instance_id))
    }
    fn release_address<'a>(
        &'a self,
        address_id: &'a str,
    ) -> crate::wizard::cloud::CloudFuture<'a, ()> {
        Box::pin(self.do_release(address_id))
    }
    fn transform_address<'a>(
        &'a self,
        instance_id: &'a str,
    ) -> crate::wizard::cloud::CloudFuture<'a, String> {
        Box::pin(self.do_transform(instance_id))
    }
    fn return_normal_address<'a>(
        &'a self,
        ip: &'a str,
    ) -> crate::wizard::cloud::CloudFuture<'a, ()> {
        Box::pin(self.do_return(ip))
    }
    fn snat_rules<'a>(
        &'a self,
        nat_id: &'a crate::wizard::ids::NatGatewayId,
    ) -> crate::wizard::cloud::CloudFuture<'a, Vec<crate::wizard::observed::SnatRule>> {
        Box::pin(self.list_snat_rules(nat_id))
    }
    fn create_snat_rule<'a>(
        &'a self,
        change: &'a crate::wizard::plan::Change,
    ) -> crate::wizard::cloud::CloudFuture<'a, ()> {
        Box::pin(self.do_create_snat_rule(change))
    }
    fn delete_snat_rule<'a>(
        &'a self,
        nat_id: &'a crate::wizard::ids::NatGatewayId,
        snat_id: &'a str,
    ) -> crate::wizard::cloud::CloudFuture<'a, ()> {
        Box::pin(self.do_delete_snat_rule(nat_id, snat_id))
    }
    fn associate_nat_address<'a>(
        &'a self,
        nat_id: &'a crate::wizard::ids::NatGatewayId,
        ip: &'a str,
    ) -> crate::wizard::cloud::CloudFuture<'a, ()> {
        Box::pin(self.do_associate_nat_address(nat_id, ip))
    }
    fn disassociate_nat_address<'a>(
        &'a self,
        nat_id: &'a crate::wizard::ids::NatGatewayId,
        ip: &'a str,
    ) -> crate::wizard::cloud::CloudFuture<'a, ()> {
        Box::pin(self.do_disassociate_nat_address(nat_id, ip))
    }
}
