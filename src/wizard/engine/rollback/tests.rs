//! The rollback preview: order, skips and unreadable records.

use super::*;
use crate::store::RunId;

fn rebind(what: &str) -> Undo {
    Undo::ReassociateEip {
        instance_id: format!("ins-{what}"),
        address_id: Some(format!("eip-{what}")),
        ip: "1.2.3.4".into(),
    }
}

/// An undo record of `undo` in `state` (also the rollback approval's tests' records).
pub(in crate::wizard::engine) fn record(id: i64, state: UndoState, undo: Undo) -> UndoRecord {
    let entry = UndoEntry {
        key: format!("k{id}"),
        undo,
    };
    UndoRecord {
        id,
        run_id: RunId::new(),
        step: Step::Verify,
        action: to_json(&entry),
        state,
        note: None,
        created_at: chrono::Utc::now(),
        updated_at: chrono::Utc::now(),
    }
}

fn shown(records: &[UndoRecord]) -> Vec<(String, &'static str)> {
    preview(records)
        .into_iter()
        .map(|d| match d {
            Disposition::Undo {
                entry,
                maybe_not_made,
            } => (entry.key, if maybe_not_made { "maybe" } else { "undo" }),
            Disposition::Irreversible(entry) => (entry.key, "cannot"),
            Disposition::Unreadable { record, .. } => (format!("k{record}"), "unreadable"),
            Disposition::Skip => unreachable!("the preview leaves skips out"),
        })
        .collect()
}

#[test]
fn the_preview_takes_records_newest_first_and_skips_what_is_already_undone() {
    let cannot = |what: &str| Undo::CannotUndo { what: what.into() };
    let records = [
        record(1, UndoState::Done, rebind("a")),
        record(2, UndoState::Undone, rebind("b")),
        record(3, UndoState::Irreversible, cannot("c")),
        record(4, UndoState::NotNeeded, rebind("d")),
        record(5, UndoState::Pending, rebind("e")),
        record(6, UndoState::Done, cannot("f")),
        record(7, UndoState::Done, Undo::NothingToUndo { what: "g".into() }),
    ];
    assert_eq!(
        shown(&records),
        [
            ("k6".to_owned(), "cannot"),
            ("k5".to_owned(), "maybe"),
            ("k3".to_owned(), "cannot"),
            ("k1".to_owned(), "undo")
        ]
    );
}

#[test]
fn an_undo_record_that_does_not_decode_is_shown_as_unreadable_not_skipped() {
    let mut broken = record(2, UndoState::Done, rebind("b"));
    broken.action = serde_json::json!({"key": "k2", "undo": {"kind": "delete_everything"}});
    let records = [record(1, UndoState::Done, rebind("a")), broken];
    assert_eq!(
        shown(&records),
        [("k2".to_owned(), "unreadable"), ("k1".to_owned(), "undo")]
    );
}

#[test]
fn binding_back_an_eip_the_run_released_is_shown_as_irreversible_not_as_an_undo() {
    let release = |id: i64, state: UndoState, address: &str| {
        let mut r = record(
            id,
            state,
            Undo::CannotUndo {
                what: format!("{address} released"),
            },
        );
        r.action = to_json(&UndoEntry {
            key: format!("release:{address}"),
            undo: Undo::CannotUndo {
                what: format!("{address} released"),
            },
        });
        r
    };
    // a: released (its call succeeded); b: the release may not have reached the cloud, so the
    // rebind stays an undo that looks at the cloud first; c: nothing released.
    let records = [
        record(1, UndoState::Done, rebind("a")),
        record(2, UndoState::Done, rebind("b")),
        record(3, UndoState::Done, rebind("c")),
        release(4, UndoState::Irreversible, "eip-a"),
        release(5, UndoState::Pending, "eip-b"),
    ];
    let shown = shown(&records);
    assert_eq!(
        shown,
        [
            ("release:eip-b".to_owned(), "cannot"),
            ("release:eip-a".to_owned(), "cannot"),
            ("k3".to_owned(), "undo"),
            ("k2".to_owned(), "undo"),
            ("k1".to_owned(), "cannot"),
        ]
    );
    let Disposition::Irreversible(entry) =
        disposition(&records[0], &Released::from_records(&records))
    else {
        panic!("a released EIP's rebind is irreversible")
    };
    assert_eq!(
        cannot(&entry.undo),
        "EIP 1.2.3.4 (eip-a) of ins-a was released by this run; it cannot be bound back"
    );
}
