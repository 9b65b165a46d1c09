//go:build unix

package mover

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"mailmover/mover/journal"
	"mailmover/store"
)

// The hashes the journal keeps are the right ones when they are computed away from the
// decoder (a batch fetch's body hashes itself on the goroutine that reads the wire; a
// file written in the background is hashed by the writer): a message's identity is the
// SHA-256 of its raw bytes as the server has them, and each file's SHA-256 is that of the
// file in the destination — with and without the .eml, over the real IMAP client.
func TestJournalHashesOverTheBatchFetch(t *testing.T) {
	for _, save := range [][]string{{store.SaveAttachments}, {store.SaveAttachments, store.SaveMessage}} {
		t.Run(save[len(save)-1], func(t *testing.T) {
			tg := memTarget(t)
			h := newHarness(t)
			h.prof.Common.Save = save
			raws := h.makeMail(12, 400_000, 11) // bodies of several read-ahead chunks
			tg.append(t, raws...)
			if err := runOnceOpts(t, h.useTarget(tg, "")); err != nil {
				t.Fatal(err)
			}
			ids := map[string]bool{}
			for _, raw := range raws {
				s := sha256.Sum256(raw)
				ids[hex.EncodeToString(s[:])] = true
			}
			st, err := journal.Load(h.home, h.prof.Name)
			if err != nil {
				t.Fatal(err)
			}
			if len(st.Messages) != len(raws) {
				t.Fatalf("%d messages in the journal, want %d", len(st.Messages), len(raws))
			}
			emls := 0
			for id, rec := range st.Messages {
				if !ids[id] || rec.Identity != id {
					t.Errorf("UID %d: identity %s is not the SHA-256 of any raw message", rec.UID, id)
				}
				if len(rec.Files) == 0 {
					t.Errorf("UID %d: no files", rec.UID)
				}
				for _, f := range rec.Files {
					b, err := os.ReadFile(filepath.Join(h.dest, filepath.FromSlash(f.Path)))
					if err != nil {
						t.Fatal(err)
					}
					s := sha256.Sum256(b)
					if got := hex.EncodeToString(s[:]); f.SHA256 != got || f.Bytes != int64(len(b)) {
						t.Errorf("UID %d, %s: journal says %s (%d bytes), the file is %s (%d bytes)", rec.UID, f.Path, f.SHA256, f.Bytes, got, len(b))
					}
					if filepath.Ext(f.Path) == ".eml" {
						emls++
						if f.SHA256 != id {
							t.Errorf("UID %d: the .eml's hash %s is not the message's identity %s", rec.UID, f.SHA256, id)
						}
					}
				}
			}
			if want := len(raws) * (len(save) - 1); emls != want {
				t.Errorf("%d .eml files, want %d", emls, want)
			}
		})
	}
}
