//! Each instance's serialised DescribeInstances entry, kept until the world changes what it
//! shows (sim_pages benchmark, issue 11 item 8): paging a 50,000-instance VPC then copies
//! bytes instead of building and encoding 100 instances per page.
//!
//! Why it cannot go stale: an entry is rendered from [`InstanceFacts`] alone (the instance
//! and the public IPs it answers on, everything of the world its view reads) and is reused
//! only while the facts taken now compare equal to the facts it was rendered from. No
//! mutation path has to remember to invalidate anything: whatever changes the instance or
//! its addresses changes the facts.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use crate::sim::error::{SimError, SimResult};

use super::{Address, AddressStatus, Instance, World};

/// Everything of the world one instance's view depends on.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceFacts<'a> {
    pub instance: Cow<'a, Instance>,
    /// Its ordinary public IP, then the IPs of the EIPs bound (or unbinding) to it.
    pub public_ips: Vec<Cow<'a, str>>,
}

impl InstanceFacts<'_> {
    fn into_owned(self) -> InstanceFacts<'static> {
        InstanceFacts {
            instance: Cow::Owned(self.instance.into_owned()),
            public_ips: self
                .public_ips
                .into_iter()
                .map(|ip| Cow::Owned(ip.into_owned()))
                .collect(),
        }
    }
}

struct Cached {
    facts: InstanceFacts<'static>,
    json: Box<[u8]>,
}

/// An instance's slot. Its first view is written straight into the answer and not kept: a
/// one-pass reader (an estate scan) would only pay for the memory. From its second view on
/// it is kept.
#[derive(Default)]
enum Slot {
    #[default]
    Unseen,
    Seen,
    Cached(Box<Cached>),
}

/// One slot per instance position (positions never change: instances are only added).
#[derive(Default)]
pub struct ViewCache {
    slots: Vec<Slot>,
}
/// The facts of `instance` (see the module docs), borrowed from the world's fields.
fn facts_of<'a>(
    instance: &'a Instance,
    addresses: &'a BTreeMap<String, Address>,
    addresses_by_owner: &'a HashMap<String, Vec<String>>,
) -> InstanceFacts<'a> {
    let mut public_ips: Vec<Cow<'a, str>> = instance
        .public_ip
        .iter()
        .map(|ip| Cow::from(ip.as_str()))
        .collect();
    public_ips.extend(
        addresses_by_owner
            .get(&instance.id)
            .into_iter()
            .flatten()
            .filter_map(|id| addresses.get(id))
            .filter(|a| matches!(a.status, AddressStatus::Bind | AddressStatus::Unbinding))
            .map(|a| Cow::from(a.ip.as_str())),
    );
    InstanceFacts {
        instance: Cow::Borrowed(instance),
        public_ips,
    }
}

impl World {
    /// The facts of the instance at `pos`, or `None` past the last instance.
    pub fn instance_facts(&self, pos: usize) -> Option<InstanceFacts<'_>> {
        let instance = self.instances.get(pos)?;
        Some(facts_of(
            instance,
            &self.addresses,
            &self.addresses_by_owner,
        ))
    }

    /// Appends the rendered view of the instance at `pos` to `out`: the cached bytes while
    /// its facts are unchanged, otherwise what `render(facts, out)` writes.
    pub fn write_view(
        &mut self,
        pos: usize,
        out: &mut Vec<u8>,
        render: impl FnOnce(&InstanceFacts<'_>, &mut Vec<u8>) -> SimResult<()>,
    ) -> SimResult<()> {
        let World {
            instances,
            addresses,
            addresses_by_owner,
            view_cache,
            ..
        } = self;
        let instance = instances
            .get(pos)
            .ok_or_else(|| SimError::internal(format!("no instance at position {pos}")))?;
        let facts = facts_of(instance, addresses, addresses_by_owner);
        if view_cache.slots.len() <= pos {
            view_cache.slots.resize_with(instances.len(), Slot::default);
        }
        let slot = &mut view_cache.slots[pos];
        match std::mem::replace(slot, Slot::Seen) {
            Slot::Cached(cached) if cached.facts == facts => {
                out.extend_from_slice(&cached.json);
                *slot = Slot::Cached(cached);
            }
            Slot::Unseen => render(&facts, out)?,
            // Seen before, or cached from facts that changed since.
            Slot::Seen | Slot::Cached(_) => {
                let mut json = Vec::new();
                render(&facts, &mut json)?;
                out.extend_from_slice(&json);
                *slot = Slot::Cached(Box::new(Cached {
                    json: json.into_boxed_slice(),
                    facts: facts.into_owned(),
                }));
            }
        }
        Ok(())
    }
}
