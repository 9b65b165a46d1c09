package mover

import "mailmover/imapsrc"

// The real IMAP source applies post-actions to UID sets in one command, so the mover's
// batch path (postActionBatch) is the one used in production, not only with the fake.
var _ BatchSource = (*imapsrc.Client)(nil)
