//! Several simulated Tencent Cloud accounts in one simulator, each with its own uin, one
//! permanent SecretId, its own worlds (one per region) and CAM roles; plus STS: AssumeRole
//! hands out temporary keys (with a session token) that act in the role owner's account,
//! GetCallerIdentity says whose keys sign a request (reference-2 §6).
//!
//! The primary account (the `SimConfig`'s own keys and scenario) lives in `Shared::world` as
//! before; the accounts here are the extra ones (`SimConfig::accounts`) and the primary's
//! extra regions. A region or action can be refused to an account (`UnauthorizedOperation`,
//! as a missing CAM permission answers), to test how callers report it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use rand::Rng;
use secrecy::{ExposeSecret, SecretString};

use crate::sim::error::SimError;
use crate::sim::scenario::ScenarioSource;
use crate::sim::world::World;
use crate::tencent::models::sts::{
    AssumeRoleRequest, AssumeRoleResponse, GetCallerIdentityResponse, StsCredentials,
};

/// The primary account's uin unless the configuration says otherwise.
pub const PRIMARY_UIN: &str = "100000000001";
/// AssumeRole's documented maximum duration (reference-2 §6.1).
const MAX_DURATION_SECS: u64 = 43_200;

/// One more account of the simulator.
#[derive(Debug, Clone)]
pub struct SimAccountConfig {
    pub uin: String,
    pub secret_id: String,
    pub secret_key: SecretString,
    /// One world per region: `(region, scenario)`; the scenario's own region is replaced.
    pub regions: Vec<(String, ScenarioSource)>,
    pub roles: Vec<SimRole>,
    /// `(region, action)` refused with `UnauthorizedOperation`; `"*"` matches any.
    pub denied: Vec<(String, String)>,
}

/// A CAM role callers of other accounts may assume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRole {
    pub name: String,
    /// Uins allowed in the trust policy.
    pub trusted: Vec<String>,
    /// When set, AssumeRole must send exactly this `ExternalId`.
    pub external_id: Option<String>,
}

impl SimRole {
    /// The numeric role id the ARN's `:role/<id>` form and the session's identity use.
    fn id(&self, owner: &str) -> String {
        let sum: u64 = self
            .name
            .bytes()
            .chain(owner.bytes())
            .fold(17, |h, b| h.wrapping_mul(31).wrapping_add(b as u64));
        format!("4611686018{:09}", sum % 1_000_000_000)
    }
}

/// Who signed a request, once its signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Index into [`Accounts::all`]; 0 is the primary account.
    pub account: usize,
    pub identity: Identity,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The account's permanent keys.
    Permanent,
    /// Temporary keys of a role, assumed by `principal`.
    Role {
        role_id: String,
        session: String,
        principal: String,
    },
}

pub struct SimAccount {
    pub uin: String,
    secret_id: String,
    secret_key: SecretString,
    /// Regions other than the primary world's (for account 0), each its own world.
    pub(crate) worlds: Mutex<BTreeMap<String, World>>,
    roles: Vec<SimRole>,
    denied: Mutex<BTreeSet<(String, String)>>,
}

struct Issued {
    secret_key: String,
    token: String,
    expires_unix: i64,
    caller: Caller,
}

/// Every account and the temporary keys issued so far.
pub struct Accounts {
    all: Vec<SimAccount>,
    issued: Mutex<HashMap<String, Issued>>,
}

impl Accounts {
    pub fn new(
        primary_uin: &str,
        primary_id: &str,
        primary_key: &SecretString,
        primary_roles: Vec<SimRole>,
        extra: &[SimAccountConfig],
        seed: u64,
    ) -> anyhow::Result<Accounts> {
        let mut all = vec![SimAccount {
            uin: primary_uin.to_owned(),
            secret_id: primary_id.to_owned(),
            secret_key: primary_key.clone(),
            worlds: Mutex::new(BTreeMap::new()),
            roles: primary_roles,
            denied: Mutex::default(),
        }];
        for (i, a) in extra.iter().enumerate() {
            anyhow::ensure!(
                all.iter()
                    .all(|b| b.uin != a.uin && b.secret_id != a.secret_id),
                "simulated account {} repeats the uin or SecretId of another account",
                a.uin
            );
            let mut worlds = BTreeMap::new();
            for (region, scenario) in &a.regions {
                let mut s = scenario.load()?;
                s.region = region.clone();
                let world = World::from_scenario(s, seed + 1000 * (i as u64 + 1))
                    .map_err(|e| anyhow::anyhow!("account {}: invalid scenario: {e}", a.uin))?;
                worlds.insert(region.clone(), world);
            }
            all.push(SimAccount {
                uin: a.uin.clone(),
                secret_id: a.secret_id.clone(),
                secret_key: a.secret_key.clone(),
                worlds: Mutex::new(worlds),
                roles: a.roles.clone(),
                denied: Mutex::new(a.denied.iter().cloned().collect()),
            });
        }
        Ok(Accounts {
            all,
            issued: Mutex::default(),
        })
    }

