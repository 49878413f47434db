//! NAT gateways and routes (reference §4.3–4.11). CreateNatGateway and CreateRoutes have no
//! idempotency token: after an ambiguous failure we look before believing the error.

use super::TencentCloud;
use super::inventory::{err, map_table};
use crate::tencent::PagedAction;
use crate::tencent::TencentError;
use crate::tencent::models::{Filter, Tag, vpc};
use crate::wizard::cloud::{CloudError, Seen};
use crate::wizard::ids::{GatewayType, NatGatewayId, NatState};
use crate::wizard::observed::{NatGateway, RUN_TAG_KEY, Route, RouteTable};
use crate::wizard::plan::Change;

/// How often an ambiguous create is re-sent after a look found it had not happened.
const AMBIGUOUS_RETRIES: usize = 5;

impl TencentCloud {
    pub(super) async fn list_nats(&self, vpc_id: &str) -> Result<Vec<NatGateway>, CloudError> {
        Ok(self.list_nats_seen(vpc_id).await?.items)
    }

    /// Every page of the VPC's gateways, with the RequestId of the last page's answer.
    pub(super) async fn list_nats_seen(
        &self,
        vpc_id: &str,
    ) -> Result<Seen<Vec<NatGateway>>, CloudError> {
        let req = vpc::DescribeNatGatewaysRequest {
            filters: Some(vec![Filter::one("vpc-id", vpc_id)]),
            ..Default::default()
        };
        let mut seen: Seen<Vec<NatGateway>> = Seen::default();
        let mut offset = 0;
        loop {
            let page = vpc::DescribeNatGateways::page_request(
                &req,
                offset,
                vpc::DescribeNatGateways::MAX_LIMIT,
            );
            let reply = self
                .client
                .call_with_request_id::<vpc::DescribeNatGateways>(&self.region, &page)
                .await
                .map_err(|e| err("DescribeNatGateways", &e))?;
            seen.request_id = Some(reply.request_id);
            let (got, total) = vpc::DescribeNatGateways::into_page(reply.response);
            let count = got.len() as u64;
            seen.items.extend(got.into_iter().map(map_nat));
            offset += count;
            let done = match total {
                Some(total) => offset >= total,
                None => count < vpc::DescribeNatGateways::MAX_LIMIT,
            };
            if count == 0 || done {
                return Ok(seen);
            }
        }
    }

    pub(super) async fn do_create_nat(
        &self,
        vpc_id: &str,
        change: &Change,
    ) -> Result<NatGatewayId, CloudError> {
        let Change::CreateNatGateway {
            name,
            bandwidth_mbps,
            max_connections,
            new_eips,
            existing_eips,
            zone,
            run_tag,
            ..
        } = change
        else {
            return Err(CloudError::state(
                "CreateNatGateway",
                "natpilot.Bug",
                "create_nat called with another change",
            ));
        };
        let req = vpc::CreateNatGatewayRequest {
            nat_gateway_name: name.clone(),
            vpc_id: vpc_id.to_owned(),
            internet_max_bandwidth_out: Some(u64::from(*bandwidth_mbps)),
            max_concurrent_connection: Some(u64::from(*max_connections)),
            address_count: (*new_eips > 0).then_some(u64::from(*new_eips)),
            public_ip_addresses: (!existing_eips.is_empty()).then(|| existing_eips.clone()),
            zone: zone.clone(),
            tags: Some(vec![Tag::new(RUN_TAG_KEY, run_tag.clone())]),
            ..Default::default()
        };
        // An ambiguous failure is believed only after a look: found → it was created; not found
        // → nothing happened, so sending it again cannot duplicate it (bounded).
        let mut last = None;
        for _ in 0..AMBIGUOUS_RETRIES {
            match self.call_raw::<vpc::CreateNatGateway>(&req).await {
                Ok(r) => match r.nat_gateway_set.into_iter().next() {
                    Some(n) => {
                        return NatGatewayId::parse(&n.nat_gateway_id).map_err(|m| {
                            CloudError::state("CreateNatGateway", "natpilot.BadAnswer", m)
                        });
                    }
                    None => last = None,
                },
                Err(e @ TencentError::MaybeApplied { .. }) => {
                    last = Some(err("CreateNatGateway", &e))
                }
                Err(e) => return Err(err("CreateNatGateway", &e)),
            }
            if let Some(id) = self.find_tagged(vpc_id, run_tag).await? {
                return Ok(id);
            }
        }
        Err(last.unwrap_or_else(|| {
            CloudError::state(
                "CreateNatGateway",
                "natpilot.NatMissing",
                "CreateNatGateway answered without a gateway",
            )
        }))
    }

    /// The live gateway tagged with this run (a failed or dying one is not it: it is never
    /// reused).
    async fn find_tagged(
        &self,
        vpc_id: &str,
        run_tag: &str,
    ) -> Result<Option<NatGatewayId>, CloudError> {
        let nats = self.list_nats(vpc_id).await?;
        Ok(nats
            .into_iter()
            .find(|n| n.run_tag() == Some(run_tag) && !n.state.is_dead())
            .map(|n| n.id))
    }

