//! NAT gateways and routes (reference §4.3–4.11). CreateNatGateway and CreateRoutes have no
//! idempotency token: after an ambiguous failure we look before believing the error.

use super::TencentCloud;
use super::inventory::{err, map_table};
use crate::tencent::TencentError;
use crate::tencent::models::{Filter, Tag, vpc};
use crate::wizard::cloud::CloudError;
use crate::wizard::observed::{NatGateway, RUN_TAG_KEY, Route, RouteTable};
use crate::wizard::plan::Change;

/// How often an ambiguous create is re-sent after a look found it had not happened.
const AMBIGUOUS_RETRIES: usize = 5;

impl TencentCloud {
    pub(super) async fn list_nats(&self, vpc_id: &str) -> Result<Vec<NatGateway>, CloudError> {
        let req = vpc::DescribeNatGatewaysRequest {
            filters: Some(vec![Filter::one("vpc-id", vpc_id)]),
            ..Default::default()
        };
        Ok(self
            .fetch_all::<vpc::DescribeNatGateways>(&req)
            .await?
            .into_iter()
            .map(map_nat)
            .collect())
    }

    pub(super) async fn do_create_nat(
        &self,
        vpc_id: &str,
        change: &Change,
    ) -> Result<String, CloudError> {
        let Change::CreateNatGateway {
            name,
            bandwidth_mbps,
            max_connections,
            new_eips,
            existing_eips,
            zone,
            run_tag,
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
                    Some(n) => return Ok(n.nat_gateway_id),
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

    async fn find_tagged(&self, vpc_id: &str, run_tag: &str) -> Result<Option<String>, CloudError> {
        let nats = self.list_nats(vpc_id).await?;
        Ok(nats
            .into_iter()
            .find(|n| n.run_tag() == Some(run_tag))
            .map(|n| n.id))
    }

    pub(super) async fn do_delete_nat(&self, nat_id: &str) -> Result<(), CloudError> {
        let req = vpc::DeleteNatGatewayRequest {
            nat_gateway_id: nat_id.to_owned(),
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
        nat_id: &str,
    ) -> Result<(), CloudError> {
        let route = Route {
            route_id: 0,
            item_id: String::new(),
            destination: "0.0.0.0/0".into(),
            gateway_type: "NAT".into(),
            gateway_id: nat_id.to_owned(),
            route_type: "USER".into(),
            enabled: true,
            description: "natpilot".into(),
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
        route: &Route,
        gateway_type: &str,
        gateway_id: &str,
    ) -> Result<(), CloudError> {
        let mut new = route.clone();
        new.gateway_type = gateway_type.to_owned();
        new.gateway_id = gateway_id.to_owned();
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
        gateway_type: Some(r.gateway_type.clone()),
        gateway_id: Some(r.gateway_id.clone()),
        route_description: (!r.description.is_empty()).then(|| r.description.clone()),
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
        id: n.nat_gateway_id,
        name: n.nat_gateway_name,
        state: n.state,
        zone: n.zone,
    }
}
