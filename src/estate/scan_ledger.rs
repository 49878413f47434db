//! The estate scan's call ledger writer: one task per scan of the estate that writes every
//! region's ledger rows, many per transaction (group commit), so that 15 regions' page chains
//! do not queue one by one for the store's single writer connection (README, estate-scan
//! benchmark: each page waited on two writes of its own).
//!
//! Durability is as before for what matters: a call's `sent` row is committed before the call
//! leaves (its caller waits for the commit of the batch it is in, and is refused — fail closed
//! — when the batch cannot be committed or the writer is gone). A call's answer is handed to
//! the task and not waited for: a crash may lose it, and the row then stays `sent` (outcome
//! unknown), never missing.

use tokio::sync::{mpsc, oneshot};

use crate::store::{self, Store};

/// The most rows one transaction writes.
const BATCH: usize = 256;
/// How many writes may wait for the task before a caller waits to hand one over.
const QUEUE: usize = 4096;

/// One attempt of a scan's call, owned so it can travel to the ledger task.
pub struct SentRow {
    pub scan: i64,
    pub service: &'static str,
    pub action: &'static str,
    pub region: String,
    pub attempt: u32,
    pub params: String,
}

/// A call's answer.
pub struct AnsweredRow {
    pub entry: i64,
    pub error_code: Option<String>,
    pub request_id: Option<String>,
    pub duration_ms: i64,
}

enum Op {
    Sent(SentRow, oneshot::Sender<Result<i64, String>>),
    Answered(AnsweredRow),
}

/// The handle the scan's journals write through. Cheap to clone.
#[derive(Clone)]
pub struct ScanLedger {
    ops: mpsc::Sender<Op>,
}

/// The task: `finish` it once every call is answered, so that all answers are written.
pub struct LedgerTask(tokio::task::JoinHandle<()>);

impl LedgerTask {
    /// Waits until every write handed over has been committed (all handles must be dropped).
    pub async fn finish(self) {
        if let Err(e) = self.0.await {
            tracing::error!(error = %e, "the scan's ledger writer stopped");
        }
    }
}

impl ScanLedger {
    pub fn start(store: &Store) -> (ScanLedger, LedgerTask) {
        let (ops, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(write_all(store.clone(), rx));
        (ScanLedger { ops }, LedgerTask(task))
    }

    /// Writes the `sent` row and returns its id once it is committed.
    pub async fn sent(&self, row: SentRow) -> Result<i64, String> {
        let (reply, committed) = oneshot::channel();
        self.ops
            .send(Op::Sent(row, reply))
            .await
            .map_err(|_| "the ledger writer has stopped".to_owned())?;
        committed
            .await
            .map_err(|_| "the ledger writer has stopped".to_owned())?
    }

    /// Hands the answer over; written with the next batch.
    pub async fn answered(&self, row: AnsweredRow) {
        if self.ops.send(Op::Answered(row)).await.is_err() {
            tracing::warn!("the scan's ledger writer has stopped: an answer is not recorded");
        }
    }
}

async fn write_all(store: Store, mut rx: mpsc::Receiver<Op>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let mut replies = Vec::new();
        let written = write_batch(&store, &mut batch, &mut replies).await;
        match written {
            Ok(ids) => {
                for (reply, id) in replies.into_iter().zip(ids) {
                    let _ = reply.send(Ok(id));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot write the scan's call ledger");
                for reply in replies {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

/// One transaction for the whole batch: the ids of its `sent` rows, in order, once committed.
/// The first failure fails the whole batch (every `sent` row's caller is refused with it).
async fn write_batch(
    store: &Store,
    batch: &mut Vec<Op>,
    replies: &mut Vec<oneshot::Sender<Result<i64, String>>>,
) -> sqlx::Result<Vec<i64>> {
    let mut ids = Vec::new();
    let (mut tx, mut failed) = match store.begin_write().await {
        Ok(tx) => (Some(tx), None),
        Err(e) => (None, Some(e)),
    };
    for op in batch.drain(..) {
        let (row, answer) = match op {
            Op::Sent(row, reply) => {
                replies.push(reply);
                (Some(row), None)
            }
            Op::Answered(a) => (None, Some(a)),
        };
        let Some(tx) = tx.as_mut().filter(|_| failed.is_none()) else {
            continue;
        };
        let done = match (row, answer) {
            (Some(row), _) => {
                let c = store::estate::CallRow {
                    scan: row.scan,
                    service: row.service,
                    action: row.action,
                    region: &row.region,
                    attempt: row.attempt,
                    params: &row.params,
                };
                store::estate::call_sent(&mut **tx, &c)
                    .await
                    .map(|id| ids.push(id))
            }
            (None, Some(a)) => {
                store::estate::call_answered(
                    &mut **tx,
                    a.entry,
                    a.error_code.as_deref(),
                    a.request_id.as_deref(),
                    a.duration_ms,
                )
                .await
            }
            (None, None) => Ok(()),
        };
        if let Err(e) = done {
            failed = Some(e);
        }
    }
    match (failed, tx) {
        (Some(e), _) => Err(e),
        (None, Some(tx)) => tx.commit().await.map(|()| ids),
        (None, None) => Ok(ids),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, Store, i64) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::test_store::open(dir.path()).await.unwrap();
        let scan = store::estate::begin_scan(store.writer(), "prod", "test")
            .await
            .unwrap();
        (dir, store, scan)
    }

    fn row(scan: i64, n: u32) -> SentRow {
        SentRow {
            scan,
            service: "cvm",
            action: "DescribeInstances",
            region: "ap-guangzhou".into(),
            attempt: n,
            params: "{}".into(),
        }
    }

    async fn states(store: &Store) -> Vec<(i64, String)> {
        crate::store::sql::query_as("SELECT id, state FROM estate_calls ORDER BY id")
            .fetch_all(store.readers())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_sent_row_is_committed_before_its_id_returns_and_answers_by_the_finish() {
        let (_dir, store, scan) = store().await;
        let (ledger, task) = ScanLedger::start(&store);
        let (a, b) = tokio::join!(ledger.sent(row(scan, 1)), ledger.sent(row(scan, 2)));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_ne!(a, b);
        // Readable on another connection as soon as the ids are back: committed.
        assert_eq!(
            states(&store).await,
            vec![(a, "sent".to_owned()), (b, "sent".to_owned())]
        );
        for (entry, code) in [(a, None), (b, Some("InternalError".to_owned()))] {
            let answer = AnsweredRow {
                entry,
                error_code: code,
                request_id: Some("req-1".into()),
                duration_ms: 3,
            };
            ledger.answered(answer).await;
        }
        drop(ledger);
        task.finish().await;
        assert_eq!(
            states(&store).await,
            vec![(a, "ok".to_owned()), (b, "error".to_owned())]
        );
    }

    #[tokio::test]
    async fn a_sent_row_that_cannot_be_written_is_an_error_for_its_caller() {
        let (_dir, store, scan) = store().await;
        crate::store::test_store::refuse_inserts(&store, "estate_calls", "test: ledger full")
            .await
            .unwrap();
        let (ledger, task) = ScanLedger::start(&store);
        let (a, b) = tokio::join!(ledger.sent(row(scan, 1)), ledger.sent(row(scan, 2)));
        assert!(a.unwrap_err().contains("ledger full"));
        assert!(
            b.unwrap_err().contains("ledger full"),
            "every row of the failed batch is refused with the cause"
        );
        drop(ledger);
        task.finish().await;
        assert!(states(&store).await.is_empty());
    }
}
