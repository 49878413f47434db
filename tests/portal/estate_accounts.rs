//! Several cloud accounts in one portal (issue 13 item 1), on a simulator that serves three
//! accounts: the default one, account B reached by STS AssumeRole (with an ExternalId), and
//! account C whose keys have no permission to list VPCs; plus one broken `[[accounts]]`
//! entry that must name itself and its key without stopping the others.

use natpilot::estate::{ExtraAccount, accounts, config};
use natpilot::sim::{
    DEFAULT_SECRET_ID, DEFAULT_SECRET_KEY, PRIMARY_UIN, ScenarioSource, SimAccountConfig, SimRole,
};
use natpilot::store::users::Role;
use natpilot::web::settings::WebSettings;
use reqwest::StatusCode;

use crate::harness::TestApp;

const VPC: &str = "vpc-tut0rial";
const REGION: &str = "ap-guangzhou";
const UIN_B: &str = "100000000002";
const UIN_C: &str = "100000000003";
const ID_C: &str = "AKIDaccountC000000000000000000000000";
const KEY_C: &str = "accountCsecretKey000000000000000";

fn sim_config() -> natpilot::sim::SimConfig {
    let b = SimAccountConfig {
        uin: UIN_B.into(),
        secret_id: "AKIDaccountB000000000000000000000000".into(),
        secret_key: "accountBsecretKey000000000000000".to_owned().into(),
        regions: vec![(REGION.into(), ScenarioSource::Tutorial)],
        roles: vec![SimRole {
            name: "natpilot".into(),
            trusted: vec![PRIMARY_UIN.into()],
            external_id: Some("ext-7".into()),
        }],
        denied: vec![],
    };
    let c = SimAccountConfig {
        uin: UIN_C.into(),
        secret_id: ID_C.into(),
        secret_key: KEY_C.to_owned().into(),
        regions: vec![(REGION.into(), ScenarioSource::Tutorial)],
        roles: vec![],
        denied: vec![("*".into(), "DescribeVpcs".into())],
    };
    natpilot::sim::SimConfig {
        accounts: vec![b, c],
        ..TestApp::sim_config()
    }
}

/// The `[[accounts]]` of natpilot.toml, pointed at the simulator, resolved as `serve` does.
async fn accounts_toml(endpoint: String) -> Vec<ExtraAccount> {
    let text = format!(
        r#"
[[accounts]]
label = "b-role"
endpoint = "{endpoint}"
secret_id = "{DEFAULT_SECRET_ID}"
secret_key = "{DEFAULT_SECRET_KEY}"
role_arn = "qcs::cam::uin/{UIN_B}:roleName/natpilot"
role_session_name = "natpilot-test"
external_id = "ext-7"

[[accounts]]
label = "c-readless"
endpoint = "{endpoint}"
secret_id = "{ID_C}"
secret_key = "{KEY_C}"

[[accounts]]
label = "half-key"
endpoint = "{endpoint}"
secret_id = "AKIDonlyhalf"
"#
    );
    #[derive(serde::Deserialize)]
    struct File {
        accounts: Vec<config::AccountEntry>,
    }
    let file: File = toml::from_str(&text).unwrap();
    let (specs, broken) = config::parse_all(&file.accounts, "simulated");
    let tencent = natpilot::config::TencentConfig::default();
    let mut out = Vec::new();
    for spec in &specs {
        out.push(accounts::resolve(spec, &tencent).await);
    }
    out.extend(broken.into_iter().map(ExtraAccount::broken));
    out
}

async fn start() -> TestApp {
    TestApp::start_custom(WebSettings::default(), sim_config(), accounts_toml).await
}

#[tokio::test]
async fn the_accounts_page_shows_each_uin_from_sts_and_names_the_broken_entry_and_its_key() {
    let app = start().await;
    let mut viewer = app.signed_in("vera", Role::Viewer).await;
    let page = viewer.get("/accounts").await;
    assert_eq!(page.status, StatusCode::OK);
    let uin = |label: &str| page.text(&format!("tr[data-account='{label}'] .account-uin"));
    assert_eq!(uin("simulated"), PRIMARY_UIN);
    // AssumeRole into B: GetCallerIdentity answers B's uin and an assumed-role ARN.
    assert_eq!(uin("b-role"), UIN_B);
    let source = page.text("tr[data-account='b-role'] .account-source");
    assert!(
        source.contains(&format!("qcs::sts:{UIN_B}:assumed-role/")),
        "{source}"
    );
    assert!(source.contains("STS AssumeRole"), "{source}");
    assert_eq!(uin("c-readless"), UIN_C);
    let broken = page.text("tr[data-account='half-key'] .account-problem");
    assert!(
        broken.contains("(half-key)") && broken.contains("key \"secret_key\""),
        "{broken}"
    );
    for working in ["simulated", "b-role", "c-readless"] {
        let state = page.text(&format!("tr[data-account='{working}'] .account-state"));
        assert!(state.contains("working"), "{working}: {state}");
    }
    assert_eq!(app.sim.executed("AssumeRole"), 1);
    // No secret reaches the page.
    for secret in [DEFAULT_SECRET_KEY, KEY_C] {
        assert!(!page.body.contains(secret));
    }
}

