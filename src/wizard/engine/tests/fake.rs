//! An in-memory cloud for engine tests: several VPCs, Tencent's egress rule (a 0.0.0.0/0 route
//! beats an instance's own public IP, reference §5.1), one-shot injected errors, and a count
//! of every call so tests can prove nothing was created twice.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use crate::wizard::cloud::*;
use crate::wizard::ids::{GatewayType, NatGatewayId};
use crate::wizard::observed::*;
use crate::wizard::plan::Change;
use crate::wizard::steps::assess::Egress;

#[derive(Default)]
pub struct World {
    pub vpcs: BTreeMap<String, Inventory>,
    pub calls: HashMap<&'static str, usize>,
    /// Next call of this method fails with this error (once).
    pub fail_next: HashMap<&'static str, CloudError>,
    next_id: u32,
}

#[derive(Clone, Default)]
pub struct Fake(pub Arc<Mutex<World>>);

/// frontend (EIP + DNS), api (ordinary IP), worker (no public IP), batch (stopped, ordinary IP)
/// in two subnets with one route table each.
pub fn tutorial(vpc: &str) -> Inventory {
    let inst = |id: &str, subnet: &str, ip: Option<&str>, running: bool| Instance {
        id: format!("{vpc}-{id}"),
        name: id.into(),
        subnet_id: format!("{vpc}-{subnet}"),
        state: if running {
            InstanceState::Running
        } else {
            InstanceState::Stopped
        },
        private_ip: Some("10.0.0.2".into()),
        public_ip: ip.map(Into::into),
        tags: vec![],
        agent_online: true,
    };
    let subnet = |s: &str, t: &str| Subnet {
        id: format!("{vpc}-{s}"),
        route_table_id: format!("{vpc}-{t}"),
        zone: "ap-guangzhou-3".into(),
        cidr: String::new(),
    };
    let table = |t: &str| RouteTable {
        id: format!("{vpc}-{t}"),
        name: t.into(),
        main: false,
        routes: vec![],
    };
    let p = vpc.len();
    Inventory {
        vpc_id: vpc.into(),
        subnets: vec![subnet("web", "rtb-web"), subnet("app", "rtb-app")],
        route_tables: vec![table("rtb-web"), table("rtb-app")],
        instances: vec![
            inst("front", "web", Some(&format!("43.{p}.0.1")), true),
            inst("api", "app", Some(&format!("43.{p}.0.2")), true),
            inst("worker", "app", None, true),
            inst("batch", "app", Some(&format!("43.{p}.0.4")), false),
        ],
        addresses: vec![
            Address {
                id: format!("{vpc}-eip-front"),
                ip: format!("43.{p}.0.1"),
                kind: AddressKind::Eip,
                status: "BIND".into(),
                instance_id: Some(format!("{vpc}-front")),
            },
            Address {
                id: format!("{vpc}-wan-api"),
                ip: format!("43.{p}.0.2"),
                kind: AddressKind::Ordinary,
                status: "BIND".into(),
                instance_id: Some(format!("{vpc}-api")),
            },
            Address {
                id: format!("{vpc}-wan-batch"),
                ip: format!("43.{p}.0.4"),
                kind: AddressKind::Ordinary,
                status: "BIND".into(),
                instance_id: Some(format!("{vpc}-batch")),
            },
        ],
        nat_gateways: vec![],
        dns: vec![DnsRecord {
            domain: "example.com".into(),
            name: "www".into(),
            record_type: "A".into(),
            value: format!("43.{p}.0.1"),
        }],
        quota: EipQuota {
            limit: 100,
            used: 3,
        },
        ..Inventory::default()
    }
}

impl World {
    fn vpc_of_table(&mut self, table: &str) -> Option<&mut Inventory> {
        self.vpcs
            .values_mut()
            .find(|v| v.route_tables.iter().any(|t| t.id == table))
    }

    /// Egress per reference §5.1 for the egress test.
    pub fn egress(&self, inv: &Inventory, i: &Instance) -> Option<String> {
        let table = inv.route_table(inv.table_of(i)?)?;
        let own = inv
            .addresses
            .iter()
            .find(|a| a.instance_id.as_deref() == Some(i.id.as_str()))
            .map(|a| a.ip.clone());
        match table.default_route() {
            Some(r) if r.gateway_type == GatewayType::Nat => inv
                .nat(&NatGatewayId::from(r.gateway_id.as_str()))
                .and_then(|n| n.eips.first().map(|e| e.1.clone())),
            Some(_) => None,
            None => own,
        }
    }
}

