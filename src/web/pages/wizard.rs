//! The wizard's step pages (`/runs/{id}/step/{n}`): what was observed, the step's form, the
//! plan preview (`…/plan`, read-only) and confirm (`…/confirm`, applies in the background and
//! redirects to the run page, which shows the progress). Forms keep what was typed.

use std::collections::BTreeMap;

use crate::wizard::engine::Actor as RunActor;
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{ConnectInfo, Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};

use crate::{
    app::AppState,
    store::{RunStatus, Step, runs::Run},
    web::{auth::session::CurrentUser, error::WebError, layout::Layout, tls::ClientAddr},
    wizard::{
        engine::{Confirmation, EngineError},
        input::{
            AssessInput, BANDWIDTHS_MBPS, FieldErrors, MAX_CONNECTIONS, ProvisionForm,
            ProvisionInput, RetireException, RouteInput, StepInput,
        },
        plan::PlanDigest,
    },
};

use super::status_words::InWords as _;
use super::{
    exposure::{COLUMNS, ExposureQuery},
    exposure_view::{self, ExposureView},
    run_actions::engine_error,
    runs::{load_run, may_drive, run_id},
    step_details::{self, StepDetails},
    step_view::{PlanView, plan_view},
    verify_step::VerifyQuery,
    verify_step_form,
};

/// The submitted form, as repeated key/value pairs (checkbox lists repeat their key).
pub type Fields = Vec<(String, String)>;

fn field<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

#[derive(Template, WebTemplate)]
#[template(path = "runs/step.html")]
pub struct StepPage {
    layout: Layout,
    run: Run,
    step: i64,
    title: &'static str,
    is_current: bool,
    can_drive: bool,
    /// Step 1: counts, rules and the page of rows the sort/filter/cursor query selects.
    exposure: ExposureView,
    /// Step 1: what keeps its egress IP (issue 12).
    keep: super::keep_egress::KeepEgressView,
    query: ExposureQuery,
    columns: &'static [(&'static str, &'static str)],
    fields: Fields,
    errors: Vec<String>,
    /// Said above the plan, not an error: e.g. a stored view that could not be read.
    notice: Option<String>,
    plan: Option<PlanView>,
    /// Steps 3 and 4: the per-table / per-instance breakdown around the plan.
    details: StepDetails,
    bandwidths: &'static [u32],
    connections: &'static [u32],
    /// When the cloud shown was observed (the step's snapshot), for "observed at · Refresh".
    observed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// A refused confirm lists the plan's blockers at the top (`errors`); the plan then only
    /// points to them, so each is said once.
    blockers_above: bool,
    /// The approval request this step waits for: confirm is off until it is decided.
    waiting_for: Option<i64>,
    /// The approval policy holds this step for a second person (any plan of it), or holds
    /// irreversible plans for an admin.
    approval_step: bool,
    approval_irreversible: bool,
    /// A rehearsal under an approval policy: its confirmations are applied at once, and the
    /// page says why (`REHEARSAL_NO_APPROVAL`).
    rehearsal_no_approval: Option<&'static str>,
}

impl StepPage {
    /// The submitted value of a field (for re-filling the form).
    pub fn value(&self, name: &str) -> &str {
        field(&self.fields, name)
    }

    /// A plan is shown and no blocker stands that a consent cannot lift.
    pub fn confirmable(&self) -> bool {
        self.plan.as_ref().is_some_and(|p| p.confirmable)
    }

    /// Whether the form was submitted with `name=value` (a ticked checkbox, a chosen radio).
    pub fn submitted(&self, name: &str, value: &str) -> bool {
        self.fields.iter().any(|(k, v)| k == name && v == value)
    }

    /// Confirming files an approval request instead of applying (the button says so).
    pub fn needs_approval(&self) -> bool {
        self.approval_step
            || (self.approval_irreversible
                && self
                    .plan
                    .as_ref()
                    .is_some_and(|p| p.summary.iter().any(|(_, irreversible)| *irreversible)))
    }

    /// Protection can change while the run waits for the operator (engine `set_protected`).
    pub fn can_protect(&self) -> bool {
        self.can_drive && self.run.status == RunStatus::Active
    }
}

fn parse_step(n: i64) -> Result<Step, WebError> {
    Step::from_number(n).map_err(|_| WebError::NotFound("Steps are numbered 1 to 4.".into()))
}