#[tokio::test]
async fn the_same_vpc_id_runs_at_once_in_two_accounts_and_each_account_keeps_one_run_per_vpc() {
    let app = start().await;
    // B's world is its own: rename its VPC, the default account's keeps its name.
    app.sim
        .with_account_world(UIN_B, REGION, |w| {
            w.vpcs.get_mut(VPC).unwrap().name = "account-b-vpc".into();
        })
        .unwrap();
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let listed = olga.get("/runs/new?account=b-role").await;
    assert_eq!(
        listed.text("#vpcs .vpc-name"),
        "account-b-vpc",
        "{}",
        listed.body
    );
    assert_eq!(listed.text("#new-run-account"), "b-role");
    let default = olga.get("/runs/new").await;
    assert_ne!(default.text("#vpcs .vpc-name"), "account-b-vpc");

    let start_in =
        |account: &'static str| [("account", account), ("region", REGION), ("vpc_id", VPC)];
    let first = olga.post("/runs", &start_in("simulated")).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let in_b = olga.post("/runs", &start_in("b-role")).await;
    assert_eq!(in_b.status, StatusCode::SEE_OTHER, "{}", in_b.body);
    let b_run = in_b
        .location()
        .unwrap()
        .trim_start_matches("/runs/")
        .to_owned();
    app.settle(&b_run).await;
    // The run in B assessed B's world through the assumed role.
    let run = olga.get(&format!("/runs/{b_run}")).await;
    assert!(
        run.body.contains("b-role"),
        "the run page names its account"
    );
    let b_calls =
        natpilot::store::ledger::list(app.store().readers(), b_run.parse().unwrap(), 0, 1000)
            .await
            .unwrap();
    assert!(
        b_calls.iter().any(|c| c.action == "DescribeInstances"),
        "the assessment's calls are in B's run ledger"
    );
    let history = olga.get("/runs").await;
    let accounts = history.texts("tr[data-run-id] .run-account");
    assert!(accounts.contains(&"b-role".to_owned()) && accounts.contains(&"simulated".to_owned()));

    // The one-active-run rule holds per (account, region, VPC).
    let again = olga.post("/runs", &start_in("b-role")).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        again.attr("#busy-run", "href"),
        Some(format!("/runs/{b_run}"))
    );
}

#[tokio::test]
async fn an_account_without_permission_says_so_with_code_and_request_id_and_a_broken_one_starts_nothing()
 {
    let app = start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let page = olga.get("/runs/new?account=c-readless").await;
    let said = page.text("#new-run-error");
    assert!(said.contains("UnauthorizedOperation"), "{said}");
    assert!(said.contains("RequestId"), "{said}");
    assert!(said.contains("c-readless"), "{said}");

    let refused = olga
        .post(
            "/runs",
            &[("account", "half-key"), ("region", REGION), ("vpc_id", VPC)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let said = refused.text("#new-run-error");
    assert!(said.contains("key \"secret_key\""), "{said}");
    let unknown = olga
        .post(
            "/runs",
            &[("account", "nobody"), ("region", REGION), ("vpc_id", VPC)],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.text("#new-run-error").contains("not configured"));
    // Nothing was started, and the other accounts still work.
    assert!(app.audited("run.start").await.is_empty());
    let fine = olga.get("/runs/new?account=b-role").await;
    assert_eq!(fine.count("#vpcs input[name=vpc_id]"), 1, "{}", fine.body);
}

#[tokio::test]
async fn a_scan_covers_every_account_incl_the_assumed_role_and_reports_the_refusing_region() {
    let app = start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let empty = olga.get("/estate").await;
    assert_eq!(empty.count("#no-scans"), 1);
    let started = olga.post("/estate/scan", &[]).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let store = app.store().clone();
    crate::common::until("a stored scan of each usable account", || {
        let store = store.clone();
        async move {
            let scans = natpilot::store::estate::latest_scans(store.readers())
                .await
                .unwrap();
            scans.len() == 3
        }
    })
    .await;
    assert_eq!(app.audited("estate.scan").await.len(), 1);
    let page = olga.get("/estate").await;
    let row = |account: &str| format!("tr.estate-vpc[data-account='{account}'][data-vpc='{VPC}']");
    for account in ["simulated", "b-role"] {
        assert_eq!(page.count(&row(account)), 1, "{account}: {}", page.body);
        let eip: i64 = page
            .text(&format!("{} .vpc-eip", row(account)))
            .parse()
            .unwrap();
        let ordinary: i64 = page
            .text(&format!("{} .vpc-ordinary", row(account)))
            .parse()
            .unwrap();
        assert!(eip + ordinary > 0, "the tutorial VPC has public IPs");
        assert_eq!(
            page.text(&format!("{} .vpc-nat-routed", row(account))),
            "not routed through NAT"
        );
    }
    assert_eq!(
        page.attr(&format!("{} a.start-rollout", row("b-role")), "href"),
        Some(format!("/runs/new?account=b-role&region={REGION}"))
    );
    // C may not list VPCs: its region is reported with the code and RequestId.
    let refused = format!("#refused-regions tr[data-account='c-readless'][data-region='{REGION}']");
    assert_eq!(
        page.text(&format!("{refused} .refused-code")),
        "UnauthorizedOperation"
    );
    assert!(!page.text(&format!("{refused} .refused-request")).is_empty());
    let total: i64 = page.text("#total-vpcs").parse().unwrap();
    assert_eq!(total, 2);
    // Every call of the scan is in its ledger; none of them changes anything.
    let scans = natpilot::store::estate::latest_scans(app.store().readers())
        .await
        .unwrap();
    for s in &scans {
        let (calls, _) = natpilot::store::estate::call_counts(app.store().readers(), s.id)
            .await
            .unwrap();
        assert!(calls >= 1, "scan of {} has its calls", s.account);
    }
    assert!(app.sim.received_mutations().is_empty());
}