impl Fake {
    pub fn new(vpcs: &[&str]) -> Fake {
        let fake = Fake::default();
        for v in vpcs {
            fake.0
                .lock()
                .unwrap()
                .vpcs
                .insert((*v).to_owned(), tutorial(v));
        }
        fake
    }

    pub fn world<R>(&self, f: impl FnOnce(&mut World) -> R) -> R {
        f(&mut self.0.lock().unwrap())
    }

    pub fn calls(&self, method: &str) -> usize {
        self.world(|w| w.calls.get(method).copied().unwrap_or(0))
    }

    fn enter(&self, method: &'static str) -> Result<std::sync::MutexGuard<'_, World>, CloudError> {
        let mut w = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *w.calls.entry(method).or_default() += 1;
        match w.fail_next.remove(method) {
            Some(e) => Err(e),
            None => Ok(w),
        }
    }
}

pub struct Connector(pub Fake);

struct Scoped {
    fake: Fake,
    ledger: Arc<dyn LedgerSink>,
}

impl CloudConnector for Connector {
    fn connect(
        &self,
        _a: &str,
        region: &str,
        ledger: Arc<dyn LedgerSink>,
    ) -> Result<Arc<dyn Cloud>, CloudError> {
        let _ = region;
        Ok(Arc::new(Scoped {
            fake: self.0.clone(),
            ledger,
        }))
    }
}

/// The fake's methods that only read (every other one changes the world, so the run's lease
/// fences it like a mutating Tencent action).
const READS: &[&str] = &[
    "inventory",
    "nat_gateways",
    "route_table",
    "addresses",
    "eips_with_ip",
];

impl Scoped {
    /// One call: its ledger row before, the world's answer, the row completed after.
    fn op<'a, T: Send + 'a>(
        &'a self,
        method: &'static str,
        f: impl FnOnce(&mut World) -> Result<T, CloudError> + Send + 'a,
    ) -> CloudFuture<'a, T> {
        Box::pin(async move {
            let params = serde_json::json!({});
            let call = LedgerCall {
                service: "vpc",
                action: method,
                region: "ap-guangzhou",
                attempt: 1,
                mutates: !READS.contains(&method),
                params: &params,
            };
            let entry = self
                .ledger
                .sent(call)
                .await
                .map_err(|r| CloudError::refused(method, r))?;
            let result = self.fake.enter(method).and_then(|mut w| f(&mut w));
            let answer = LedgerAnswer {
                request_id: Some("req-fake".into()),
                duration_ms: 0,
                error_code: result.as_ref().err().map(|e| e.code.clone()),
            };
            self.ledger.answered(entry, answer).await;
            result
        })
    }
}

fn gone(what: &str) -> CloudError {
    CloudError {
        action: "fake".into(),
        code: "ResourceNotFound".into(),
        message: format!("{what} not found"),
        request_id: Some("req-404".into()),
        retryable: false,
    }
}

/// `op` already gives the future (kept so the methods below read as before).
macro_rules! ready {
    ($e:expr) => {
        $e
    };
}

