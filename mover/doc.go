// Package mover is MailMover's engine: watch → search → filters → parts → safe names →
// durable write → post-action → checkpoint, reporting each step as a typed Event.
//
// # The exactly-once protocol
//
// The state of a profile (journal.StateFile: a snapshot state/P.json plus an append-only
// journal state/P.journal whose records count only once their newline is on disk,
// locked with state/P.lock) records per folder and UIDVALIDITY a
// mark below which every UID is done or was not wanted, the done UIDs above it, and per
// message, keyed by its content identity (SHA-256 of the raw message), what was written.
// One message goes through these steps:
//
//  1. Fetch (BODY.PEEK[], never sets \Seen). While the raw message streams in it is
//     hashed, parsed (imapsrc.WalkParts), and every part to save is written to a
//     temporary file ".mailmover-tmp-<profile hash>-<random>" in the destination's top
//     folder. The .eml, if wanted, is the same stream (io.TeeReader). Nothing has a
//     final name yet; a crash here leaves only temporary files, which the next start
//     deletes (the message is not done, so it is fetched again).
//  2. Identity check. A message whose identity is already done (same content under a new
//     UIDVALIDITY, or found again by search = "all") is not saved again: its temporary
//     files are deleted, the post-action is applied — under the rule of step 5 for the
//     earlier record — and the UID recorded done.
//  3. Commit. The temporary files are fsynced; final names are chosen (template, safe
//     names, on_conflict against the destination, the other parts of the message and
//     the other messages of the batch) and a commit record — identity, UID, temporary
//     and final names, each file's SHA-256 — is appended to the journal and fsynced.
//     From here on the message's files are never written again: after a crash they are
//     finished from the record.
//  4. Place. Each temporary file gets its final name: a hard link (never replaces;
//     "rename" and "skip") or a rename ("overwrite"), then the temporary name is removed
//     and the folders are fsynced. Every case is recognised after a crash: temporary
//     file and final name are the same file (linked, not yet unlinked); the temporary
//     file is gone and the final name exists (done); the temporary file exists (not yet
//     done: do it now). On Windows (NTFS, SMB shares, FAT) the hard link is replaced by a
//     rename that never replaces, relative to the folder's handle (place_windows.go):
//     atomic, so only the last two cases arise; the file system decides, case-
//     insensitively where it is, whether a name is taken.
//  5. Post-action (\Seen, MOVE, or \Deleted + UID EXPUNGE), only after step 4, and MOVE
//     or delete only when the message's content is safe (journal.MessageRecord.ContentSafe:
//     at least one file, and every file written or skipped because the same content —
//     by SHA-256 — is already there; leaveInMailbox). All are idempotent, so applying one
//     again after a crash is harmless; a message already gone counts as done. On
//     recovery a final name counts as placed only when it holds the file's content.
//  6. Done. A done record (UID done, final names) is appended. It need not be fsynced at
//     once: if a crash loses it, the message is still committed, and the next start
//     applies the post-action again (step 5) and writes it.
//
// Messages are committed in batches (up to 128 messages, 64 MB or one second, and always
// at the end of a search's list): the batch's temporary files are fsynced in parallel,
// its commit records share one journal fsync and its renames one fsync per folder. When
// the source can (BatchFetcher; imapsrc.Client can), the messages of a batch are also
// fetched together (step 1 for all of them, then steps 2–6): one command for their
// envelopes (the filters that need them are checked there, and a message they refuse is
// not fetched), then one command streaming their bodies, each saved to temporary files
// as it arrives — no other command is sent until it has ended. Otherwise messages are
// fetched one after another. Either way no step's order changes for any message; a batch
// only shares the round trips and the syncs (temporary files may be written and fsynced
// in the background — a file is fsynced there after its last write, through its own
// descriptor; the commit waits for that, fsyncs itself every file whose background
// fsync did not happen, and fails the message of a file whose fsync failed, as a write
// error does — all before their commit record). When the connection breaks or a stop is asked for, the messages
// already fetched and checked are still committed and put into place; the others'
// temporary files are deleted and they are fetched again later; post-actions not applied
// follow on the next connection.
//
// On start, before connecting, every committed message's files are put into place (step
// 4), and this profile's temporary files that no commit refers to are deleted. After
// connecting, committed messages of the selected folder get their post-action (even when
// the search no longer finds them) and are recorded done. So a kill -9 at any moment
// leaves, after a restart, every file exactly once and no temporary file under a final
// name; no mail is marked, moved or deleted before its files are durable.
//
// A message that fails (broken MIME, disk full, permission, a refused command) is logged
// with the reason, its temporary files are deleted and it stays unmarked; the pass goes
// on and the message is tried again on the next pass. A message that keeps failing is
// recorded in the state (journal.FailedMessage) and waits journal.RetryWait before each
// further try; after journal.MaxFailures it is set aside (logged; it no longer holds the
// mark back) until journal.RetryFailedMessages ('mailmover forget -failed'). Failures of
// the destination as a whole (disk full, permission) count against no message. A lost connection is retried with
// capped exponential backoff and jitter (cenkalti/backoff/v5), each attempt sent as a
// KindRetry event. A refresh token the provider no longer accepts (*auth.ReauthError), a
// refused password or a setting the server refuses pauses the mover (KindPaused, with
// advice); Run tries again every Options.PauseRetry.
//
// New mail that arrives during a pass is not missed: after each pass the mover searches
// again until nothing new turns up, then waits (IDLE or polling). The mark is raised to
// the highest UID seen in a cycle except below a failed message, so messages marked
// unread again (below the mark) are not moved twice; `mailmover forget` deletes the
// state to process mail again.
//
// Files are written through an os.Root on the destination folder, so that no name — and
// no symbolic link planted in the destination — can lead outside it; names from mail are
// made safe first (SafeName, the file-name template).
package mover