async fn page(
    state: &AppState,
    layout: Layout,
    user: &CurrentUser,
    run: Run,
    step: Step,
    fields: Fields,
    query: ExposureQuery,
) -> Result<StepPage, WebError> {
    let query = query.cleaned();
    let exposure = if step == Step::Assess {
        exposure_view::load(state, run.id, &query).await?
    } else {
        ExposureView::default()
    };
    let keep = if step == Step::Assess && exposure.ready {
        super::keep_egress::KeepEgressView::load(state, run.id).await?
    } else {
        Default::default()
    };
    // Step 2 shows what it observed (quota, gateways, unbound EIPs) before asking anything.
    let details = if step == Step::Provision {
        step_details::load(state, &run, step, step_details::Shown::default()).await?
    } else {
        StepDetails::default()
    };
    let waiting_for = match run.current_step == step {
        true => crate::web::approvals::waiting(state, &run).await?,
        false => None,
    };
    let policy = state.engine.approval_policy();
    // A rehearsal changes only its twin: the policy holds none of its steps.
    let held = step != Step::Assess && !crate::rehearsal::TwinLabel::is_twin(&run.account);
    let rehearsal_no_approval = (step != Step::Assess && !held && !policy.is_off())
        .then_some(crate::wizard::engine::REHEARSAL_NO_APPROVAL);
    Ok(StepPage {
        waiting_for,
        approval_step: held && policy.steps.contains(&step),
        approval_irreversible: held && policy.irreversible_needs_admin,
        rehearsal_no_approval,
        is_current: run.status == RunStatus::Active && run.current_step == step,
        can_drive: may_drive(user, &run),
        layout,
        step: step.number(),
        title: step.title(),
        exposure,
        keep,
        query,
        columns: &COLUMNS,
        fields,
        errors: Vec::new(),
        notice: None,
        plan: None,
        details,
        bandwidths: &BANDWIDTHS_MBPS,
        connections: &MAX_CONNECTIONS,
        observed_at: None,
        blockers_above: false,
        run,
    })
}

pub async fn show(
    State(state): State<AppState>,
    layout: Layout,
    user: CurrentUser,
    Path((raw, n)): Path<(String, i64)>,
    Query(query): Query<ExposureQuery>,
    Query(verify_query): Query<VerifyQuery>,
) -> Result<StepPage, WebError> {
    let run = load_run(&state, run_id(&raw)?).await?;
    let step = parse_step(n)?;
    let mut verify_query = verify_query.cleaned();
    // A typed VPC id rides in the links only when it is this run's: a link that carries
    // another VPC's id must not prefill the irreversible confirmation with it.
    if verify_query.vpc != run.vpc_id {
        verify_query.vpc.clear();
    }
    // Step 4's rules travel in the table's links, so paging and exceptions keep them.
    let fields = match step {
        Step::Verify => verify_step_form::rule_fields(&verify_query),
        _ => Vec::new(),
    };
    let mut p = page(
        &state,
        layout,
        &user,
        run.clone(),
        step,
        fields.clone(),
        query,
    )
    .await?;
    // Steps 1, 3 and 4 have a plan before any input (the recorded protection decisions; the
    // default route and retire choices), shown at once so it can be confirmed as it stands.
    if matches!(step, Step::Assess | Step::Route | Step::Verify) {
        let default_input = input_for(&state, step, &fields, &run).await?.ok();
        let verify =
            verify_step_form::shown_input(default_input.as_ref(), verify_query, &run.vpc_id);
        // Step 4 at scale: one page of stored rows while the inputs stay as they were.
        if step == Step::Verify
            && let Some(stored) =
                super::verify_stored::visit(&state, &run, default_input.as_ref(), &verify.1).await?
        {
            p.plan = stored.plan;
            p.details = stored.details;
            p.observed_at = state.engine.observed_at(&run, step);
            return Ok(p);
        }
        // Step 3 at scale: the stored view while the inputs stay as they were.
        if step == Step::Route
            && let Some(visit) =
                super::route_stored::visit(&state, &run, default_input.as_ref()).await?
        {
            p.plan = Some(visit.plan);
            p.details = visit.details;
            p.notice = visit.notice;
            p.observed_at = state.engine.observed_at(&run, step);
            return Ok(p);
        }
        let mut shown =
            step_details::plan_for_visit(&state, &run, step, default_input, &mut p.errors).await?;
        shown.verify = verify;
        p.plan = shown
            .plan
            .as_ref()
            .map(|plan| plan_view(plan, shown.inventory.as_deref()));
        // A confirmed step 4: the rows stored for exactly the plan confirmed.
        let confirmed = match (&shown.plan, step, shown.source) {
            (Some(plan), Step::Verify, "confirmed") => {
                super::verify_shown::confirmed(&state, &run, plan, &shown.verify.1).await?
            }
            _ => None,
        };
        p.details = match confirmed {
            Some(details) => details,
            None => step_details::load(&state, &run, step, shown).await?,
        };
    }
    p.observed_at = state.engine.observed_at(&run, step);
    Ok(p)
}

