//! Route changes: CreateRoutes, DeleteRoutes, ReplaceRoutes, EnableRoutes, DisableRoutes
//! (reference §4.5–§4.8). A table changes all-or-nothing: every route of a request is
//! checked before any is written.

use super::route_rules::{check_ecmp, checked_route, find_route};
use super::views;
use crate::sim::error::{SimError, SimResult};
use crate::sim::world::{Route, World};
use crate::tencent::models::vpc::*;

fn table<'a>(w: &'a World, id: &str) -> SimResult<&'a crate::sim::world::RouteTable> {
    w.route_tables
        .get(id)
        .ok_or_else(|| SimError::not_found("route table", id))
}

fn system_route(r: &Route) -> SimResult<()> {
    if r.route_type != "USER" {
        return Err(SimError::new(
            "UnsupportedOperation.SystemRoute",
            format!(
                "Route {} is a system route ({}) and cannot be changed.",
                r.item_id, r.route_type
            ),
        ));
    }
    Ok(())
}

pub fn create_routes(w: &mut World, req: CreateRoutesRequest) -> SimResult<CreateRoutesResponse> {
    let t = table(w, &req.route_table_id)?;
    if req.routes.is_empty() {
        return Err(SimError::missing("Routes"));
    }
    if (t.routes.len() + req.routes.len()) as u64 > w.quotas.routes_per_table {
        return Err(SimError::new(
            "LimitExceeded",
            format!(
                "Route table {} would exceed its quota of {} routes.",
                t.id, w.quotas.routes_per_table
            ),
        ));
    }
    let vpc_id = t.vpc_id.clone();
    let mut accepted: Vec<Route> = Vec::new();
    for r in &req.routes {
        let route = checked_route(w, &vpc_id, r)?;
        let others: Vec<&Route> = t.routes.iter().chain(accepted.iter()).collect();
        check_ecmp(&t.id, &route, &others)?;
        accepted.push(route);
    }
    let count = accepted.len() as u64;
    for mut route in accepted {
        w.fill_route_ids(&mut route);
        w.route_tables
            .get_mut(&req.route_table_id)
            .expect("checked")
            .routes
            .push(route);
    }
    let t = table(w, &req.route_table_id)?;
    Ok(CreateRoutesResponse {
        total_count: count,
        route_table_set: vec![views::route_table(w, t)],
    })
}

pub fn delete_routes(w: &mut World, req: DeleteRoutesRequest) -> SimResult<DeleteRoutesResponse> {
    let t = table(w, &req.route_table_id)?;
    let wanted = req.routes.unwrap_or_default();
    if wanted.is_empty() {
        return Err(SimError::missing("Routes"));
    }
    let mut positions = Vec::new();
    for r in &wanted {
        let pos = find_route(&t.routes, r).ok_or_else(|| {
            SimError::new(
                "ResourceNotFound",
                format!(
                    "Route table {} has no route with the given RouteId/RouteItemId.",
                    t.id
                ),
            )
        })?;
        system_route(&t.routes[pos])?;
        positions.push(pos);
    }
    let id = t.id.clone();
    let table = w
        .route_tables
        .get_mut(&req.route_table_id)
        .expect("checked");
    let deleted: Vec<RouteSetItem> = positions
        .iter()
        .map(|&p| views::route(&table.routes[p], &id))
        .collect();
    let mut index = 0;
    table.routes.retain(|_| {
        index += 1;
        !positions.contains(&(index - 1))
    });
    Ok(DeleteRoutesResponse { route_set: deleted })
}

type RouteSetItem = crate::tencent::models::vpc::Route;