    pub fn all(&self) -> &[SimAccount] {
        &self.all
    }

    pub fn by_uin(&self, uin: &str) -> Option<usize> {
        self.all.iter().position(|a| a.uin == uin)
    }

    /// The SecretKey of a permanent or temporary SecretId.
    pub fn secret_key_for(&self, secret_id: &str) -> Option<String> {
        if let Some(a) = self.all.iter().find(|a| a.secret_id == secret_id) {
            return Some(a.secret_key.expose_secret().to_owned());
        }
        let issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        issued.get(secret_id).map(|i| i.secret_key.clone())
    }

    /// Whose keys these are; temporary keys need their session token and must not have
    /// expired (`AuthFailure.TokenFailure`, as Tencent answers).
    pub fn caller(
        &self,
        secret_id: &str,
        token: Option<&str>,
        now_unix: i64,
    ) -> Result<Caller, SimError> {
        if let Some(i) = self.all.iter().position(|a| a.secret_id == secret_id) {
            return Ok(Caller {
                account: i,
                identity: Identity::Permanent,
            });
        }
        let issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        let i = issued.get(secret_id).ok_or_else(|| {
            SimError::new("AuthFailure.SecretIdNotFound", "The SecretId is not found.")
        })?;
        if token != Some(i.token.as_str()) {
            return Err(SimError::new(
                "AuthFailure.TokenFailure",
                "The token is missing or does not belong to these temporary credentials.",
            ));
        }
        if now_unix >= i.expires_unix {
            return Err(SimError::new(
                "AuthFailure.TokenFailure",
                "The temporary credentials have expired; assume the role again.",
            ));
        }
        Ok(i.caller.clone())
    }

    /// Refuses `action` in `region` to account `account` from now on (tests).
    pub fn deny(&self, account: usize, region: &str, action: &str) {
        let mut denied = self.all[account]
            .denied
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        denied.insert((region.to_owned(), action.to_owned()));
    }

    /// `UnauthorizedOperation` when the account may not call `action` in `region`.
    pub fn check_permission(
        &self,
        caller: &Caller,
        service: &str,
        region: &str,
        action: &str,
    ) -> Result<(), SimError> {
        let denied = self.all[caller.account]
            .denied
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let hit = denied
            .iter()
            .any(|(r, a)| (r == "*" || r == region) && (a == "*" || a == action));
        if hit {
            return Err(SimError::new(
                "UnauthorizedOperation",
                format!(
                    "You are not authorized to perform operation ({service}:{action}) in region \
                     {region}; ask the account's CAM admin to grant it."
                ),
            ));
        }
        Ok(())
    }

    pub fn assume_role(
        &self,
        caller: &Caller,
        req: &AssumeRoleRequest,
        now_unix: i64,
    ) -> Result<AssumeRoleResponse, SimError> {
        let param = |m: &str| SimError::new("InvalidParameter.ParamError", m.to_owned());
        let session_ok = (2..=128).contains(&req.role_session_name.len())
            && req
                .role_session_name
                .chars()
                .all(|c| c.is_alphanumeric() || "+=,.@_-".contains(c));
        if !session_ok {
            return Err(param(
                "RoleSessionName must be 2-128 characters of letters, digits and +=,.@_-.",
            ));
        }
        let duration = req.duration_seconds.unwrap_or(7200);
        if duration == 0 || duration > MAX_DURATION_SECS {
            return Err(SimError::new(
                "InvalidParameter.OverTimeError",
                format!("DurationSeconds must be 1 to {MAX_DURATION_SECS}."),
            ));
        }
        let (uin, role_name) = parse_role_arn(&req.role_arn)
            .ok_or_else(|| param("RoleArn must look like qcs::cam::uin/<uin>:roleName/<name>."))?;
        let owner = self.by_uin(uin).ok_or_else(|| {
            SimError::new(
                "InvalidParameter.AccountNotAvaliable",
                format!("The account {uin} does not exist or is unavailable."),
            )
        })?;
        let role = self.all[owner]
            .roles
            .iter()
            .find(|r| r.name == role_name)
            .ok_or_else(|| {
                SimError::new(
                    "ResourceNotFound.RoleNotFound",
                    format!("The account {uin} has no role `{role_name}`."),
                )
            })?;
        let principal = match &caller.identity {
            Identity::Permanent => self.all[caller.account].uin.clone(),
            Identity::Role { principal, .. } => principal.clone(),
        };
        let caller_uin = &self.all[caller.account].uin;
        if !role.trusted.iter().any(|t| t == caller_uin) {
            return Err(SimError::new(
                "UnauthorizedOperation",
                format!("{caller_uin} is not a principal in the trust policy of role {role_name}."),
            ));
        }
        if role.external_id.is_some() && role.external_id != req.external_id {
            return Err(SimError::new(
                "UnauthorizedOperation",
                "The ExternalId does not match the role's trust policy.",
            ));
        }
        let mut rng = rand::rng();
        let mut random = |n: usize| -> String {
            const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
            (0..n)
                .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
                .collect()
        };
        let credentials = StsCredentials {
            token: random(64),
            tmp_secret_id: format!("AKIDtmp{}", random(29)),
            tmp_secret_key: random(32),
        };
        let expires = now_unix + duration as i64;
        let issued = Issued {
            secret_key: credentials.tmp_secret_key.clone(),
            token: credentials.token.clone(),
            expires_unix: expires,
            caller: Caller {
                account: owner,
                identity: Identity::Role {
                    role_id: role.id(uin),
                    session: req.role_session_name.clone(),
                    principal,
                },
            },
        };
        self.issued
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(credentials.tmp_secret_id.clone(), issued);
        let expiration = chrono::DateTime::from_timestamp(expires, 0)
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default();
        Ok(AssumeRoleResponse {
            credentials,
            expired_time: expires,
            expiration,
        })
    }

