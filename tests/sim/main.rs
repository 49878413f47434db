//! Integration tests of the simulated Tencent Cloud, through the real client (and, for the
//! wire protocol, through hand-signed raw requests). Each test starts its own simulator on
//! port 0.

mod addresses;
mod egress;
mod faults;
mod harness;
mod nat;
mod network;
mod scenario;
mod snat;
mod sts;
mod unmovable;
mod wire;