/// Turns the form into the step's input; field errors come back one message per field.
/// Step 1 takes the rules and single-host decisions already recorded (`assess`), not the form.
fn step_input(
    step: Step,
    fields: &Fields,
    run: &Run,
    assess: &AssessInput,
    exceptions: BTreeMap<String, RetireException>,
) -> Result<StepInput, FieldErrors> {
    let yes = |name: &str| !field(fields, name).is_empty();
    Ok(match step {
        Step::Assess => StepInput::Assess(assess.clone()),
        Step::Provision => {
            let form = ProvisionForm {
                adopt_nat_id: Some(field(fields, "adopt_nat_id").to_owned()),
                name: field(fields, "name").to_owned(),
                bandwidth_mbps: field(fields, "bandwidth_mbps").to_owned(),
                max_connections: field(fields, "max_connections").to_owned(),
                new_eips: field(fields, "new_eips").to_owned(),
                // One value per ticked EIP (checkboxes); a value may also list several.
                existing_eips: fields
                    .iter()
                    .filter(|(k, _)| k == "existing_eips")
                    .flat_map(|(_, v)| v.split(','))
                    .map(|s| s.trim().to_owned())
                    .collect(),
                zone: field(fields, "zone").to_owned(),
            };
            StepInput::Provision(ProvisionInput::parse(&form)?)
        }
        Step::Route => StepInput::Route(RouteInput {
            replace_existing_default: yes("replace_existing_default"),
        }),
        Step::Verify => StepInput::Verify(verify_step_form::parse(
            field(fields, "eip_rule"),
            field(fields, "ordinary_rule"),
            field(fields, "confirm_vpc"),
            run,
            exceptions,
        )?),
    })
}

pub(super) async fn prepare(
    state: &AppState,
    user: &CurrentUser,
    raw: &str,
    n: i64,
) -> Result<(Run, Step), WebError> {
    let run = load_run(state, run_id(raw)?).await?;
    if !may_drive(user, &run) {
        return Err(WebError::Forbidden(format!(
            "Only {} (who started this run) or an admin may drive it.",
            run.started_by
        )));
    }
    Ok((run, parse_step(n)?))
}

/// The step's input from the form (and, for step 1, the recorded rules and decisions).
async fn input_for(
    state: &AppState,
    step: Step,
    fields: &Fields,
    run: &Run,
) -> Result<Result<StepInput, FieldErrors>, WebError> {
    let assess = if step == Step::Assess {
        (state.engine)
            .stored_assess_input(run.id)
            .await
            .map_err(engine_error)?
    } else {
        AssessInput::default()
    };
    // Step 4's exceptions are edited row by row and stored as they are; the input takes them all.
    let exceptions = if step == Step::Verify {
        state
            .engine
            .retire_exceptions(run.id)
            .await
            .map_err(engine_error)?
    } else {
        BTreeMap::new()
    };
    Ok(step_input(step, fields, run, &assess, exceptions))
}

/// Step 1 again after a refused protection rule: what was typed stays in the rule form, and
/// the reason is on top (422).
pub(super) async fn refused_rule(
    state: &AppState,
    layout: Layout,
    user: &CurrentUser,
    run: Run,
    typed: Fields,
    query: ExposureQuery,
    reason: String,
) -> Result<Response, WebError> {
    let mut p = page(state, layout, user, run, Step::Assess, typed, query).await?;
    p.errors = vec![reason];
    Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
}

