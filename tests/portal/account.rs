//! Issue 10 (ASVS 5.0 L2): a user's own password change and list of sessions with "sign
//! out everywhere"; weak passwords refused on every path that sets one.

use natpilot::{
    store::users::Role,
    web::user_cli::{self, PasswordSource, UserAction},
};
use reqwest::StatusCode;

use crate::harness::{PASSWORD, TestApp};

const NEW: &str = "lantern quarry mosaic 91";

#[tokio::test]
async fn changing_ones_password_needs_the_current_one_and_ends_the_other_sessions() {
    let app = TestApp::start().await;
    let mut here = app.signed_in("olga", Role::Viewer).await;
    let mut elsewhere = app.browser();
    elsewhere.login("olga", PASSWORD).await;
    assert_eq!(elsewhere.get("/").await.status, StatusCode::OK);

    let form = here.get("/account/password").await;
    assert_eq!(form.status, StatusCode::OK);
    let wrong = here
        .post(
            "/account/password",
            &[
                ("current", "not my password"),
                ("password", NEW),
                ("password_confirm", NEW),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .text("#password-errors")
            .contains("not your current password")
    );
    let weak = here
        .post(
            "/account/password",
            &[
                ("current", PASSWORD),
                ("password", "password123"),
                ("password_confirm", "password123"),
            ],
        )
        .await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        weak.text("#password-errors").contains("too easy to guess"),
        "{}",
        weak.body
    );

    let done = here
        .post(
            "/account/password",
            &[
                ("current", PASSWORD),
                ("password", NEW),
                ("password_confirm", NEW),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(
        here.get("/").await.status,
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        elsewhere.get("/").await.status,
        StatusCode::SEE_OTHER,
        "the other one ended"
    );
    assert_eq!(
        app.browser().login("olga", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.browser().login("olga", NEW).await.status,
        StatusCode::SEE_OTHER
    );
    let entries = app.audited("user.password_change").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor, "olga");
    assert_eq!(entries[0].details["other_sessions_ended"], 1);
}

#[tokio::test]
async fn a_user_sees_their_sessions_and_can_sign_out_everywhere() {
    let app = TestApp::start().await;
    let mut here = app.signed_in("olga", Role::Viewer).await;
    let mut phone = app.browser();
    let login = phone.get("/login").await;
    assert_eq!(login.status, StatusCode::OK);
    let req = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("PhoneBrowser/1.0")
        .build()
        .unwrap()
        .post(phone.url("/login"))
        .header(reqwest::header::ORIGIN, phone.url(""))
        .header(reqwest::header::COOKIE, phone.cookie_header())
        .form(&[
            ("name", "olga"),
            ("password", PASSWORD),
            ("csrf_token", &phone.csrf.clone().unwrap()),
        ]);
    assert_eq!(phone.send(req).await.status, StatusCode::SEE_OTHER);
    app.signed_in("other", Role::Viewer).await;

    let page = here.get("/account/sessions").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.count(".session-row"),
        2,
        "only olga's sessions: {}",
        page.body
    );
    assert_eq!(page.count(".session-current"), 1);
    assert!(page.texts(".session-ip").iter().all(|ip| ip == "127.0.0.1"));
    assert!(
        page.texts(".session-agent")
            .contains(&"PhoneBrowser/1.0".to_owned())
    );
    for id in [here.cookie.clone().unwrap(), phone.cookie.clone().unwrap()] {
        assert!(!page.body.contains(&id), "a session id is on the page");
        let hash = natpilot::web::auth::session::hash_id(&id);
        assert!(
            !page.body.contains(&hash),
            "a session id hash is on the page"
        );
    }

    let out = here.post("/account/sessions/end", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location().as_deref(), Some("/login"));
    assert_eq!(here.get("/").await.status, StatusCode::SEE_OTHER);
    assert_eq!(phone.get("/").await.status, StatusCode::SEE_OTHER);
    let entries = app.audited("user.sign_out_everywhere").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].details["sessions_ended"], 2);
}

#[tokio::test]
async fn weak_passwords_are_refused_by_the_shell_and_the_setup_page() {
    let app = TestApp::start().await;
    let setup = app.app.setup_path.clone().unwrap();
    let mut b = app.browser();
    b.get(&setup).await;
    let page = b
        .post(
            &setup,
            &[
                ("name", "root"),
                ("password", "qwertyuiop"),
                ("password_confirm", "qwertyuiop"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.text("#setup-errors").contains("too easy to guess"),
        "{}",
        page.body
    );

    for action in [
        UserAction::Add {
            name: "ops".into(),
            role: Role::Admin,
            password_stdin: true,
        },
        UserAction::ResetPassword {
            name: "root".into(),
            password_stdin: true,
        },
    ] {
        if matches!(action, UserAction::ResetPassword { .. }) {
            app.user("root", Role::Admin).await;
        }
        let mut reader: &[u8] = b"password123\n";
        let err = user_cli::run(
            app.store(),
            action,
            PasswordSource::Reader(&mut reader),
            &mut Vec::new(),
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(err.contains("too easy to guess"), "{err}");
    }
}
