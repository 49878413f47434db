//! Step 1's "keep its egress IP" marks (issue 12): the section that lists them and the shared
//! egress IPs the assessment found ("31 instances leave through 119.28.20.1 today"), and the
//! one form that marks or unmarks an instance, a rule or a shared IP
//! (`POST /runs/{id}/keep-egress`). Saved at once through the engine (audited there), then
//! back to the same view (Post/Redirect/Get); a bad value shows the page with the reason.

use axum::{
    Form,
    extract::{ConnectInfo, Path, State},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::exposure::ExposureQuery;
use super::run_actions::engine_error;
use super::wizard::{prepare, refused_rule};
use crate::app::AppState;
use crate::store::{RunId, keep_egress::MarkKind};
use crate::web::{auth::session::CurrentUser, error::WebError, layout::Layout, tls::ClientAddr};
use crate::wizard::engine::{Actor as RunActor, EngineError};
use crate::wizard::protection::Rule;
use crate::wizard::steps::keep::{KEEP_TAG, KeepMarks};

/// One mark as the section lists it, with the value its "Stop keeping" form sends back.
pub struct MarkLine {
    pub kind: &'static str,
    pub value: String,
    pub text: String,
}

/// A shared egress IP as the section lists it.
pub struct SharedLine {
    pub ip: String,
    pub instances: usize,
    pub holder: String,
    pub kept: bool,
}

#[derive(Default)]
pub struct KeepEgressView {
    pub loaded: bool,
    pub marks: Vec<MarkLine>,
    pub shared: Vec<SharedLine>,
    decided: KeepMarks,
    pub tag: String,
}

impl KeepEgressView {
    pub async fn load(state: &AppState, run: RunId) -> Result<KeepEgressView, WebError> {
        let view = state
            .engine
            .keep_egress_summary(run)
            .await
            .map_err(engine_error)?;
        let m = &view.marks;
        let mut marks: Vec<MarkLine> = m
            .instances
            .iter()
            .map(|i| MarkLine {
                kind: MarkKind::Instance.as_str(),
                value: i.clone(),
                text: format!("Instance {i}"),
            })
            .collect();
        marks.extend(m.rules.iter().map(|r| MarkLine {
            kind: MarkKind::Rule.as_str(),
            value: serde_json::to_string(r).unwrap_or_default(),
            text: format!("Every instance that is {}", r.describe()),
        }));
        marks.extend(m.shared_ips.iter().map(|ip| MarkLine {
            kind: MarkKind::SharedIp.as_str(),
            value: ip.clone(),
            text: format!(
                "Shared egress IP {ip}, as the NAT gateway's egress for those who use it"
            ),
        }));
        let shared = view
            .shared
            .iter()
            .map(|s| SharedLine {
                ip: s.ip.clone(),
                instances: s.instances,
                holder: s.holder.clone().unwrap_or_default(),
                kept: m.shared_ips.contains(&s.ip),
            })
            .collect();
        Ok(KeepEgressView {
            loaded: true,
            marks,
            shared,
            decided: view.marks,
            tag: format!("{}={}", KEEP_TAG.0, KEEP_TAG.1),
        })
    }

    /// Whether the row is kept by the operator's own single-host mark (which it can remove).
    pub fn marked(&self, instance_id: &str) -> bool {
        self.decided.instances.contains(instance_id)
    }
}

#[derive(Deserialize)]
pub struct KeepForm {
    /// `instance`, `rule` (with `rule_kind` + `rule_value`, or `value` as stored JSON) or
    /// `shared_ip`.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    value: String,
    #[serde(default)]
    keep_rule_kind: String,
    #[serde(default)]
    keep_rule_value: String,
    /// `1` keeps, anything else stops keeping.
    #[serde(default)]
    keep: String,
    #[serde(default)]
    back: String,
}

pub async fn set(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    layout: Layout,
    user: CurrentUser,
    Path(raw): Path<String>,
    Form(form): Form<KeepForm>,
) -> Result<Response, WebError> {
    let (run, _) = prepare(&state, &user, &raw, 1).await?;
    let back = serde_urlencoded::from_str::<ExposureQuery>(form.back.trim_start_matches('?'))
        .unwrap_or_default()
        .cleaned();
    let typed = vec![
        ("keep_rule_kind".to_owned(), form.keep_rule_kind.clone()),
        ("keep_rule_value".to_owned(), form.keep_rule_value.clone()),
    ];
    let refuse =
        |msg: String| refused_rule(&state, layout, &user, run.clone(), typed, back.clone(), msg);
    let Some(kind) = MarkKind::parse(form.kind.trim()) else {
        return refuse("Nothing was kept: choose an instance, a rule or a shared IP.".into()).await;
    };
    let value = if kind == MarkKind::Rule && form.value.trim().is_empty() {
        match Rule::parse(&form.keep_rule_kind, &form.keep_rule_value) {
            Ok(rule) => serde_json::to_string(&rule).unwrap_or_default(),
            Err(msg) => return refuse(format!("The keep-egress rule was not added: {msg}.")).await,
        }
    } else {
        form.value.trim().to_owned()
    };
    let actor = RunActor {
        user: &user.name,
        ip: Some(peer.ip()),
    };
    let keep = form.keep == "1";
    match state
        .engine
        .set_keep_egress(run.id, kind, &value, keep, actor)
        .await
    {
        Ok(()) => {}
        Err(EngineError::Invalid(errs)) => {
            let msg = errs.0.into_values().collect::<Vec<_>>().join("; ");
            return refuse(format!("Nothing was kept: {msg}.")).await;
        }
        Err(e) => return Err(engine_error(e)),
    }
    let to = format!(
        "/runs/{}/step/1{}#keep-egress",
        run.id,
        back.to_query_string()
    );
    Ok(Redirect::to(&to).into_response())
}