    pub(super) async fn do_delete_nat(&self, nat_id: &NatGatewayId) -> Result<(), CloudError> {
        let req = vpc::DeleteNatGatewayRequest {
            nat_gateway_id: nat_id.to_string(),
            ignore_operation_risk: None,
        };
        self.call::<vpc::DeleteNatGateway>(&req).await.map(|_| ())
    }

    pub(super) async fn get_route_table(
        &self,
        table_id: &str,
    ) -> Result<Option<RouteTable>, CloudError> {
        let req = vpc::DescribeRouteTablesRequest {
            route_table_ids: Some(vec![table_id.to_owned()]),
            ..Default::default()
        };
        match self.call::<vpc::DescribeRouteTables>(&req).await {
            Ok(r) => Ok(r.route_table_set.into_iter().next().map(map_table)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(super) async fn do_create_default_route(
        &self,
        table_id: &str,
        nat_id: &NatGatewayId,
        description: &str,
    ) -> Result<(), CloudError> {
        let route = Route {
            route_id: 0,
            item_id: String::new(),
            destination: "0.0.0.0/0".into(),
            gateway_type: GatewayType::Nat,
            gateway_id: nat_id.to_string(),
            route_type: "USER".into(),
            enabled: true,
            description: description.to_owned(),
        };
        self.do_create_route(table_id, &route).await
    }

    pub(super) async fn do_create_route(
        &self,
        table_id: &str,
        route: &Route,
    ) -> Result<(), CloudError> {
        let req = vpc::CreateRoutesRequest {
            route_table_id: table_id.to_owned(),
            routes: vec![wire_route(route, false)],
        };
        let mut last = None;
        for _ in 0..AMBIGUOUS_RETRIES {
            match self.call_raw::<vpc::CreateRoutes>(&req).await {
                Ok(_) => return Ok(()),
                Err(e @ TencentError::MaybeApplied { .. }) => last = Some(err("CreateRoutes", &e)),
                Err(e) => return Err(err("CreateRoutes", &e)),
            }
            let table = self.get_route_table(table_id).await?;
            let there = table.is_some_and(|t| {
                t.routes.iter().any(|r| {
                    r.destination == route.destination
                        && r.gateway_type == route.gateway_type
                        && r.gateway_id == route.gateway_id
                })
            });
            if there {
                return Ok(());
            }
        }
        Err(last.unwrap_or_else(|| {
            CloudError::state(
                "CreateRoutes",
                "natpilot.RouteMissing",
                "the route did not appear",
            )
        }))
    }

    pub(super) async fn do_replace_route(
        &self,
        table_id: &str,
        current: &Route,
        next: &Route,
    ) -> Result<(), CloudError> {
        let new = Route {
            gateway_type: next.gateway_type.clone(),
            gateway_id: next.gateway_id.clone(),
            description: next.description.clone(),
            ..current.clone()
        };
        let req = vpc::ReplaceRoutesRequest {
            route_table_id: table_id.to_owned(),
            routes: vec![wire_route(&new, true)],
        };
        self.call::<vpc::ReplaceRoutes>(&req).await.map(|_| ())
    }

    pub(super) async fn do_delete_route(
        &self,
        table_id: &str,
        route: &Route,
    ) -> Result<(), CloudError> {
        let mut r = vpc::Route {
            route_id: (route.route_id > 0).then_some(route.route_id as u64),
            ..Default::default()
        };
        if !route.item_id.is_empty() {
            r.route_item_id = Some(route.item_id.clone());
        }
        let req = vpc::DeleteRoutesRequest {
            route_table_id: table_id.to_owned(),
            routes: Some(vec![r]),
        };
        self.call::<vpc::DeleteRoutes>(&req).await.map(|_| ())
    }
}

fn wire_route(r: &Route, with_id: bool) -> vpc::Route {
    vpc::Route {
        destination_cidr_block: Some(r.destination.clone()),
        gateway_type: Some(r.gateway_type.to_string()),
        gateway_id: Some(r.gateway_id.clone()),
        // Sent even when empty: replacing a route must not keep the old route's description.
        route_description: Some(r.description.clone()),
        route_id: (with_id && r.route_id > 0).then_some(r.route_id as u64),
        route_item_id: (with_id && !r.item_id.is_empty()).then(|| r.item_id.clone()),
        ..Default::default()
    }
}

fn map_nat(n: vpc::NatGateway) -> NatGateway {
    NatGateway {
        eips: n
            .public_ip_address_set
            .into_iter()
            .map(|a| (a.address_id, a.public_ip_address))
            .collect(),
        tags: n.tag_set.into_iter().map(|t| (t.key, t.value)).collect(),
        id: NatGatewayId::from_cloud(&n.nat_gateway_id),
        name: n.nat_gateway_name,
        state: NatState::from_wire(&n.state),
        zone: n.zone,
    }
}
