//! The four steps' pure planning functions: observed state + operator input → `Plan`.
//! No I/O here; the engine observes, calls these, and applies what they return.

pub mod assess;
pub mod gateways;
pub mod keep;
pub mod provision;
pub mod route;
pub mod verify;

#[cfg(test)]
mod tests;
