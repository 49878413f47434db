//! Admin pages and `natpilot user …`: users, roles, passwords, disabling, the audit log.

use natpilot::{
    store::users::{self, Role},
    web::user_cli::{self, PasswordSource, UserAction},
};
use reqwest::StatusCode;

use crate::harness::{PASSWORD, TestApp};

async fn user_id(app: &TestApp, name: &str) -> i64 {
    users::by_name(app.store().readers(), name)
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test]
async fn an_admin_adds_a_user_who_can_then_sign_in_with_that_role() {
    let app = TestApp::start().await;
    let mut admin = app.signed_in("root", Role::Admin).await;
    admin.get("/admin/users").await;
    let done = admin
        .post(
            "/admin/users",
            &[
                ("name", "olga"),
                ("role", "operator"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let page = admin.get(&done.location().unwrap()).await;
    assert_eq!(page.text("#notice"), "User added.");
    assert!(
        page.texts("#users-table .user-name")
            .contains(&"olga".to_owned())
    );
    let mut olga = app.browser();
    assert_eq!(
        olga.login("olga", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    assert!(
        olga.get("/")
            .await
            .text("#current-user")
            .contains("operator")
    );
}

#[tokio::test]
async fn adding_a_user_with_a_short_password_keeps_the_input_and_says_why() {
    let app = TestApp::start().await;
    let mut admin = app.signed_in("root", Role::Admin).await;
    admin.get("/admin/users").await;
    let page = admin
        .post(
            "/admin/users",
            &[
                ("name", "olga"),
                ("role", "operator"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.text("#add-user-error").contains("at least 10"));
    assert_eq!(
        page.attr("#new-user-name", "value").as_deref(),
        Some("olga")
    );
    assert_eq!(
        page.attr("#new-user-role option[selected]", "value")
            .as_deref(),
        Some("operator")
    );
}

#[tokio::test]
async fn disabling_a_user_from_the_admin_page_ends_their_session() {
    let app = TestApp::start().await;
    let mut admin = app.signed_in("root", Role::Admin).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = user_id(&app, "olga").await;
    admin.get("/admin/users").await;
    let done = admin.post(&format!("/admin/users/{id}/disable"), &[]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(olga.get("/").await.status, StatusCode::SEE_OTHER);
    let page = admin.get("/admin/users").await;
    assert_eq!(page.count(&format!("#enable-{id}")), 1);
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_or_disabled() {
    let app = TestApp::start().await;
    let mut admin = app.signed_in("root", Role::Admin).await;
    let id = user_id(&app, "root").await;
    admin.get("/admin/users").await;
    let page = admin
        .post(&format!("/admin/users/{id}/role"), &[("role", "viewer")])
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.text("#error-detail").contains("no active admin"));
    let page = admin.post(&format!("/admin/users/{id}/disable"), &[]).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_password_reset_ends_sessions_and_the_new_password_works() {
    let app = TestApp::start().await;
    let mut admin = app.signed_in("root", Role::Admin).await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    let id = user_id(&app, "olga").await;
    admin.get("/admin/users").await;
    let new = "a brand new passphrase";
    let done = admin
        .post(&format!("/admin/users/{id}/password"), &[("password", new)])
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(olga.get("/").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        olga.login("olga", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(olga.login("olga", new).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_audit_log_records_logins_failures_and_user_changes_and_filters_them() {
    let app = TestApp::start().await;
    let mut admin = app.signed_in("root", Role::Admin).await;
    app.browser().login("root", "not the password").await;
    admin.get("/admin/users").await;
    admin
        .post(
            "/admin/users",
            &[("name", "olga"), ("role", "viewer"), ("password", PASSWORD)],
        )
        .await;
    let id = user_id(&app, "olga").await;
    admin
        .post(&format!("/admin/users/{id}/role"), &[("role", "operator")])
        .await;
    let page = admin.get("/admin/audit").await;
    let actions = page.texts("#audit-table .audit-action");
    for expected in ["login", "login.failed", "user.create", "user.role"] {
        assert!(
            actions.contains(&expected.to_owned()),
            "{expected} missing from {actions:?}"
        );
    }
    assert!(
        page.texts("#audit-table td.mono")
            .iter()
            .any(|t| t == "127.0.0.1")
    );
    // Targets that are users link to their entries; details read as `key: value` lines.
    assert!(
        page.select_attrs("#audit-table .audit-target a", "href")
            .contains(&"/admin/audit?actor=olga".to_owned())
    );
    assert!(
        page.texts("#audit-table .audit-details")
            .iter()
            .any(|t| t.contains("from: viewer") && t.contains("to: operator")),
        "{:?}",
        page.texts("#audit-table .audit-details")
    );
    let filtered = admin.get("/admin/audit?action=login.failed").await;
    assert_eq!(
        filtered.texts("#audit-table .audit-action"),
        vec!["login.failed"]
    );
    let bad = admin.get("/admin/audit?from=yesterday").await;
    assert!(bad.text("#audit-error").contains("not a date"));
    assert_eq!(
        bad.attr("#audit-from", "value").as_deref(),
        Some("yesterday")
    );
}

#[tokio::test]
async fn the_audit_log_pages_with_a_keyset_link() {
    let app = TestApp::start().await;
    let mut admin = app.signed_in("root", Role::Admin).await;
    for _ in 0..55 {
        natpilot::store::audit::record(
            app.store().writer(),
            "bot",
            "",
            "test.tick",
            "",
            &serde_json::json!({}),
        )
        .await
        .unwrap();
    }
    let first = admin.get("/admin/audit?action=test.tick").await;
    assert_eq!(first.count("#audit-table tbody tr"), 50);
    let next = first.attr("#audit-next", "href").unwrap();
    let second = admin.get(&next).await;
    assert_eq!(second.count("#audit-table tbody tr"), 5);
    assert_eq!(second.count("#audit-next"), 0);
}

async fn cli(app: &TestApp, action: UserAction, stdin: &str) -> anyhow::Result<String> {
    let mut input = std::io::Cursor::new(stdin.as_bytes().to_vec());
    let mut out = Vec::new();
    user_cli::run(
        app.store(),
        action,
        PasswordSource::Reader(&mut input),
        &mut out,
    )
    .await?;
    Ok(String::from_utf8(out).unwrap())
}

#[tokio::test]
async fn the_user_command_adds_lists_changes_and_disables_users() {
    let app = TestApp::start().await;
    let add = UserAction::Add {
        name: "root".into(),
        role: Role::Admin,
        password_stdin: true,
    };
    cli(&app, add, &format!("{PASSWORD}\n")).await.unwrap();
    let add = UserAction::Add {
        name: "olga".into(),
        role: Role::Viewer,
        password_stdin: true,
    };
    cli(&app, add, &format!("{PASSWORD}\n")).await.unwrap();
    cli(
        &app,
        UserAction::SetRole {
            name: "olga".into(),
            role: Role::Operator,
        },
        "",
    )
    .await
    .unwrap();
    let listing = cli(&app, UserAction::List, "").await.unwrap();
    assert!(listing.contains("olga\toperator\tactive"), "{listing}");
    assert!(listing.contains("root\tadmin\tactive"), "{listing}");
    let mut olga = app.browser();
    assert_eq!(
        olga.login("olga", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    cli(
        &app,
        UserAction::Disable {
            name: "olga".into(),
        },
        "",
    )
    .await
    .unwrap();
    assert_eq!(olga.get("/").await.status, StatusCode::SEE_OTHER);
    let err = cli(
        &app,
        UserAction::Disable {
            name: "root".into(),
        },
        "",
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("no active admin"), "{err}");
    let err = cli(
        &app,
        UserAction::SetRole {
            name: "nobody".into(),
            role: Role::Admin,
        },
        "",
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("no user named `nobody`"), "{err}");
}

#[tokio::test]
async fn the_user_command_resets_a_password_from_stdin() {
    let app = TestApp::start().await;
    app.user("olga", Role::Operator).await;
    let reset = UserAction::ResetPassword {
        name: "olga".into(),
        password_stdin: true,
    };
    cli(&app, reset, "another long passphrase\n").await.unwrap();
    let mut b = app.browser();
    assert_eq!(
        b.login("olga", "another long passphrase").await.status,
        StatusCode::SEE_OTHER
    );
}