    pub fn identity(&self, caller: &Caller) -> GetCallerIdentityResponse {
        let uin = self.all[caller.account].uin.clone();
        match &caller.identity {
            Identity::Permanent => GetCallerIdentityResponse {
                arn: format!("qcs::cam::uin/{uin}:uin/{uin}"),
                account_id: uin.clone(),
                user_id: uin.clone(),
                principal_id: uin,
                kind: "CAMUser".into(),
            },
            Identity::Role {
                role_id,
                session,
                principal,
            } => GetCallerIdentityResponse {
                arn: format!("qcs::sts:{uin}:assumed-role/{role_id}"),
                account_id: uin,
                user_id: format!("{role_id}:{session}"),
                principal_id: principal.clone(),
                kind: "CAMRole".into(),
            },
        }
    }
}

/// `qcs::cam::uin/<uin>:roleName/<name>` → `(uin, name)`.
fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("qcs::cam::uin/")?;
    let (uin, name) = rest.split_once(":roleName/")?;
    let ok = !uin.is_empty() && uin.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty();
    ok.then_some((uin, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts() -> Accounts {
        let b = SimAccountConfig {
            uin: "100000000002".into(),
            secret_id: "AKIDaccountB00000000000000000000".into(),
            secret_key: "keyB".to_owned().into(),
            regions: vec![],
            roles: vec![SimRole {
                name: "natpilot".into(),
                trusted: vec![PRIMARY_UIN.into()],
                external_id: Some("ext-1".into()),
            }],
            denied: vec![],
        };
        Accounts::new(
            PRIMARY_UIN,
            "AKIDprimary000000000000000000000",
            &"keyA".to_owned().into(),
            vec![],
            &[b],
            1,
        )
        .unwrap()
    }

    fn request(external_id: Option<&str>) -> AssumeRoleRequest {
        AssumeRoleRequest {
            role_arn: "qcs::cam::uin/100000000002:roleName/natpilot".into(),
            role_session_name: "natpilot-test".into(),
            external_id: external_id.map(str::to_owned),
            ..Default::default()
        }
    }

    #[test]
    fn assumed_keys_act_in_the_role_owners_account_until_they_expire() {
        let a = accounts();
        let primary = Caller {
            account: 0,
            identity: Identity::Permanent,
        };
        let answer = a
            .assume_role(&primary, &request(Some("ext-1")), 1000)
            .unwrap();
        let c = &answer.credentials;
        assert_eq!(answer.expired_time, 1000 + 7200);
        let caller = a.caller(&c.tmp_secret_id, Some(&c.token), 1001).unwrap();
        assert_eq!(caller.account, 1);
        let who = a.identity(&caller);
        assert_eq!(
            (who.account_id.as_str(), who.principal_id.as_str()),
            ("100000000002", PRIMARY_UIN)
        );
        let no_token = a.caller(&c.tmp_secret_id, None, 1001).unwrap_err();
        assert_eq!(no_token.code, "AuthFailure.TokenFailure");
        let expired = a
            .caller(&c.tmp_secret_id, Some(&c.token), 1000 + 7200)
            .unwrap_err();
        assert_eq!(expired.code, "AuthFailure.TokenFailure");
    }

    #[test]
    fn assume_role_refuses_a_wrong_external_id_an_unknown_role_and_an_untrusted_caller() {
        let a = accounts();
        let primary = Caller {
            account: 0,
            identity: Identity::Permanent,
        };
        let code =
            |caller: &Caller, r: AssumeRoleRequest| a.assume_role(caller, &r, 0).unwrap_err().code;
        assert_eq!(
            code(&primary, request(Some("other"))),
            "UnauthorizedOperation"
        );
        let mut unknown = request(Some("ext-1"));
        unknown.role_arn = "qcs::cam::uin/100000000002:roleName/nope".into();
        assert_eq!(code(&primary, unknown), "ResourceNotFound.RoleNotFound");
        let b = Caller {
            account: 1,
            identity: Identity::Permanent,
        };
        assert_eq!(code(&b, request(Some("ext-1"))), "UnauthorizedOperation");
        let mut bad = request(None);
        bad.role_arn = "arn:aws:iam::1:role/x".into();
        assert_eq!(code(&primary, bad), "InvalidParameter.ParamError");
    }
}
