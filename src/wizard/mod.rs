//! The cutover wizard: a run of four steps (1 assess exposure, 2 provision NAT gateway,
//! 3 route egress, 4 verify & retire public IPs), each with a pure `plan` (`steps`) and an
//! engine-driven, reconcile-first `apply` (`engine`).
//!
//! Public API for the web layer (handlers never run SQL or cloud calls themselves):
//! - `engine::Engine::new(store, Arc<dyn cloud::CloudConnector>, EngineOptions)`; the real
//!   connector is `tencent_cloud::TencentConnector::new(client, poll::Poll)`. Call
//!   `engine.resume().await` once at start-up (restarts unfinished jobs).
//! - `start_run(account, region, vpc_id, user) -> Result<RunId, StartError>`
//!   (`StartError::VpcBusy { vpc_id, holder, started_by, since }`, `Invalid(FieldErrors)`); it
//!   starts the read-only assessment in the background.
//! - `plan_step(run, &StepInput) -> Result<Plan, EngineError>`: preview for the current step.
//! - `confirm_previewed(run, StepInput, &PlanDigest, user) -> Result<Plan, EngineError>`:
//!   re-plans, refuses a blocked plan (`EngineError::Blocked(conflicts)`) or one that is not
//!   the plan previewed (`EngineError::PlanChanged`; `Plan::digest`), records input + plan,
//!   applies in the background. Step 1's confirm records the protected-host decisions and
//!   moves to step 2. `confirm_step` is the same without the preview check (tests, tools).
//! - `retry(run, user)`, `rollback(run, user, release_nat_eips)`, `abandon(run, user)`,
//!   `set_protected(run, instance_id, bool, user)`, `exposure_report(run)`, `run(run)`.
//! - `subscribe(run) -> broadcast::Receiver<store::events::Event>` for live progress (SSE):
//!   subscribe first, then read `store::events::list(readers, run, after_id, limit)`.
//! - Operator input: `input::ProvisionInput::parse(&ProvisionForm)` → `FieldErrors` per field;
//!   `StepInput::{Assess(AssessInput), Provision(..), Route(RouteInput), Verify(VerifyInput)}`.
//! - Pages read through `store::{runs, steps, events, ledger, undo, results, audit}` functions.

pub mod campaign;
pub mod cloud;
pub mod engine;
pub mod ids;
pub mod input;
pub mod observed;
pub mod plan;
pub mod poll;
pub mod protection;
pub mod steps;
pub mod tencent_cloud;
