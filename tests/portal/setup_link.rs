//! Issue 10, defect 5: the first-admin setup link works only while the database has no
//! user, whoever added one (here `natpilot user add`), and only for a limited time.

use natpilot::{
    store::users,
    web::user_cli::{self, PasswordSource, UserAction},
};
use reqwest::StatusCode;

use crate::harness::{PASSWORD, TestApp};

/// What `natpilot user add ops --role admin --password-stdin` does.
async fn add_admin_from_the_shell(app: &TestApp, name: &str) {
    let action = UserAction::Add {
        name: name.into(),
        role: users::Role::Admin,
        password_stdin: true,
    };
    let stdin = format!("{PASSWORD}\n").into_bytes();
    let mut reader: &[u8] = &stdin;
    let mut out = Vec::new();
    user_cli::run(
        app.store(),
        action,
        PasswordSource::Reader(&mut reader),
        &mut out,
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_user_added_from_the_shell_ends_the_setup_link() {
    let app = TestApp::start().await;
    let setup = app
        .app
        .setup_path
        .clone()
        .expect("an empty database gets a link");
    add_admin_from_the_shell(&app, "ops").await;

    let mut b = app.browser();
    let page = b.get(&setup).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.body);
    assert!(
        page.text("#error-detail").contains("has users now"),
        "{}",
        page.body
    );

    // Posting the form anyway (with a valid form token from the sign-in page) creates no one.
    b.get("/login").await;
    let post = b
        .post(
            &setup,
            &[
                ("name", "intruder"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(post.status, StatusCode::NOT_FOUND, "{}", post.body);
    let names: Vec<String> = users::list(app.store().readers())
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["ops"]);
    assert!(b.cookie.is_none(), "nobody was signed in");
}

#[tokio::test]
async fn a_user_added_while_the_form_is_open_wins_over_the_link() {
    let app = TestApp::start().await;
    let setup = app.app.setup_path.clone().unwrap();
    let mut b = app.browser();
    assert_eq!(b.get(&setup).await.status, StatusCode::OK);
    add_admin_from_the_shell(&app, "ops").await;
    let post = b.submit_setup(&setup, "root").await;
    assert_eq!(post.status, StatusCode::NOT_FOUND, "{}", post.body);
    assert_eq!(users::count(app.store().readers()).await.unwrap(), 1);
    // And the link stays dead for good.
    assert_eq!(
        app.browser().get(&setup).await.status,
        StatusCode::NOT_FOUND
    );
}
