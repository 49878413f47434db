//! Issue 10, defect 7: `next` on `/login` only ever sends the browser to a path on this
//! site; control characters in it give `/`, never a 500 or an off-site `Location`.

use natpilot::{store::users::Role, web::settings::WebSettings};
use reqwest::StatusCode;

use crate::harness::{PASSWORD, TestApp};

/// (`next` as it appears in the query string, the `Location` expected.)
const TABLE: &[(&str, &str)] = &[
    ("/%09/evil.host/x", "/"),
    ("//evil", "/"),
    ("/%5Cevil", "/"),
    ("%5C%5Cevil", "/"),
    ("http://x", "/"),
    ("https%3A%2F%2Fevil.example%2F", "/"),
    ("/x%0D%0ALocation:%20http://evil", "/"),
    ("/x%0Ay", "/"),
    ("/x%00y", "/"),
    ("%2Fruns%2Fabc%3Fx%3D1", "/runs/abc?x=1"),
];

#[tokio::test]
async fn a_signed_in_visitor_is_sent_only_to_paths_on_this_site() {
    let app = TestApp::start().await;
    let mut olga = app.signed_in("olga", Role::Operator).await;
    for (next, want) in TABLE {
        let page = olga.get(&format!("/login?next={next}")).await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "next={next}: {}",
            page.body
        );
        assert_eq!(page.location().as_deref(), Some(*want), "next={next}");
    }
}

#[tokio::test]
async fn signing_in_with_a_hostile_next_lands_on_the_dashboard() {
    // One sign-in per row: more than the default throttle allows.
    let app = TestApp::start_with(WebSettings {
        login_attempts: 100,
        ..Default::default()
    })
    .await;
    app.user("olga", Role::Operator).await;
    for (next, want) in TABLE {
        let mut b = app.browser();
        let form = b.get(&format!("/login?next={next}")).await;
        assert_eq!(form.status, StatusCode::OK, "next={next}: {}", form.body);
        assert_eq!(
            form.attr("#login-form input[name=next]", "value")
                .as_deref(),
            Some(*want),
            "next={next}"
        );
        // The raw value posted as the form field, as a crafted form would.
        let raw = percent_decode(next);
        let done = b
            .post(
                "/login",
                &[("name", "olga"), ("password", PASSWORD), ("next", &raw)],
            )
            .await;
        assert_eq!(
            done.status,
            StatusCode::SEE_OTHER,
            "next={raw:?}: {}",
            done.body
        );
        assert_eq!(done.location().as_deref(), Some(*want), "next={raw:?}");
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}