impl Cloud for Scoped {
    fn inventory<'a>(&'a self, vpc_id: &'a str) -> CloudFuture<'a, Inventory> {
        ready!(self.op("inventory", move |w| {
            let mut inv = w.vpcs.get(vpc_id).cloned().ok_or_else(|| gone(vpc_id))?;
            // DescribeInstances shows whatever public IP is bound right now.
            for i in &mut inv.instances {
                let bound = inv
                    .addresses
                    .iter()
                    .find(|a| a.instance_id.as_deref() == Some(i.id.as_str()));
                i.public_ip = bound.map(|a| a.ip.clone());
            }
            Ok(inv)
        }))
    }
    fn egress_test<'a>(
        &'a self,
        inv: &'a Inventory,
        ids: &'a [String],
    ) -> CloudFuture<'a, BTreeMap<String, Egress>> {
        ready!(self.op("egress_test", move |w| {
            let live = w.vpcs.get(&inv.vpc_id).cloned().unwrap_or_default();
            Ok(ids
                .iter()
                .filter_map(|id| live.instance(id).map(|i| (id.clone(), i)))
                .map(|(id, i)| {
                    let e = if !i.testable() {
                        Egress::Untestable {
                            detail: "instance is STOPPED".into(),
                        }
                    } else {
                        match w.egress(&live, i) {
                            Some(ip) => Egress::Ip {
                                ip: format!("{ip}\n"),
                            },
                            None => Egress::Failed {
                                detail: "curl exit 28".into(),
                            },
                        }
                    };
                    (id, e)
                })
                .collect())
        }))
    }
    fn nat_gateways<'a>(&'a self, vpc_id: &'a str) -> CloudFuture<'a, Seen<Vec<NatGateway>>> {
        ready!(self.op("nat_gateways", move |w| {
            let items = w
                .vpcs
                .get(vpc_id)
                .map(|v| v.nat_gateways.clone())
                .unwrap_or_default();
            Ok(Seen {
                items,
                request_id: Some("fake-request".into()),
            })
        }))
    }
    fn create_nat<'a>(
        &'a self,
        vpc_id: &'a str,
        change: &'a Change,
    ) -> CloudFuture<'a, NatGatewayId> {
        ready!(self.op("create_nat", move |w| {
            let Change::CreateNatGateway { name, run_tag, .. } = change else {
                unreachable!()
            };
            w.next_id += 1;
            let n = w.next_id;
            let nat = NatGateway {
                id: NatGatewayId::from(format!("nat-{n}").as_str()),
                name: name.clone(),
                state: "AVAILABLE".into(),
                eips: vec![(format!("eip-nat-{n}"), format!("9.9.9.{n}"))],
                tags: vec![(RUN_TAG_KEY.into(), run_tag.clone())],
                zone: String::new(),
            };
            let v = w.vpcs.get_mut(vpc_id).ok_or_else(|| gone(vpc_id))?;
            v.addresses.push(Address {
                id: format!("eip-nat-{n}"),
                ip: format!("9.9.9.{n}"),
                kind: AddressKind::Eip,
                status: "BIND".into(),
                instance_id: Some(nat.id.to_string()),
            });
            let id = nat.id.clone();
            v.nat_gateways.push(nat);
            Ok(id)
        }))
    }
    fn delete_nat<'a>(&'a self, nat_id: &'a NatGatewayId) -> CloudFuture<'a, ()> {
        ready!(self.op("delete_nat", move |w| {
            let v = w
                .vpcs
                .values_mut()
                .find(|v| v.nat(nat_id).is_some())
                .ok_or_else(|| gone(nat_id.as_str()))?;
            v.nat_gateways.retain(|n| n.id != *nat_id);
            // Deleting a gateway deletes routes to it and unbinds its EIPs (reference §4.11).
            for t in &mut v.route_tables {
                t.routes.retain(|r| r.gateway_id != nat_id.as_str());
            }
            for a in v
                .addresses
                .iter_mut()
                .filter(|a| a.instance_id.as_deref() == Some(nat_id.as_str()))
            {
                (a.instance_id, a.status) = (None, "UNBIND".into());
            }
            Ok(())
        }))
    }
    fn route_table<'a>(&'a self, table_id: &'a str) -> CloudFuture<'a, Option<RouteTable>> {
        ready!(self.op("route_table", move |w| {
            Ok(w.vpc_of_table(table_id)
                .and_then(|v| v.route_table(table_id).cloned()))
        }))
    }
    fn create_default_route<'a>(
        &'a self,
        table_id: &'a str,
        nat_id: &'a NatGatewayId,
        description: &'a str,
    ) -> CloudFuture<'a, ()> {
        let route = crate::wizard::steps::route::nat_route(nat_id, description);
        ready!(self.op("create_route", move |w| add_route(w, table_id, route)))
    }
    fn replace_route<'a>(
        &'a self,
        table_id: &'a str,
        route: &'a Route,
        next: &'a Route,
    ) -> CloudFuture<'a, ()> {
        ready!(self.op("replace_route", move |w| {
            let v = w.vpc_of_table(table_id).ok_or_else(|| gone(table_id))?;
            let t = v
                .route_tables
                .iter_mut()
                .find(|t| t.id == table_id)
                .ok_or_else(|| gone(table_id))?;
            let r = t
                .routes
                .iter_mut()
                .find(|r| r.route_id == route.route_id)
                .ok_or_else(|| gone("route"))?;
            (r.gateway_type, r.gateway_id, r.description) = (
                next.gateway_type.clone(),
                next.gateway_id.clone(),
                next.description.clone(),
            );
            Ok(())
        }))
    }
    fn create_route<'a>(&'a self, table_id: &'a str, route: &'a Route) -> CloudFuture<'a, ()> {
        ready!(self.op("create_route", move |w| add_route(
            w,
            table_id,
            route.clone()
        )))
    }
    fn delete_route<'a>(&'a self, table_id: &'a str, route: &'a Route) -> CloudFuture<'a, ()> {
        ready!(self.op("delete_route", move |w| {
            let v = w.vpc_of_table(table_id).ok_or_else(|| gone(table_id))?;
            let t = v
                .route_tables
                .iter_mut()
                .find(|t| t.id == table_id)
                .ok_or_else(|| gone(table_id))?;
            t.routes.retain(|r| r.route_id != route.route_id);
            Ok(())
        }))
    }
    fn addresses<'a>(&'a self, _ids: &'a [String]) -> CloudFuture<'a, Vec<Address>> {
        ready!(self.op("addresses", move |w| Ok(
            w.vpcs.values().flat_map(|v| v.addresses.clone()).collect()
        )))
    }
    fn eips_with_ip<'a>(&'a self, ip: &'a str) -> CloudFuture<'a, Vec<Address>> {
        ready!(self.op("eips_with_ip", move |w| {
            Ok(w.vpcs
                .values()
                .flat_map(|v| v.addresses.iter())
                .filter(|a| a.kind == AddressKind::Eip && a.ip == ip)
                .cloned()
                .collect())
        }))
    }
    fn disassociate_address<'a>(&'a self, id: &'a str) -> CloudFuture<'a, ()> {
        ready!(
            self.op("disassociate_address", move |w| with_address(w, id, |a| (
                a.instance_id,
                a.status
            ) =
                (None, "UNBIND".into())))
        )
    }
    fn associate_address<'a>(&'a self, id: &'a str, instance: &'a str) -> CloudFuture<'a, ()> {
        ready!(
            self.op("associate_address", move |w| with_address(w, id, |a| (
                a.instance_id,
                a.status
            ) =
                (Some(instance.to_owned()), "BIND".into())))
        )
    }
    fn release_address<'a>(&'a self, id: &'a str) -> CloudFuture<'a, ()> {
        ready!(self.op("release_address", move |w| {
            for v in w.vpcs.values_mut() {
                v.addresses.retain(|a| a.id != id);
            }
            Ok(())
        }))
    }
    fn transform_address<'a>(&'a self, instance: &'a str) -> CloudFuture<'a, String> {
        ready!(self.op("transform_address", move |w| {
            let a = w
                .vpcs
                .values_mut()
                .flat_map(|v| v.addresses.iter_mut())
                .find(|a| {
                    a.kind == AddressKind::Ordinary && a.instance_id.as_deref() == Some(instance)
                })
                .ok_or_else(|| gone(instance))?;
            a.kind = AddressKind::Eip;
            a.id = format!("eip-from-{instance}");
            Ok(a.id.clone())
        }))
    }
    fn return_normal_address<'a>(&'a self, ip: &'a str) -> CloudFuture<'a, ()> {
        ready!(self.op("return_normal_address", move |w| {
            for v in w.vpcs.values_mut() {
                v.addresses.retain(|a| a.ip != ip);
            }
            Ok(())
        }))
    }
}

fn add_route(w: &mut World, table_id: &str, mut route: Route) -> Result<(), CloudError> {
    w.next_id += 1;
    let id = w.next_id;
    let t = w
        .vpc_of_table(table_id)
        .and_then(|v| v.route_tables.iter_mut().find(|t| t.id == table_id))
        .ok_or_else(|| gone(table_id))?;
    if route.route_id == 0 {
        (route.route_id, route.item_id) = (i64::from(id), format!("rti-{id}"));
    }
    t.routes.push(route);
    Ok(())
}

fn with_address(w: &mut World, id: &str, f: impl FnOnce(&mut Address)) -> Result<(), CloudError> {
    let a = w
        .vpcs
        .values_mut()
        .flat_map(|v| v.addresses.iter_mut())
        .find(|a| a.id == id)
        .ok_or_else(|| gone(id))?;
    f(a);
    Ok(())
}
