//! The simulated actions, one module per product area, each a plain function
//! `fn(&mut World, Request) -> Result<Response, SimError>` over the shared model types.

use crate::sim::dispatch::Registry;

pub fn registry() -> Registry {
    Registry::default()
}
