//! The wizard's step pages (`/runs/{id}/step/{n}`): what was observed, the step's form, the
//! plan preview (`…/plan`, read-only) and confirm (`…/confirm`, applies in the background and
//! redirects to the run page, which shows the progress). Forms keep what was typed.

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
    store::{self, RunStatus, Step, results::ProtectedHost, runs::Run},
    web::{auth::session::CurrentUser, error::WebError, layout::Layout, tls::ClientAddr},
    wizard::{
        engine::EngineError,
        input::{
            AssessInput, BANDWIDTHS_MBPS, FieldErrors, MAX_CONNECTIONS, ProvisionForm,
            ProvisionInput, RouteInput, StepInput, VerifyInput,
        },
        plan::PlanDigest,
    },
};

use super::{
    exposure::{COLUMNS, ExposureLine, ExposureQuery, exposure_lines, select},
    run_actions::engine_error,
    runs::{load_run, may_drive, run_id},
    step_details::{self, StepDetails},
    step_view::{PlanView, plan_view},
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
    /// Step 1: the rows the sort/filter query selects, out of `exposure_total`.
    exposure: Vec<ExposureLine>,
    exposure_total: usize,
    query: ExposureQuery,
    columns: &'static [(&'static str, &'static str)],
    fields: Fields,
    errors: Vec<String>,
    plan: Option<PlanView>,
    /// Steps 3 and 4: the per-table / per-instance breakdown around the plan.
    details: StepDetails,
    bandwidths: &'static [u32],
    connections: &'static [u32],
    /// When the cloud shown was observed (the step's snapshot), for "observed at · Refresh".
    observed_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl StepPage {
    /// The submitted choice for an instance row of the retire plan (`retire` by default).
    pub fn choice(&self, instance_id: &str) -> &str {
        self.fields
            .iter()
            .filter(|(k, _)| k == "choice")
            .filter_map(|(_, v)| v.rsplit_once('='))
            .find(|(id, _)| *id == instance_id)
            .map_or("retire", |(_, c)| c)
    }

    /// The submitted value of a field (for re-filling the form).
    pub fn value(&self, name: &str) -> &str {
        field(&self.fields, name)
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
    let (mut exposure, mut exposure_total) = (Vec::new(), 0);
    if step == Step::Assess {
        let report = state
            .engine
            .exposure_report(run.id)
            .await
            .map_err(engine_error)?;
        if let Some(report) = report {
            let hosts = store::results::list_protected(state.store.readers(), run.id).await?;
            let lines = exposure_lines(&report, &hosts);
            exposure_total = lines.len();
            exposure = select(lines, &query);
        }
    }
    Ok(StepPage {
        is_current: run.status == RunStatus::Active && run.current_step == step,
        can_drive: may_drive(user, &run),
        layout,
        step: step.number(),
        title: step.title(),
        exposure,
        exposure_total,
        query,
        columns: &COLUMNS,
        fields,
        errors: Vec::new(),
        plan: None,
        details: StepDetails::default(),
        bandwidths: &BANDWIDTHS_MBPS,
        connections: &MAX_CONNECTIONS,
        observed_at: None,
        run,
    })
}

pub async fn show(
    State(state): State<AppState>,
    layout: Layout,
    user: CurrentUser,
    Path((raw, n)): Path<(String, i64)>,
    Query(query): Query<ExposureQuery>,
) -> Result<StepPage, WebError> {
    let run = load_run(&state, run_id(&raw)?).await?;
    let step = parse_step(n)?;
    let mut p = page(&state, layout, &user, run.clone(), step, Vec::new(), query).await?;
    // Steps 1, 3 and 4 have a plan before any input (the recorded protection decisions; the
    // default route and retire choices), shown at once so it can be confirmed as it stands.
    if matches!(step, Step::Assess | Step::Route | Step::Verify) {
        let default_input = input_for(&state, step, &Vec::new(), &run).await?.ok();
        let shown =
            step_details::plan_for_visit(&state, &run, step, default_input, &mut p.errors).await?;
        p.plan = shown.plan.as_ref().map(plan_view);
        p.details = step_details::load(&state, &run, step, shown).await?;
    }
    p.observed_at = state.engine.observed_at(&run, step);
    Ok(p)
}

/// Turns the form into the step's input; field errors come back one message per field.
/// Step 1 takes the protect/unprotect decisions already recorded (`hosts`), not the form.
fn step_input(
    step: Step,
    fields: &Fields,
    run: &Run,
    hosts: &[ProtectedHost],
) -> Result<StepInput, FieldErrors> {
    let yes = |name: &str| !field(fields, name).is_empty();
    Ok(match step {
        Step::Assess => {
            let ids = |keep: fn(&ProtectedHost) -> bool| {
                hosts
                    .iter()
                    .filter(|h| keep(h))
                    .map(|h| h.instance_id.clone())
                    .collect()
            };
            StepInput::Assess(AssessInput {
                protect: ids(|h| h.protected && h.reason == "operator"),
                unprotect: ids(|h| !h.protected),
            })
        }
        Step::Provision => {
            let form = ProvisionForm {
                adopt_nat_id: Some(field(fields, "adopt_nat_id").to_owned()),
                name: field(fields, "name").to_owned(),
                bandwidth_mbps: field(fields, "bandwidth_mbps").to_owned(),
                max_connections: field(fields, "max_connections").to_owned(),
                new_eips: field(fields, "new_eips").to_owned(),
                existing_eips: field(fields, "existing_eips")
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .collect(),
                zone: field(fields, "zone").to_owned(),
            };
            StepInput::Provision(ProvisionInput::parse(&form)?)
        }
        Step::Route => StepInput::Route(RouteInput {
            replace_existing_default: yes("replace_existing_default"),
        }),
        Step::Verify => {
            let typed = field(fields, "confirm_vpc").trim();
            // One `choice` per instance row: `<instance id>=retire|keep|irreversible`.
            let chosen = |what: &str| -> Vec<String> {
                fields
                    .iter()
                    .filter(|(k, _)| k == "choice")
                    .filter_map(|(_, v)| v.rsplit_once('='))
                    .filter(|(_, c)| *c == what)
                    .map(|(id, _)| id.to_owned())
                    .collect()
            };
            StepInput::Verify(VerifyInput {
                release_eips: yes("release_eips"),
                return_ordinary: yes("return_ordinary"),
                confirm_irreversible: !typed.is_empty() && typed == run.vpc_id,
                keep: chosen("keep"),
                irreversible: chosen("irreversible"),
            })
        }
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

/// The step's input from the form (and, for step 1, the recorded protection decisions).
async fn input_for(
    state: &AppState,
    step: Step,
    fields: &Fields,
    run: &Run,
) -> Result<Result<StepInput, FieldErrors>, WebError> {
    let hosts = if step == Step::Assess {
        store::results::list_protected(state.store.readers(), run.id).await?
    } else {
        Vec::new()
    };
    Ok(step_input(step, fields, run, &hosts))
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
            p.plan = Some(plan_view(&plan));
            let shown = step_details::Shown::preview(plan, inventory);
            p.details = step_details::load(state, run, input.step(), shown).await?;
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
            p.errors = conflicts
                .iter()
                .map(|c| format!("{}: {}", c.subject, c.message))
                .collect();
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
        Ok(_) => Ok(Redirect::to(&format!("/runs/{}", run.id)).into_response()),
        Err(EngineError::PlanChanged) => {
            // Show the plan as it is now, with its own digest, for the operator to review.
            let mut p = page(&state, layout, &user, run.clone(), step, fields, query).await?;
            p.errors = vec![format!("{}.", EngineError::PlanChanged)];
            with_preview(&state, p, &run, &input, StatusCode::CONFLICT).await
        }
        Err(e) => refused(
            page(&state, layout, &user, run, step, fields, query).await?,
            e,
        ),
    }
}
