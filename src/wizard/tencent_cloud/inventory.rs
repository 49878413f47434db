//! The full inventory of a VPC, every page of every list (reference §4.2–4.3, §4.10, §4.14,
//! §4.23–4.24, §4.29–4.30), mapped to the wizard's observed-state types.

use std::collections::BTreeMap;

use futures_util::StreamExt as _;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::{TencentCloud, cloud_error};
use crate::tencent::PagedAction as _;
use crate::tencent::models::{
    Filter, cvm,
    dnspod::{
        DescribeDomainList, DescribeDomainListRequest, DescribeRecordList,
        DescribeRecordListRequest,
    },
    tat::{DescribeAutomationAgentStatus, DescribeAutomationAgentStatusRequest},
    vpc,
};
use crate::wizard::cloud::CloudError;
use crate::wizard::ids::GatewayType;
use crate::wizard::observed::*;

/// Limit of ids per Describe request (reference §4: ≤100 ids).
pub(super) const IDS_PER_CALL: usize = 100;

impl TencentCloud {
    pub(super) async fn load_inventory(&self, vpc_id: &str) -> Result<Inventory, CloudError> {
        let by_vpc = || Some(vec![Filter::one("vpc-id", vpc_id)]);
        let subnet_req = vpc::DescribeSubnetsRequest {
            filters: by_vpc(),
            ..Default::default()
        };
        let table_req = vpc::DescribeRouteTablesRequest {
            filters: by_vpc(),
            ..Default::default()
        };
        let instance_req = cvm::DescribeInstancesRequest {
            filters: by_vpc(),
            ..Default::default()
        };
        // Everything at once, each list at its own action's rate (reference §3.5): agent states
        // are asked for page by page as instance pages arrive, and the addresses once the
        // instance ids are known — no list waits for one it does not need.
        let (pages, page_rx) = tokio::sync::mpsc::unbounded_channel();
        let instances_then_addresses = async {
            let instances = self.instances_paged(&instance_req, pages).await?;
            let ids: Vec<String> = instances.iter().map(|i| i.instance_id.clone()).collect();
            let addresses = self.list_addresses_full(&ids).await?;
            Ok::<_, CloudError>((instances, addresses))
        };
        let (subnets, tables, (instances, addresses), agents, nat_gateways, dns, quota) = tokio::try_join!(
            self.fetch_all::<vpc::DescribeSubnets>(&subnet_req),
            self.fetch_all::<vpc::DescribeRouteTables>(&table_req),
            instances_then_addresses,
            self.agents_online(page_rx),
            self.list_nats(vpc_id),
            self.dns_records(),
            self.eip_quota(),
        )?;
        let (addresses, unmovable_eips) = addresses;
        let snat_rules = self.snat_rules_of(&nat_gateways).await?;
        Ok(Inventory {
            vpc_id: vpc_id.to_owned(),
            subnets: subnets
                .into_iter()
                .map(|s| Subnet {
                    id: s.subnet_id,
                    route_table_id: s.route_table_id,
                    zone: s.zone,
                    cidr: s.cidr_block,
                })
                .collect(),
            route_tables: tables.into_iter().map(map_table).collect(),
            instances: instances
                .into_iter()
                .map(|i| map_instance(i, &agents))
                .collect(),
            addresses,
            nat_gateways,
            dns,
            quota,
            snat_rules,
            unmovable_eips,
        })
    }

    /// Every instance of the request, page by page; each page's ids go to `pages` at once.
    async fn instances_paged(
        &self,
        req: &cvm::DescribeInstancesRequest,
        pages: UnboundedSender<Vec<String>>,
    ) -> Result<Vec<cvm::Instance>, CloudError> {
        let mut all = Vec::new();
        loop {
            let page_req = cvm::DescribeInstances::page_request(
                req,
                all.len() as u64,
                cvm::DescribeInstances::MAX_LIMIT,
            );
            let page = self.call::<cvm::DescribeInstances>(&page_req).await?;
            let (got, total) = cvm::DescribeInstances::into_page(page);
            // A closed receiver means the agent lookup failed; its error is the one reported.
            let _ = pages.send(got.iter().map(|i| i.instance_id.clone()).collect());
            let count = got.len();
            all.extend(got);
            if count == 0 || total.is_none_or(|t| all.len() as u64 >= t) {
                return Ok(all);
            }
        }
    }

