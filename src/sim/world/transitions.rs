//! Asynchronous transitions, evaluated lazily: before each request the world `advance`s to
//! the current sim-clock time, firing every timer that has come due, in order. Deterministic
//! (no background task) and cheap (the timer list only holds in-flight work).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::types::{Address, AddressStatus, NatState};
use super::{TaskEffect, TimerKind, World};

/// `2024-05-31T08:00:00Z`, the TAT/EIP time format.
pub fn iso_now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `2024-05-31 08:00:00`, the VPC/NAT time format.
pub fn local_now() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

impl World {
    /// Fires every timer due at or before `now`, earliest first.
    pub fn advance(&mut self, now: Duration) {
        loop {
            let next = self
                .timers
                .iter()
                .enumerate()
                .filter(|(_, t)| t.due <= now)
                .min_by_key(|(_, t)| (t.due, t.seq))
                .map(|(i, _)| i);
            let Some(index) = next else { break };
            let timer = self.timers.swap_remove(index);
            // Chained timers (TAT start → finish) count from when their parent fired.
            self.now = timer.due;
            self.fire(timer.kind);
        }
        self.now = now;
    }

    fn fire(&mut self, kind: TimerKind) {
        match kind {
            TimerKind::NatReady(id) => self.nat_ready(&id),
            TimerKind::NatGone(id) => self.nat_gone(&id),
            TimerKind::EipTask(id) => self.finish_task(id),
            TimerKind::TatStart(id) => self.tat_start(&id),
            TimerKind::TatFinish(id) => self.tat_finish(&id),
        }
    }

    fn nat_ready(&mut self, id: &str) {
        let Some(nat) = self.nat_gateways.get_mut(id) else {
            return;
        };
        if nat.state != NatState::Pending {
            return;
        }
        let new_eips = std::mem::take(&mut nat.pending_new_eips);
        let stock: Vec<String> = self.addresses_of(id).map(|a| a.id.clone()).collect();
        if self.behaviour.nat_creation_fails {
            self.nat_gateways.get_mut(id).expect("checked above").state = NatState::Pendfailure;
            for address in stock {
                self.set_binding(&address, None);
                self.set_status(&address, AddressStatus::Unbind);
            }
            return;
        }
        for address in stock {
            self.set_status(&address, AddressStatus::Bind);
        }
        for _ in 0..new_eips {
            let address = Address {
                id: self.new_id("eip"),
                ip: self.new_public_ip(),
                name: "未命名".into(),
                status: AddressStatus::Bind,
                instance_id: Some(id.to_string()),
                bandwidth: 100,
                charge_type: "TRAFFIC_POSTPAID_BY_HOUR".into(),
                isp: "BGP".into(),
                created_time: iso_now(),
                busy_task: None,
            };
            self.insert_address(address);
        }
        self.nat_gateways.get_mut(id).expect("checked above").state = NatState::Available;
    }

    /// Deleting a NAT gateway deletes the routes pointing at it and unbinds (never releases)
    /// its EIPs (reference §4.11).
    fn nat_gone(&mut self, id: &str) {
        for table in self.route_tables.values_mut() {
            table
                .routes
                .retain(|r| !(r.gateway_type == "NAT" && r.gateway_id == id));
        }
        let eips: Vec<String> = self.addresses_of(id).map(|a| a.id.clone()).collect();
        for address in eips {
            self.set_binding(&address, None);
            self.set_status(&address, AddressStatus::Unbind);
        }
        self.snat_rules.retain(|_, r| r.nat_id != id);
        self.nat_gateways.remove(id);
    }

    pub fn set_status(&mut self, address: &str, status: AddressStatus) {
        if let Some(a) = self.addresses.get_mut(address) {
            a.status = status;
        }
    }

    fn finish_task(&mut self, task_id: u64) {
        let Some(task) = self.tasks.get_mut(&task_id) else {
            return;
        };
        task.result = "SUCCESS".into();
        let effect = task.effect.clone();
        match effect {
            TaskEffect::Allocate(ids) => {
                for id in ids {
                    self.release_busy(&id, AddressStatus::Unbind);
                }
            }
            TaskEffect::Associate { address } | TaskEffect::Transform { address } => {
                self.release_busy(&address, AddressStatus::Bind);
            }
            TaskEffect::Disassociate {
                address,
                reallocate,
            } => {
                let owner = self
                    .addresses
                    .get(&address)
                    .and_then(|a| a.instance_id.clone());
                self.set_binding(&address, None);
                self.release_busy(&address, AddressStatus::Unbind);
                if reallocate && let Some(owner) = owner {
                    let ip = self.new_public_ip();
                    if let Some(instance) = self.instance_mut(&owner) {
                        instance.public_ip = Some(ip);
                    }
                }
            }
            TaskEffect::Release(ids) => {
                for id in ids {
                    self.remove_address(&id);
                }
            }
        }
    }

    fn release_busy(&mut self, address: &str, status: AddressStatus) {
        if let Some(a) = self.addresses.get_mut(address) {
            a.status = status;
            a.busy_task = None;
        }
    }

    fn tat_start(&mut self, id: &str) {
        let Some(invocation) = self.invocations.get_mut(id) else {
            return;
        };
        let now = iso_now();
        invocation.status = "RUNNING".into();
        invocation.updated_time = now.clone();
        for task in &mut invocation.tasks {
            task.status = "RUNNING".into();
            task.start_time = Some(now.clone());
        }
        self.schedule(TimerKind::TatFinish(id.to_string()));
    }

    fn tat_finish(&mut self, id: &str) {
        let Some(invocation) = self.invocations.get(id) else {
            return;
        };
        let script = STANDARD
            .decode(&invocation.content)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let outcomes: Vec<_> = invocation
            .tasks
            .iter()
            .map(|t| self.run_shell(&t.instance_id, &script))
            .collect();
        let now = iso_now();
        let invocation = self.invocations.get_mut(id).expect("checked above");
        for (task, outcome) in invocation.tasks.iter_mut().zip(outcomes) {
            task.status = if outcome.exit_code == 0 {
                "SUCCESS"
            } else {
                "FAILED"
            }
            .into();
            task.exit_code = Some(outcome.exit_code);
            task.output = STANDARD.encode(&outcome.output);
            task.end_time = Some(now.clone());
        }
        let ok = invocation
            .tasks
            .iter()
            .filter(|t| t.status == "SUCCESS")
            .count();
        invocation.status = match ok {
            n if n == invocation.tasks.len() => "SUCCESS",
            0 => "FAILED",
            _ => "PARTIAL_FAILED",
        }
        .into();
        invocation.updated_time = now;
    }
}
