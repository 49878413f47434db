//! VPC (service `vpc`, 2017-03-12): network layout, routes, NAT gateways and their SNAT rules,
//! ENIs, public IPs, tasks.

mod address;
mod eni;
mod nat;
mod network;
mod routes;
mod snat;
mod task;

pub use address::*;
pub use eni::*;
pub use nat::*;
pub use network::*;
pub use routes::*;
pub use snat::*;
pub use task::*;
