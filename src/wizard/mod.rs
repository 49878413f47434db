//! The cutover wizard: a run of four steps (assess, provision, route, verify & retire), each
//! with a pure `plan` and an engine-driven `apply`.
//! (Public API summary: see the engine module once it lands.)

pub mod cloud;
pub mod engine;
pub mod input;
pub mod observed;
pub mod plan;
pub mod steps;
pub mod tencent_cloud;