pub fn replace_routes(
    w: &mut World,
    req: ReplaceRoutesRequest,
) -> SimResult<ReplaceRoutesResponse> {
    let t = table(w, &req.route_table_id)?;
    let vpc_id = t.vpc_id.clone();
    let mut updated = t.routes.clone();
    let mut changed = Vec::new();
    for r in &req.routes {
        let pos = find_route(&updated, r).ok_or_else(|| {
            SimError::new(
                "UnsupportedOperation.RecordNotExists",
                format!(
                    "Route table {} has no route with the given RouteId/RouteItemId.",
                    t.id
                ),
            )
        })?;
        system_route(&updated[pos])?;
        let old = &updated[pos];
        let merged = crate::tencent::models::vpc::Route {
            destination_cidr_block: r
                .destination_cidr_block
                .clone()
                .or(Some(old.destination.clone())),
            gateway_type: r.gateway_type.clone().or(Some(old.gateway_type.clone())),
            gateway_id: r.gateway_id.clone().or(Some(old.gateway_id.clone())),
            route_description: r
                .route_description
                .clone()
                .or(Some(old.description.clone())),
            ..Default::default()
        };
        let mut route = checked_route(w, &vpc_id, &merged)?;
        route.id = old.id;
        route.item_id = old.item_id.clone();
        route.enabled = old.enabled;
        route.created_time = old.created_time.clone();
        changed.push((pos, old.clone(), route.clone()));
        updated[pos] = route;
    }
    for (pos, _, new) in &changed {
        let others: Vec<&Route> = updated
            .iter()
            .enumerate()
            .filter(|(i, _)| i != pos)
            .map(|(_, r)| r)
            .collect();
        check_ecmp(&t.id, new, &others).map_err(|e| {
            SimError::new(
                if e.code.starts_with("UnsupportedOperation.Ecmp") {
                    "UnsupportedOperation.Ecmp"
                } else {
                    e.code.as_str()
                },
                e.message,
            )
        })?;
    }
    let id = t.id.clone();
    w.route_tables
        .get_mut(&req.route_table_id)
        .expect("checked")
        .routes = updated;
    Ok(ReplaceRoutesResponse {
        old_route_set: changed
            .iter()
            .map(|(_, old, _)| views::route(old, &id))
            .collect(),
        new_route_set: changed
            .iter()
            .map(|(_, _, new)| views::route(new, &id))
            .collect(),
    })
}

/// Positions of the routes named by `RouteIds` xor `RouteItemIds`.
fn selected(
    t: &crate::sim::world::RouteTable,
    ids: Option<Vec<u64>>,
    items: Option<Vec<String>>,
) -> SimResult<Vec<usize>> {
    let ids = ids.unwrap_or_default();
    let items = items.unwrap_or_default();
    match (ids.is_empty(), items.is_empty()) {
        (false, false) => Err(SimError::new(
            "InvalidParameter.Coexist",
            "Give `RouteIds` or `RouteItemIds`, not both.",
        )),
        (true, true) => Err(SimError::missing("RouteItemIds")),
        _ => {
            let mut out = Vec::new();
            for (n, r) in t.routes.iter().enumerate() {
                if ids.contains(&r.id) || items.contains(&r.item_id) {
                    system_route(r)?;
                    out.push(n);
                }
            }
            if out.len() < ids.len() + items.len() {
                return Err(SimError::new(
                    "ResourceNotFound",
                    format!("Some of the given routes are not in route table {}.", t.id),
                ));
            }
            Ok(out)
        }
    }
}

pub fn enable_routes(w: &mut World, req: EnableRoutesRequest) -> SimResult<EnableRoutesResponse> {
    let t = table(w, &req.route_table_id)?;
    let positions = selected(t, req.route_ids, req.route_item_ids)?;
    for &p in &positions {
        let others: Vec<&Route> = t
            .routes
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != p)
            .map(|(_, r)| r)
            .collect();
        check_ecmp(&t.id, &t.routes[p], &others)
            .map_err(|e| SimError::new("UnsupportedOperation.Ecmp", e.message))?;
    }
    set_enabled(w, &req.route_table_id, &positions, true);
    Ok(EnableRoutesResponse {})
}

pub fn disable_routes(
    w: &mut World,
    req: DisableRoutesRequest,
) -> SimResult<DisableRoutesResponse> {
    let t = table(w, &req.route_table_id)?;
    let positions = selected(t, req.route_ids, req.route_item_ids)?;
    set_enabled(w, &req.route_table_id, &positions, false);
    Ok(DisableRoutesResponse {})
}

fn set_enabled(w: &mut World, table: &str, positions: &[usize], enabled: bool) {
    let t = w.route_tables.get_mut(table).expect("checked");
    for &p in positions {
        t.routes[p].enabled = enabled;
    }
}
