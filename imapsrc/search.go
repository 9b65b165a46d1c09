package imapsrc

import (
	"context"
	"slices"

	"github.com/emersion/go-imap/v2"

	"mailmover/i18n"
)

// maxSearchUIDs bounds what a (possibly hostile) server can make us allocate: the list
// of UIDs Search returns (4 bytes each). A SEARCH answer that lists UIDs one by one is
// bounded before (maxSearchData); a range ("1:4000000000") is not.
const maxSearchUIDs = 2_000_000

// Search runs UID SEARCH in the selected folder. Messages flagged \Deleted (waiting for
// an expunge) are never returned.
func (c *Client) Search(ctx context.Context, cr Criteria) (SearchResult, error) {
	crit := searchCriteria(cr)
	var data *imap.SearchData
	c.wire.setBudget(maxSearchData, i18n.Sprintf("the server sent more than %d MiB in answer to SEARCH", maxSearchData>>20))
	err := c.run(ctx, func() (err error) {
		data, err = c.ic.UIDSearch(crit, nil).Wait()
		return err
	})
	c.wire.clearBudget()
	if err != nil {
		return SearchResult{}, classifyNet(ctx, c.cfg.addr(), "search", err)
	}
	uids, err := uidList(data.All, cr.MinUID)
	if err != nil {
		return SearchResult{}, &Error{Kind: KindServer, Host: c.cfg.addr(), Op: "search", Reason: err.Error(),
			Advice: i18n.T("Narrow the search ([common] since, from, subject, or search = \"unseen\"), or move old mail out of the folder.")}
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
	for _, r := range uset {
		lo, hi := uint32(r.Start), uint32(r.Stop)
		if lo > hi {
			lo, hi = hi, lo
		}
		lo = max(lo, min)
		if lo > hi {
			continue
		}
		for u := lo; ; u++ {
			out = append(out, u)
			if u == hi {
				break
			}
		}
	}
	// Sorted and without duplicates, in place (a map of millions of UIDs would cost
	// ten times the list).
	slices.Sort(out)
	return slices.Compact(out), nil
}