pub async fn preview(
    State(state): State<AppState>,
    layout: Layout,
    user: CurrentUser,
    Path((raw, n)): Path<(String, i64)>,
    Query(query): Query<ExposureQuery>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let (run, step) = prepare(&state, &user, &raw, n).await?;
    let input = input_for(&state, step, &fields, &run).await?;
    let mut p = page(&state, layout, &user, run.clone(), step, fields, query).await?;
    match input {
        Err(errs) => {
            p.errors = errs
                .0
                .into_iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Ok(input) => with_preview(&state, p, &run, &input, StatusCode::OK).await,
    }
}

/// Renders the page with the plan for `input` (and, for steps 3 and 4, its breakdown from the
/// same observation), answering `status`; a refused plan shows why instead.
async fn with_preview(
    state: &AppState,
    mut p: StepPage,
    run: &Run,
    input: &StepInput,
    status: StatusCode,
) -> Result<Response, WebError> {
    match state.engine.preview_step(run.id, input).await {
        Ok((plan, inventory)) => {
            p.plan = Some(plan_view(&plan, inventory.as_deref()));
            p.observed_at = state.engine.observed_at(run, input.step());
            // Step 4: the rows stored for these rules and exceptions, current ones only.
            if let StepInput::Verify(v) = input {
                let (_, query) =
                    verify_step_form::shown_input(Some(input), VerifyQuery::default(), &run.vpc_id);
                if let Some(details) = super::verify_shown::previewed(state, run, v, &query).await?
                {
                    p.details = details;
                    return Ok((status, p).into_response());
                }
            }
            // Step 2's observations came with the page; steps 3 and 4 break the plan down.
            if input.step() != Step::Provision {
                let mut shown = step_details::Shown::preview(plan, inventory);
                shown.verify =
                    verify_step_form::shown_input(Some(input), VerifyQuery::default(), &run.vpc_id);
                p.details = step_details::load(state, run, input.step(), shown).await?;
            }
            p.observed_at = state.engine.observed_at(run, input.step());
            Ok((status, p).into_response())
        }
        Err(e) => refused(p, e),
    }
}

fn refused(mut p: StepPage, e: EngineError) -> Result<Response, WebError> {
    match e {
        EngineError::Db(e) => Err(WebError::Internal(e.into())),
        EngineError::Invalid(errs) => {
            p.errors = errs
                .0
                .into_iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        EngineError::Blocked(conflicts) => {
            p.errors = conflicts.iter().map(|c| c.message.clone()).collect();
            Ok((StatusCode::CONFLICT, p).into_response())
        }
        other => {
            p.errors = vec![format!("{other}.")];
            Ok((StatusCode::CONFLICT, p).into_response())
        }
    }
}

pub async fn confirm(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    layout: Layout,
    user: CurrentUser,
    Path((raw, n)): Path<(String, i64)>,
    Query(query): Query<ExposureQuery>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let (run, step) = prepare(&state, &user, &raw, n).await?;
    let input = match input_for(&state, step, &fields, &run).await? {
        Ok(i) => i,
        Err(errs) => {
            return refused(
                page(&state, layout, &user, run, step, fields, query).await?,
                EngineError::Invalid(errs),
            );
        }
    };
    let previewed = field(&fields, "plan_digest").trim();
    if previewed.is_empty() {
        let mut p = page(&state, layout, &user, run, step, fields, query).await?;
        p.errors = vec![
            "Preview the plan first: confirming applies only a plan you have been shown.".into(),
        ];
        return Ok((StatusCode::CONFLICT, p).into_response());
    }
    let previewed = PlanDigest(previewed.to_owned());
    // The engine audits the confirmation (or its refusal, with the reason) itself, in the
    // transaction that records it.
    let actor = RunActor {
        user: &user.name,
        ip: Some(peer.ip()),
    };
    let outcome = (state.engine)
        .confirm_previewed(run.id, input.clone(), &previewed, actor)
        .await;
    match outcome {
        // Held for a second person: the request shows the exact plan and who may decide it.
        Ok(Confirmation::ApprovalRequested { id, .. }) => {
            Ok(Redirect::to(&format!("/approvals/{id}")).into_response())
        }
        // Step 1 says it leads to step 2, and it does; the others show their progress.
        Ok(_) if step == Step::Assess => {
            Ok(Redirect::to(&format!("/runs/{}/step/2", run.id)).into_response())
        }
        Ok(_) => Ok(Redirect::to(&format!("/runs/{}", run.id)).into_response()),
        Err(EngineError::PlanChanged) => {
            // Show the plan as it is now, with its own digest, for the operator to review.
            let mut p = page(&state, layout, &user, run.clone(), step, fields, query).await?;
            p.errors = vec![format!("{}.", EngineError::PlanChanged)];
            with_preview(&state, p, &run, &input, StatusCode::CONFLICT).await
        }
        Err(EngineError::Blocked(conflicts)) => {
            // The page again with its plan, tables and choices, and the reason in words.
            let mut p = page(&state, layout, &user, run.clone(), step, fields, query).await?;
            p.errors = verify_step_form::refusal(&conflicts);
            // Said once: the plan below points up to them instead of repeating them.
            p.blockers_above = true;
            with_preview(&state, p, &run, &input, StatusCode::CONFLICT).await
        }
        Err(e) => refused(
            page(&state, layout, &user, run, step, fields, query).await?,
            e,
        ),
    }
}
