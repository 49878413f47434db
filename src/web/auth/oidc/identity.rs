//! Who a verified ID token says the person is: the identity (issuer + subject, the only
//! stable key), a proposed user name, and the role from the configured claim.

use crate::store::users::{Role, UserName};

use super::{config::SsoSettings, problem::Problem, provider::SignedIn};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub issuer: String,
    pub subject: String,
    /// The name a new user gets (the username claim, else email, else the subject).
    pub name: UserName,
    pub role: Role,
    /// The claim's values, for the audit log.
    pub groups: Vec<String>,
}

impl Identity {
    /// From the ID token's claims; the role claim and the name may come from userinfo when
    /// the ID token has none. Issuer and subject, the identity itself, always come from the
    /// verified ID token (userinfo's `sub` was checked against it).
    pub fn from_claims(signed_in: &SignedIn, settings: &SsoSettings) -> Result<Identity, Problem> {
        let claims = &signed_in.claims;
        let json = serde_json::to_value(claims).unwrap_or_default();
        let map = json.as_object().cloned().unwrap_or_default();
        let claim = &settings.role_claim;
        let userinfo = signed_in.userinfo.as_ref();
        let value = map
            .get(claim)
            .or_else(|| userinfo.and_then(|u| u.get(claim)));
        let Some(value) = value else {
            let mut present: Vec<String> = map.keys().cloned().collect();
            present.extend(userinfo.into_iter().flat_map(|u| u.keys().cloned()));
            present.sort();
            present.dedup();
            return Err(Problem::MissingClaim {
                claim: claim.clone(),
                present,
            });
        };
        let groups: Vec<String> = match value {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let role = role_for(&groups, settings).ok_or_else(|| Problem::NoRole {
            claim: claim.clone(),
            values: groups.clone(),
        })?;
        let subject = claims.subject().as_str().to_owned();
        let text = |key: &str| {
            map.get(key)
                .or_else(|| userinfo.and_then(|u| u.get(key)))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let name = [
            text(&settings.username_claim),
            text("email"),
            Some(subject.clone()),
        ]
        .into_iter()
        .flatten()
        .find_map(|n| UserName::parse(&n).ok())
        .unwrap_or_else(|| UserName::parse("sso user").expect("a valid name"));
        Ok(Identity {
            issuer: claims.issuer().as_str().to_owned(),
            subject,
            name,
            role,
            groups,
        })
    }
}

/// The highest role any of the values maps to.
pub fn role_for(values: &[String], settings: &SsoSettings) -> Option<Role> {
    values
        .iter()
        .filter_map(|v| settings.roles.get(v).copied())
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_mapped_role_wins_and_unmapped_values_give_none() {
        let settings = super::super::config::AuthConfig {
            issuer: Some("https://id.example.com".into()),
            client_id: Some("natpilot".into()),
            roles: [
                ("ops".to_owned(), "operator".to_owned()),
                ("admins".to_owned(), "admin".to_owned()),
                ("staff".to_owned(), "viewer".to_owned()),
            ]
            .into(),
            ..Default::default()
        }
        .settings()
        .unwrap()
        .sso
        .unwrap();
        let v = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            role_for(&v(&["staff", "ops"]), &settings),
            Some(Role::Operator)
        );
        assert_eq!(
            role_for(&v(&["admins", "staff"]), &settings),
            Some(Role::Admin)
        );
        assert_eq!(
            role_for(&v(&["Ops", "sales"]), &settings),
            None,
            "exact values only"
        );
        assert_eq!(role_for(&[], &settings), None);
    }
}
