//! Operator hints for common API error codes: what the code usually means and what to do.
//! Codes from reference §1.11 (auth) and §3.3 (common codes).

/// A one-line hint for `code` returned by `action`, or `None` when the message says it all.
pub fn hint_for(code: &str, action: &str) -> Option<String> {
    let hint = match code {
        c if c.starts_with("UnauthorizedOperation") || c == "AuthFailure.UnauthorizedOperation" => {
            format!(
                "the CAM user or role behind this SecretId may not call {action}; grant it in the CAM \
                 console (a policy allowing this action, or the product's read-only/full-access preset)"
            )
        }
        "AuthFailure.SecretIdNotFound" | "AuthFailure.InvalidSecretId" => {
            "the SecretId is unknown, disabled or not an API key; check it for stray spaces and \
             compare with CAM > API Keys (`natpilot doctor` shows which source it came from)"
                .into()
        }
        "AuthFailure.SignatureFailure" => {
            "the signature did not match: usually the SecretKey does not belong to this SecretId \
             (check both come from the same key pair)"
                .into()
        }
        "AuthFailure.SignatureExpire" => {
            "this machine's clock is more than 5 minutes off Tencent Cloud's; sync it (NTP) and retry"
                .into()
        }
        "AuthFailure.TokenFailure" => {
            "the STS session token is invalid or expired; obtain fresh temporary credentials".into()
        }
        "AuthFailure.MFAFailure" => "this key requires MFA, which API calls cannot provide".into(),
        c if c.starts_with("RequestLimitExceeded") => {
            "the account's API rate limit was hit; natpilot retries with backoff, so seeing this \
             means other tools share the quota — wait a minute and retry"
                .into()
        }
        c if c.starts_with("LimitExceeded") || c.starts_with("AddressQuotaLimitExceeded") => {
            "an account quota is used up; free resources or raise the quota in the console".into()
        }
        "UnsupportedRegion" => "this service is not available in the chosen region".into(),
        "InvalidAction" | "NoSuchVersion" | "NoSuchProduct" => {
            "the endpoint does not know this action; check --endpoint points at Tencent Cloud or \
             the natpilot simulator"
                .into()
        }
        c if c.starts_with("IpNotInWhitelist") || c.starts_with("IpInBlacklist") => {
            "this key is restricted by source IP; allow this machine's IP in CAM".into()
        }
        _ => return None,
    };
    Some(hint)
}
