//! The documented TC3 example (reference §1.9, both variants) and the SDK vectors of §1.10,
//! intermediate values included.

use super::*;

fn sdk_vector(
    id: &str,
    key: &str,
    service: &str,
    host: &str,
    body: &str,
    timestamp: i64,
) -> Signature {
    sign(&SigningInput {
        secret_id: id,
        secret_key: key,
        service,
        headers: &[("content-type", "application/json"), ("host", host)],
        method: "POST",
        canonical_query: "",
        body: body.as_bytes(),
        timestamp,
        unsigned_payload: false,
    })
}

const DOC_BODY: &str =
    r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;

#[test]
fn documented_example_variant_1_signs_content_type_and_host() {
    let s = sign(&SigningInput {
        secret_id: "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
        secret_key: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
        service: "cvm",
        headers: &[
            ("content-type", "application/json; charset=utf-8"),
            ("host", "cvm.tencentcloudapi.com"),
        ],
        method: "POST",
        canonical_query: "",
        body: DOC_BODY.as_bytes(),
        timestamp: 1551113065,
        unsigned_payload: false,
    });
    assert_eq!(
        s.hashed_payload,
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    );
    assert_eq!(
        s.canonical_request,
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    );
    assert_eq!(
        s.hashed_canonical_request,
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    );
    assert_eq!(
        s.string_to_sign,
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    );
    assert_eq!(
        s.signature,
        "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    );
    assert_eq!(
        s.authorization,
        "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    );
}

#[test]
fn documented_example_variant_2_also_signs_x_tc_action() {
    let s = sign(&SigningInput {
        secret_id: &format!("AKID{}", "*".repeat(32)),
        secret_key: &"*".repeat(32),
        service: "cvm",
        headers: &[
            ("content-type", "application/json; charset=utf-8"),
            ("host", "cvm.tencentcloudapi.com"),
            ("x-tc-action", "DescribeInstances"),
        ],
        method: "POST",
        canonical_query: "",
        body: DOC_BODY.as_bytes(),
        timestamp: 1551113065,
        unsigned_payload: false,
    });
    assert_eq!(
        s.canonical_request,
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\nx-tc-action:describeinstances\n\ncontent-type;host;x-tc-action\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    );
    assert_eq!(
        s.hashed_canonical_request,
        "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
    );
    assert_eq!(
        s.secret_date,
        "da98fb70dcf6b112dc21038d1eeeb3a95c74b4dcb12c1131f864f6066bd02be0"
    );
    assert_eq!(
        s.secret_service,
        "8d70cbefb03939f929db64d32dc2ba89b1095620119fe3e050e2b18c5bd2752f"
    );
    assert_eq!(
        s.secret_signing,
        "b596b923aad85185e2d1f6659d2a062e0a86731226e021e61bfe06f7ed05f5af"
    );
    assert_eq!(
        s.signature,
        "10b1a37a7301a02ca19a647ad722d5e43b4b3cff309d421d85b46093f6ab6c4f"
    );
    assert_eq!(s.signed_headers, "content-type;host;x-tc-action");
}

#[test]
fn sdk_vector_a_describe_vpcs() {
    let s = sdk_vector(
        "AKIDTESTVECTORAAAAAAAAAAAAAAAAAAAAAA",
        "TestVectorSecretKeyAAAAAAAAAAAAA",
        "vpc",
        "vpc.tencentcloudapi.com",
        r#"{"Filters": [{"Name": "vpc-id", "Values": ["vpc-abc12345"]}], "Offset": "0", "Limit": "100"}"#,
        1700000000,
    );
    assert_eq!(
        s.hashed_payload,
        "bfd790f4748a165ff02c304540cfcfa179559c9dba167191a25fafb622ceee67"
    );
    assert_eq!(
        s.hashed_canonical_request,
        "a0476b1d1788ad75bb9aa941213d4c3351bab8d90abb66335913f71ad9ff00c5"
    );
    assert_eq!(
        s.string_to_sign,
        "TC3-HMAC-SHA256\n1700000000\n2023-11-14/vpc/tc3_request\na0476b1d1788ad75bb9aa941213d4c3351bab8d90abb66335913f71ad9ff00c5"
    );
    assert_eq!(
        s.secret_date,
        "4fbdb68d534465ec0974129161343246a1544ff197e939abf8b03a9a9b8b22f6"
    );
    assert_eq!(
        s.secret_service,
        "69557dfe0a53da2e3f745436150decac73a78cf3f6b02612070301047c8f4f05"
    );
    assert_eq!(
        s.secret_signing,
        "c878b6f78541721bc0d342882d7839d6ce88b89248ede55ad6ef32de505212e5"
    );
    assert_eq!(
        s.signature,
        "a3cbbd9e8cb80857d47ab25013b6ca7197a20dccb381faba1d637be6828d15f7"
    );
}

#[test]
fn sdk_vector_b_create_nat_gateway_on_last_second_of_day() {
    let s = sdk_vector(
        "AKIDTESTVECTORBBBBBBBBBBBBBBBBBBBBBB",
        "TestVectorSecretKeyBBBBBBBBBBBBB",
        "vpc",
        "vpc.tencentcloudapi.com",
        r#"{"NatGatewayName": "wizard-nat", "VpcId": "vpc-abc12345", "InternetMaxBandwidthOut": 100, "MaxConcurrentConnection": 1000000, "AddressCount": 1, "Zone": "ap-guangzhou-3"}"#,
        1735689599,
    );
    assert_eq!(
        s.hashed_payload,
        "695b2cb65a515c7a5ca41b68ec7cff3bad0a5a4ce1c9ca5be0bdfec5a2009b2c"
    );
    assert_eq!(
        s.hashed_canonical_request,
        "168f144279689325e770126fe2c9790d8e2ff8e934e16281380f2ba850ac5a4b"
    );
    assert_eq!(s.credential_scope, "2024-12-31/vpc/tc3_request");
    assert_eq!(
        s.secret_date,
        "9f8748187496af4aaf802156560bc2ea69d3aac252fd5514f51d1eee7d8edaf3"
    );
    assert_eq!(
        s.secret_service,
        "432628259feb559abe54365c21ce8a5e1875c21c8388d8ddc0fd5178836a9552"
    );
    assert_eq!(
        s.secret_signing,
        "70ff46eff6c6876f44f8c97ac5e6693bc29d514df5b3c76b5cab76d0eda1441e"
    );
    assert_eq!(
        s.signature,
        "50e60f04ee08fd64cd80882c5bb0abd9f109a16dce1d74abac9b68a674ae73af"
    );
}

#[test]
fn sdk_vector_c_tat_run_command() {
    let s = sdk_vector(
        "AKIDTESTVECTORCCCCCCCCCCCCCCCCCCCCCC",
        "TestVectorSecretKeyCCCCCCCCCCCCC",
        "tat",
        "tat.tencentcloudapi.com",
        r#"{"Content": "Y3VybCAtcyBpZmNvbmZpZy5jbw==", "InstanceIds": ["ins-abcd1234", "ins-efgh5678"], "CommandType": "SHELL", "Timeout": 60}"#,
        1717171717,
    );
    assert_eq!(
        s.hashed_payload,
        "1cbdabad0c2acf5c354c6d5c43e9e6055934cea3d05c891a98f1b0dafafdaa58"
    );
    assert_eq!(
        s.hashed_canonical_request,
        "a754d1437d491b6711356b9fad45a259864215b13f4a4ac749ed90f27a40a3c7"
    );
    assert_eq!(
        s.secret_date,
        "dace3f7eeee1606cae41253a5bf8fe7717c60cb8bdfa9262967420e6908a2825"
    );
    assert_eq!(
        s.secret_service,
        "e55bc8d30b8ad8159b86d09439efee2d3eeaf003c3c13e621ed40006249adacf"
    );
    assert_eq!(
        s.secret_signing,
        "15421410f2e3e2518e5c522550a286c6ca7a05432438c8606e3f5fb6bf45d74e"
    );
    assert_eq!(
        s.signature,
        "f885d79f72ba3cffa4d1327e31eeecbfb4cd5be7b6276cbe68de27a15b22d7aa"
    );
}

#[test]
fn sdk_vector_d_dnspod_with_escaped_non_ascii_body() {
    let s = sdk_vector(
        "AKIDTESTVECTORDDDDDDDDDDDDDDDDDDDDDD",
        "TestVectorSecretKeyDDDDDDDDDDDDD",
        "dnspod",
        "dnspod.tencentcloudapi.com",
        r#"{"Domain": "example.com", "RecordType": "A", "RecordLine": "\u9ed8\u8ba4", "Limit": 3000}"#,
        1767225600,
    );
    assert_eq!(
        s.hashed_payload,
        "5d08e71ca2a46becafe509c95093cdfd75ab5f37038e447ba873acbebf4d29a2"
    );
    assert_eq!(
        s.hashed_canonical_request,
        "e2a98084b6f30a964ae7778f1df39abc6941c298bebe771d49cd613a5d153f63"
    );
    assert_eq!(
        s.secret_date,
        "ed9359f3834c0d5fd075465c1d17c866e180e2288c5aac6ab5284831213510b4"
    );
    assert_eq!(
        s.secret_service,
        "df8ceadb9bf88a9564c37bdd82362382ebcbf72bb4e4eb7eb7a4bd5e529dfe43"
    );
    assert_eq!(
        s.secret_signing,
        "885d977c68686430f66f320884c46784510c925edc750de45b6e4a5e61a77780"
    );
    assert_eq!(
        s.signature,
        "9605b05087c947760b9f31505af5e694c31efcf9ccb7901b4b544d4415939abc"
    );
}

#[test]
fn authorization_header_round_trips_through_the_parser() {
    let s = sdk_vector("AKIDX", "key", "vpc", "127.0.0.1:9000", "{}", 1700000000);
    let parsed = parse_authorization(&s.authorization).expect("our own header parses");
    assert_eq!(parsed.secret_id, "AKIDX");
    assert_eq!(parsed.date, "2023-11-14");
    assert_eq!(parsed.service, "vpc");
    assert_eq!(parsed.signed_headers, vec!["content-type", "host"]);
    assert_eq!(parsed.signature, s.signature);
}

#[test]
fn malformed_authorization_headers_are_rejected() {
    for bad in [
        "",
        "HMAC-SHA1 Credential=a/b/c/tc3_request, SignedHeaders=host, Signature=00",
        "TC3-HMAC-SHA256 Credential=a/b/c/wrong, SignedHeaders=host, Signature=",
        "TC3-HMAC-SHA256 Credential=a/2020-01-01/vpc/tc3_request, SignedHeaders=host",
        "TC3-HMAC-SHA256 Credential=a/2020-01-01/vpc/tc3_request, SignedHeaders=host, Signature=zz",
    ] {
        assert!(parse_authorization(bad).is_none(), "accepted {bad:?}");
    }
}
