//! Whether a cluster's slots stayed put while a bulk operation scanned it.
//!
//! A scan visits the primaries one after another; a key that moves from a
//! primary not yet scanned to one already scanned would be missed without a
//! word. So bulk operations take a fingerprint of the slot layout before and
//! after: ownership, config epochs and any slot being migrated. If it
//! changed, or a migration was under way, they report it instead of
//! returning a silently partial answer.

use std::hash::{DefaultHasher, Hash, Hasher};

use fred::{
    clients::Client,
    interfaces::{ClientLike, ClusterInterface},
};
use session_core::Error;

use crate::call::Call;

/// The slot layout at one moment; `Unsharded` for a standalone server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotLayout {
    Unsharded,
    Slots(u64),
}

impl SlotLayout {
    /// Reads the layout from the cluster (`CLUSTER NODES`).
    ///
    /// # Errors
    /// [`Error::Unavailable`] while slots are being migrated.
    pub(crate) async fn read(client: &Client, call: &Call<'_>) -> Result<Self, Error> {
        if !client.is_clustered() {
            return Ok(Self::Unsharded);
        }
        let nodes: String = call.read(client.cluster_nodes()).await?;
        fingerprint(&nodes).map(Self::Slots).ok_or_else(moving)
    }

    /// Checks that `self` (read before a scan) still holds now.
    ///
    /// # Errors
    /// [`Error::Unavailable`] when the slots moved during the scan.
    pub(crate) async fn still_holds(self, client: &Client, call: &Call<'_>) -> Result<(), Error> {
        if Self::read(client, call).await? == self {
            Ok(())
        } else {
            Err(moving())
        }
    }
}

fn moving() -> Error {
    Error::Unavailable(
        "the cluster's slots moved during the scan, so sessions may have been missed; try again".into(),
    )
}

/// A hash of every node's id, address, role, primary, config epoch and
/// slots, in a stable order; `None` if a slot is being migrated. The ping
/// and link fields change all the time and are left out.
fn fingerprint(nodes: &str) -> Option<u64> {
    let mut lines: Vec<Vec<&str>> = nodes
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|fields| fields.len() >= 8)
        .collect();
    lines.sort();
    let mut hasher = DefaultHasher::new();
    for fields in &lines {
        let flags = fields[2].split(',').filter(|flag| *flag != "myself");
        let slots = &fields[8..];
        if slots.iter().any(|slot| slot.starts_with('[')) {
            return None;
        }
        (
            fields[0],
            fields[1],
            flags.collect::<Vec<_>>(),
            fields[3],
            fields[6],
            slots,
        )
            .hash(&mut hasher);
    }
    Some(hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NODES: &str = "\
a1 127.0.0.1:7101@17101 myself,master - 0 0 1 connected 0-5460
b2 127.0.0.1:7102@17102 master - 0 1700000000000 2 connected 5461-10922
c3 127.0.0.1:7103@17103 master - 0 1700000000001 3 connected 10923-16383
";

    #[test]
    fn pings_do_not_change_the_fingerprint_but_slots_and_epochs_do() {
        let base = fingerprint(NODES);
        assert!(base.is_some());
        let pinged = NODES.replace("1700000000000", "1800000000000");
        assert_eq!(fingerprint(&pinged), base);
        let viewed_from_b = NODES.replace("myself,master - 0 0 1", "master - 0 5 1").replace(
            "b2 127.0.0.1:7102@17102 master",
            "b2 127.0.0.1:7102@17102 myself,master",
        );
        assert_eq!(
            fingerprint(&viewed_from_b),
            base,
            "the same layout seen from another node"
        );
        let moved = NODES
            .replace("0-5460", "0-5459")
            .replace("5461-10922", "5460-10922");
        assert_ne!(fingerprint(&moved), base);
        let bumped = NODES.replace(" 2 connected", " 4 connected");
        assert_ne!(fingerprint(&bumped), base);
    }

    #[test]
    fn a_slot_in_migration_has_no_fingerprint() {
        let migrating = NODES.replace("0-5460", "0-5460 [5460->-b2]");
        assert_eq!(fingerprint(&migrating), None);
    }
}
