package mover

import (
	"context"
	"sync"
	"testing"
	"time"

	"mailmover/imapsrc"
)

type timedSrc struct {
	Source
	mu sync.Mutex
	d  map[string]time.Duration
	n  map[string]int
}

func (s *timedSrc) rec(k string, t time.Time) {
	s.mu.Lock()
	s.d[k] += time.Since(t)
	s.n[k]++
	s.mu.Unlock()
}
func (s *timedSrc) Fetch(ctx context.Context, uid uint32, fn func(*imapsrc.Message) error) error {
	t := time.Now()
	defer s.rec("fetch", t)
	return s.Source.Fetch(ctx, uid, fn)
}
func (s *timedSrc) MarkSeen(ctx context.Context, uid uint32) error {
	t := time.Now()
	defer s.rec("markseen", t)
	return s.Source.MarkSeen(ctx, uid)
}
func (s *timedSrc) Search(ctx context.Context, c imapsrc.Criteria) (imapsrc.SearchResult, error) {
	t := time.Now()
	defer s.rec("search", t)
	return s.Source.Search(ctx, c)
}

func TestZZTiming(t *testing.T) {
	tg := dovecotTarget(t)
	h := newHarness(t)
	tg.append(t, h.makeMail(1000, 20_000, 2)...)
	o := h.useTarget(tg, "")
	ts := &timedSrc{d: map[string]time.Duration{}, n: map[string]int{}}
	cfg := o.Config
	o.Dial = func(ctx context.Context) (Source, error) {
		c, err := imapsrc.Dial(ctx, cfg)
		if err != nil {
			return nil, err
		}
		ts.Source = c
		return ts, nil
	}
	var stepMu sync.Mutex
	last := time.Now()
	steps := map[string]time.Duration{}
	m, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	m.hooks.step = func(step string, uid uint32) error {
		stepMu.Lock()
		steps[step] += time.Since(last)
		last = time.Now()
		stepMu.Unlock()
		return nil
	}
	start := time.Now()
	if err := m.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Logf("total %s", time.Since(start))
	for k, v := range ts.d {
		t.Logf("%s: %s over %d", k, v, ts.n[k])
	}
	for k, v := range steps {
		t.Logf("step up to %s: %s", k, v)
	}
}
