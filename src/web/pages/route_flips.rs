//! `/runs/{id}/flips?table=…`: the instances behind one route table — whose egress flips to
//! the NAT gateway the moment step 3's route exists — page by page. Keyset pagination on the
//! instance id (`after=<id>`), a filter (`show=all|public|protected`) and counts per filter
//! at the top, all as query parameters that work without JavaScript, so the page stays the
//! same size however many instances the table governs.

use std::collections::{BTreeSet, HashMap};

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use serde::Deserialize;

use crate::{
    app::AppState,
    store::{self, runs::Run},
    web::{auth::session::CurrentUser, error::WebError, layout::Layout},
    wizard::{
        observed::{AddressKind, Instance, Inventory},
        steps::route,
    },
};

use super::{
    run_actions::engine_error,
    runs::{load_run, run_id},
};

/// Rows per page.
pub const PAGE: usize = 50;

#[derive(Deserialize, Default)]
pub struct FlipsQuery {
    #[serde(default)]
    table: String,
    #[serde(default)]
    show: String,
    #[serde(default)]
    after: String,
}

/// Which instances of the table to list.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Show {
    All,
    /// With their own public IP (EIP or ordinary) today.
    Public,
    Protected,
}

impl Show {
    fn parse(raw: &str) -> Result<Show, WebError> {
        match raw {
            "" | "all" => Ok(Show::All),
            "public" => Ok(Show::Public),
            "protected" => Ok(Show::Protected),
            other => Err(WebError::BadRequest(format!(
                "show={other} is not a filter of this list; use all, public or protected."
            ))),
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Show::All => "all",
            Show::Public => "public",
            Show::Protected => "protected",
        }
    }
}

pub struct Row {
    pub id: String,
    pub name: String,
    pub subnet_id: String,
    pub private_ip: String,
    pub public_ip: String,
    pub protected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "runs/route_flips.html")]
pub struct FlipsPage {
    layout: Layout,
    run: Run,
    table_id: String,
    table_name: String,
    show: Show,
    /// Instances of the table, with their own public IP, protected.
    total: usize,
    public: usize,
    protected: usize,
    rows: Vec<Row>,
    /// The cursor of the next page, when there is one.
    next_after: Option<String>,
    /// Whether this is a later page (the link back to the first one is shown).
    paged: bool,
}

impl FlipsPage {
    /// This list's URL for a filter and cursor, its values encoded.
    pub fn link(&self, show: &str, after: &str) -> String {
        let mut pairs = vec![("table", self.table_id.as_str())];
        if show != "all" {
            pairs.push(("show", show));
        }
        if !after.is_empty() {
            pairs.push(("after", after));
        }
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("/runs/{}/flips?{query}", self.run.id)
    }

    pub fn count_of(&self, show: &str) -> usize {
        match show {
            "public" => self.public,
            "protected" => self.protected,
            _ => self.total,
        }
    }
}

pub async fn list(
    State(state): State<AppState>,
    layout: Layout,
    _user: CurrentUser,
    Path(raw): Path<String>,
    Query(q): Query<FlipsQuery>,
) -> Result<FlipsPage, WebError> {
    let run = load_run(&state, run_id(&raw)?).await?;
    let show = Show::parse(q.show.trim())?;
    let table_id = q.table.trim().to_owned();
    // Observed for this view (the engine may serve it from its per-step snapshot).
    let inv = state
        .engine
        .current_inventory(run.id)
        .await
        .map_err(engine_error)?;
    let Some(table) = inv.route_table(&table_id) else {
        return Err(WebError::NotFound(format!(
            "VPC {} has no route table “{table_id}”; pick one on the step 3 page.",
            run.vpc_id
        )));
    };
    let table_name = table.name.clone();
    let protected: BTreeSet<String> = store::results::list_protected(state.store.readers(), run.id)
        .await?
        .into_iter()
        .filter(|h| h.protected)
        .map(|h| h.instance_id)
        .collect();
    let listed = Listed::new(&inv, &table_id, &protected);
    let (rows, next_after) = listed.page(show, q.after.trim());
    Ok(FlipsPage {
        layout,
        table_id,
        table_name,
        show,
        total: listed.members.len(),
        public: listed.count(Show::Public),
        protected: listed.count(Show::Protected),
        rows,
        next_after,
        paged: !q.after.trim().is_empty(),
        run,
    })
}

/// The table's instances in id order, with what the rows need looked up once.
struct Listed<'i> {
    members: Vec<&'i Instance>,
    eips: HashMap<&'i str, &'i str>,
    protected: &'i BTreeSet<String>,
}

impl<'i> Listed<'i> {
    fn new(inv: &'i Inventory, table_id: &str, protected: &'i BTreeSet<String>) -> Listed<'i> {
        let tables = route::table_by_subnet(inv);
        let mut members: Vec<&Instance> = inv
            .instances
            .iter()
            .filter(|i| tables.get(i.subnet_id.as_str()) == Some(&table_id))
            .collect();
        members.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        let eips = inv
            .addresses
            .iter()
            .filter(|a| a.kind == AddressKind::Eip)
            .filter_map(|a| Some((a.instance_id.as_deref()?, a.ip.as_str())))
            .collect();
        Listed {
            members,
            eips,
            protected,
        }
    }

    fn public_ip(&self, i: &Instance) -> Option<String> {
        self.eips
            .get(i.id.as_str())
            .map(|ip| (*ip).to_owned())
            .or_else(|| i.public_ip.clone())
    }

    fn keeps(&self, show: Show, i: &Instance) -> bool {
        match show {
            Show::All => true,
            Show::Public => self.public_ip(i).is_some(),
            Show::Protected => self.protected.contains(&i.id),
        }
    }

    fn count(&self, show: Show) -> usize {
        self.members.iter().filter(|i| self.keeps(show, i)).count()
    }

    /// The [`PAGE`] rows after `after` (an instance id; empty for the first page) and the
    /// cursor of the page after them, if any.
    fn page(&self, show: Show, after: &str) -> (Vec<Row>, Option<String>) {
        let start = self.members.partition_point(|i| i.id.as_str() <= after);
        let mut picked = self.members[start..]
            .iter()
            .filter(|i| self.keeps(show, i))
            .take(PAGE + 1);
        let rows: Vec<Row> = picked
            .by_ref()
            .take(PAGE)
            .map(|i| Row {
                id: i.id.clone(),
                name: i.name.clone(),
                subnet_id: i.subnet_id.clone(),
                private_ip: i.private_ip.clone().unwrap_or_default(),
                public_ip: self.public_ip(i).unwrap_or_default(),
                protected: self.protected.contains(&i.id),
            })
            .collect();
        let next = picked.next().is_some().then(|| {
            rows.last()
                .map(|r| r.id.clone())
                .expect("a next page follows a full one")
        });
        (rows, next)
    }
}
