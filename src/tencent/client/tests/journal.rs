//! The write-ahead journal: each attempt is recorded before it leaves, completed after, and a
//! refused attempt never reaches the server.

use super::*;
use crate::tencent::journal::{Attempt, CallJournal, EntryId, JournalFuture, Refusal};

#[derive(Debug, Clone, PartialEq)]
enum Entry {
    /// Before sending: the attempt, and how many requests the server had seen by then.
    Before {
        action: &'static str,
        attempt: u32,
        mutates: bool,
        server_had_seen: usize,
        params: Value,
    },
    After {
        entry: EntryId,
        outcome: CallOutcome,
        request_id: Option<String>,
    },
}

struct Journal {
    stub: Arc<Stub>,
    refuse_mutating: bool,
    entries: Mutex<Vec<Entry>>,
}

impl CallJournal for Journal {
    fn before_send<'a>(
        &'a self,
        a: &'a Attempt<'a>,
    ) -> JournalFuture<'a, Result<EntryId, Refusal>> {
        Box::pin(async move {
            if self.refuse_mutating && a.mutates {
                return Err(Refusal {
                    code: "natpilot.LeaseNotHeld".into(),
                    reason: format!("not sending {}", a.action),
                });
            }
            let mut entries = self.entries.lock().unwrap();
            entries.push(Entry::Before {
                action: a.action,
                attempt: a.attempt,
                mutates: a.mutates,
                server_had_seen: self.stub.seen().len(),
                params: a.parameters.clone(),
            });
            Ok(entries.len() as EntryId)
        })
    }

    fn after_answer<'a>(&'a self, entry: EntryId, r: &'a CallRecord) -> JournalFuture<'a, ()> {
        Box::pin(async move {
            self.entries.lock().unwrap().push(Entry::After {
                entry,
                outcome: r.outcome.clone(),
                request_id: r.request_id.clone(),
            });
        })
    }
}

async fn journaled(
    script: impl Fn(&crate::tencent::stub::Seen, usize) -> Answer + Send + Sync + 'static,
    refuse_mutating: bool,
) -> (Arc<Stub>, Arc<Journal>, Client) {
    let stub = Arc::new(Stub::start(KEY, script).await);
    let journal = Arc::new(Journal {
        stub: stub.clone(),
        refuse_mutating,
        entries: Mutex::new(Vec::new()),
    });
    let c = client(&stub, None).with_journal(journal.clone());
    (stub, journal, c)
}

#[tokio::test]
async fn every_attempt_is_journaled_before_it_is_sent_and_completed_after() {
    let (stub, journal, c) = journaled(
        |_, i| match i {
            0 => Answer::Error("RequestLimitExceeded"),
            _ => vpcs(&["vpc-1"], 1),
        },
        false,
    )
    .await;
    c.call::<DescribeVpcs>("ap-guangzhou", &ListRequest::default())
        .await
        .unwrap();
    assert_eq!(stub.seen().len(), 2);
    let entries = journal.entries.lock().unwrap().clone();
    let shape: Vec<String> = entries
        .iter()
        .map(|e| match e {
            Entry::Before {
                attempt,
                server_had_seen,
                mutates,
                ..
            } => format!("before #{attempt} (server had {server_had_seen}, mutates {mutates})"),
            Entry::After {
                entry,
                outcome,
                request_id,
            } => format!("after {entry}: {outcome:?} {request_id:?}"),
        })
        .collect();
    assert_eq!(
        shape,
        vec![
            "before #1 (server had 0, mutates false)",
            r#"after 1: Error { code: "RequestLimitExceeded" } Some("stub-0")"#,
            "before #2 (server had 1, mutates false)",
            r#"after 3: Ok Some("stub-1")"#,
        ]
    );
}

#[tokio::test]
async fn journaled_parameters_are_redacted() {
    let (_stub, journal, c) = journaled(|_, _| Answer::Ok(json!({})), false).await;
    let req = SecretBearing {
        instance_id: "ins-1".into(),
        login_settings: json!({"Password": "hunter2"}),
    };
    c.call::<ResetPassword>("ap-guangzhou", &req).await.unwrap();
    let entries = journal.entries.lock().unwrap().clone();
    let Entry::Before { params, .. } = &entries[0] else {
        panic!("{entries:?}")
    };
    assert!(!params.to_string().contains("hunter2"), "{params}");
    assert_eq!(params["InstanceId"], "ins-1");
}

#[tokio::test]
async fn a_refused_mutating_call_is_never_sent_and_says_why() {
    let (stub, journal, c) = journaled(|_, _| vpcs(&["vpc-1"], 1), true).await;
    let req = CreateNatRequest {
        vpc_id: "vpc-1".into(),
        nat_gateway_name: "n".into(),
    };
    let err = c
        .call::<CreateNatGateway>("ap-guangzhou", &req)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TencentError::Refused { code, .. } if code == "natpilot.LeaseNotHeld"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "not sending CreateNatGateway");
    assert!(!err.is_retryable());
    assert!(
        stub.seen().is_empty(),
        "the refused call reached the server"
    );
    assert!(journal.entries.lock().unwrap().is_empty());
    // Reads are not fenced.
    c.call::<DescribeVpcs>("ap-guangzhou", &ListRequest::default())
        .await
        .unwrap();
    assert_eq!(stub.seen().len(), 1);
}
