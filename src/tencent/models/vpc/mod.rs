//! VPC (service `vpc`, 2017-03-12): network layout, routes, NAT gateways, public IPs, tasks.

mod address;
mod nat;
mod network;
mod routes;
mod task;

pub use address::*;
pub use nat::*;
pub use network::*;
pub use routes::*;
pub use task::*;