    /// TAT agent states of the instance ids arriving on `pages` (≤100 ids per call), several
    /// calls in flight so that a slow answer does not hold the 20/s budget idle.
    async fn agents_online(
        &self,
        pages: UnboundedReceiver<Vec<String>>,
    ) -> Result<BTreeMap<String, bool>, CloudError> {
        let chunks = futures_util::stream::unfold(pages, |mut rx| async move {
            rx.recv().await.map(|ids| (ids, rx))
        });
        let mut lookups = std::pin::pin!(
            chunks
                .filter(|ids| std::future::ready(!ids.is_empty()))
                .map(|ids| self.agent_page(ids))
                .buffer_unordered(4)
        );
        let mut online = BTreeMap::new();
        while let Some(found) = lookups.next().await {
            online.extend(found?);
        }
        Ok(online)
    }

    async fn agent_page(&self, ids: Vec<String>) -> Result<Vec<(String, bool)>, CloudError> {
        let req = DescribeAutomationAgentStatusRequest {
            instance_ids: Some(ids),
            ..Default::default()
        };
        Ok(self
            .fetch_all::<DescribeAutomationAgentStatus>(&req)
            .await?
            .into_iter()
            .map(|a| (a.instance_id, a.agent_status == "Online"))
            .collect())
    }

    /// A and CNAME records of every DNSPod domain of the account. An account that does not
    /// use DNSPod (or may not read it) has no records, not a failed assessment.
    async fn dns_records(&self) -> Result<Vec<DnsRecord>, CloudError> {
        let domains = match self
            .fetch_all::<DescribeDomainList>(&DescribeDomainListRequest::default())
            .await
        {
            Ok(d) => d,
            Err(e)
                if e.code.starts_with("UnauthorizedOperation")
                    || e.code.starts_with("OperationDenied") =>
            {
                tracing::warn!(code = %e.code, "cannot read DNSPod; DNS-based protection suggestions are off");
                return Ok(vec![]);
            }
            Err(e) => return Err(e),
        };
        let mut records = Vec::new();
        for d in domains {
            let req = DescribeRecordListRequest {
                domain: d.name.clone(),
                error_on_empty: Some("no".into()),
                ..Default::default()
            };
            let list = self.fetch_all::<DescribeRecordList>(&req).await?;
            records.extend(
                list.into_iter()
                    .filter(|r| r.type_ == "A" || r.type_ == "CNAME")
                    .map(|r| DnsRecord {
                        domain: d.name.to_ascii_lowercase(),
                        name: r.name.to_ascii_lowercase(),
                        record_type: r.type_,
                        value: r.value,
                    }),
            );
        }
        Ok(records)
    }

    async fn eip_quota(&self) -> Result<EipQuota, CloudError> {
        let r = self
            .call::<vpc::DescribeAddressQuota>(&vpc::DescribeAddressQuotaRequest {})
            .await?;
        let q = r.quota_set.iter().find(|q| q.quota_id == "TOTAL_EIP_QUOTA");
        Ok(q.map(|q| EipQuota {
            limit: u32::try_from(q.quota_limit).unwrap_or(0),
            used: u32::try_from(q.quota_current).unwrap_or(0),
        })
        .unwrap_or_default())
    }
}

fn map_instance(i: cvm::Instance, agents: &BTreeMap<String, bool>) -> Instance {
    let state = match i.instance_state.as_str() {
        "RUNNING" => InstanceState::Running,
        "STOPPED" => InstanceState::Stopped,
        other => InstanceState::Other(other.to_owned()),
    };
    Instance {
        agent_online: agents.get(&i.instance_id).copied().unwrap_or(false),
        id: i.instance_id,
        name: i.instance_name,
        subnet_id: i.virtual_private_cloud.subnet_id,
        state,
        private_ip: i.private_ip_addresses.into_iter().next(),
        public_ip: i.public_ip_addresses.and_then(|v| v.into_iter().next()),
        tags: i.tags.into_iter().map(|t| (t.key, t.value)).collect(),
    }
}

pub(super) fn map_route(r: &vpc::Route) -> Route {
    Route {
        route_id: r.route_id.map(|n| n as i64).unwrap_or(0),
        item_id: r.route_item_id.clone().unwrap_or_default(),
        destination: r.destination_cidr_block.clone().unwrap_or_default(),
        gateway_type: GatewayType::from_wire(r.gateway_type.as_deref().unwrap_or_default()),
        gateway_id: r.gateway_id.clone().unwrap_or_default(),
        route_type: r.route_type.clone().unwrap_or_else(|| "USER".into()),
        enabled: r.enabled.unwrap_or(true),
        description: r.route_description.clone().unwrap_or_default(),
    }
}

pub(super) fn map_table(t: vpc::RouteTable) -> RouteTable {
    RouteTable {
        routes: t.route_set.iter().map(map_route).collect(),
        id: t.route_table_id,
        name: t.route_table_name,
        main: t.main,
    }
}

pub(super) fn err(action: &str, e: &crate::tencent::TencentError) -> CloudError {
    cloud_error(action, e)
}
