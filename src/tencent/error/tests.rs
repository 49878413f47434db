use super::*;

fn api(code: &str) -> TencentError {
    TencentError::Api {
        action: "DescribeVpcs",
        code: code.into(),
        message: "the message".into(),
        request_id: "req-1".into(),
    }
}

#[test]
fn display_shows_action_code_message_request_id_and_a_hint() {
    let text = api("AuthFailure.SignatureExpire").to_string();
    for part in [
        "DescribeVpcs",
        "AuthFailure.SignatureExpire",
        "the message",
        "req-1",
        "clock",
    ] {
        assert!(text.contains(part), "missing {part}: {text}");
    }
}

#[test]
fn common_codes_get_hints_that_say_what_to_do() {
    let cases = [
        ("UnauthorizedOperation.CamNoAuth", "CAM"),
        ("AuthFailure.UnauthorizedOperation", "CAM"),
        ("AuthFailure.SecretIdNotFound", "SecretId"),
        ("AuthFailure.SignatureFailure", "SecretKey"),
        ("LimitExceeded.AddressQuotaLimitExceeded", "quota"),
        ("RequestLimitExceeded.UinLimitExceeded", "rate limit"),
    ];
    for (code, needle) in cases {
        let hint = api(code).hint().unwrap_or_default();
        assert!(hint.contains(needle), "{code}: {hint}");
    }
    assert_eq!(api("InvalidParameter").hint(), None);
}

#[test]
fn retryable_codes_follow_reference_3_4() {
    for code in [
        "RequestLimitExceeded",
        "RequestLimitExceeded.GlobalRegionUinLimitExceeded",
        "InternalError",
        "ResourceUnavailable",
        "UnsupportedOperation.MutexOperationTaskRunning",
    ] {
        assert!(api(code).is_retryable(), "{code}");
    }
    for code in [
        "InvalidParameter",
        "AuthFailure.SignatureFailure",
        "UnauthorizedOperation",
        "ResourceUnavailable.AgentNotInstalled",
        "LimitExceeded",
        "ResourceNotFound",
    ] {
        assert!(!api(code).is_retryable(), "{code}");
    }
}

#[test]
fn maybe_applied_keeps_code_and_request_id_of_its_cause() {
    let err = TencentError::MaybeApplied {
        action: "CreateRoutes",
        cause: Box::new(api("InternalError")),
    };
    assert_eq!(err.code(), Some("InternalError"));
    assert_eq!(err.request_id(), Some("req-1"));
    assert!(!err.is_retryable());
    assert!(
        err.to_string()
            .contains("CreateRoutes may or may not have been applied")
    );
}
