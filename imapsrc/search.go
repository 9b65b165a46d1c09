package imapsrc

import (
	"context"
	"sort"

	"github.com/emersion/go-imap/v2"

	"mailmover/i18n"
)

// maxSearchUIDs bounds what a (possibly hostile) server can make us allocate.
const maxSearchUIDs = 10_000_000

// Search runs UID SEARCH in the selected folder. Messages flagged \Deleted (waiting for
// an expunge) are never returned.
func (c *Client) Search(ctx context.Context, cr Criteria) (SearchResult, error) {
	crit := searchCriteria(cr)
	var data *imap.SearchData
	err := c.run(ctx, func() (err error) {
		data, err = c.ic.UIDSearch(crit, nil).Wait()
		return err
	})
	if err != nil {
		return SearchResult{}, classifyNet(ctx, c.cfg.addr(), "search", err)
	}
	uids, err := uidList(data.All, cr.MinUID)
	if err != nil {
		return SearchResult{}, &Error{Kind: KindServer, Host: c.cfg.addr(), Op: "search", Reason: err.Error()}
	}
	return SearchResult{UIDValidity: c.mailbox.UIDValidity, UIDs: uids}, nil
}

// searchCriteria maps our Criteria to IMAP search keys. FROM and SUBJECT are substring
// matches, case-insensitive, by RFC 3501 §6.4.4; SINCE compares the internal date.
func searchCriteria(cr Criteria) *imap.SearchCriteria {
	crit := &imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}
	if cr.UnseenOnly {
		crit.NotFlag = append(crit.NotFlag, imap.FlagSeen)
	}
	if !cr.Since.IsZero() {
		crit.Since = cr.Since
	}
	if cr.From != "" {
		crit.Header = append(crit.Header, imap.SearchCriteriaHeaderField{Key: "From", Value: cr.From})
	}
	if cr.Subject != "" {
		crit.Header = append(crit.Header, imap.SearchCriteriaHeaderField{Key: "Subject", Value: cr.Subject})
	}
	if cr.MinUID > 1 {
		crit.UID = []imap.UIDSet{{imap.UIDRange{Start: imap.UID(cr.MinUID), Stop: 0}}}
	}
	return crit
}

// uidList expands a static UID set into an ascending list of UIDs >= min. A dynamic set
// ("*") or an absurdly large one is a server error (go-imap would panic or allocate
// without bound).
func uidList(set imap.NumSet, min uint32) ([]uint32, error) {
	uset, ok := set.(imap.UIDSet)
	if !ok {
		return nil, nil
	}
	var total uint64
	for _, r := range uset {
		if r.Start == 0 || r.Stop == 0 {
			return nil, i18n.New("the server answered SEARCH with a dynamic set")
		}
		lo, hi := r.Start, r.Stop
		if lo > hi {
			lo, hi = hi, lo
		}
		total += uint64(hi-lo) + 1
		if total > maxSearchUIDs {
			return nil, i18n.Errorf("the server answered SEARCH with more than %d UIDs", maxSearchUIDs)
		}
	}
	out := make([]uint32, 0, total)
	seen := make(map[uint32]struct{}, total)
	for _, r := range uset {
		lo, hi := uint32(r.Start), uint32(r.Stop)
		if lo > hi {
			lo, hi = hi, lo
		}
		for u := lo; ; u++ {
			if u >= min {
				if _, dup := seen[u]; !dup {
					seen[u] = struct{}{}
					out = append(out, u)
				}
			}
			if u == hi {
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}
