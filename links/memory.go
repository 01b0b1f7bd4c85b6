package links

import (
	"context"
	"sync"
	"time"
)

// Memory is a Backend held in process, with the same compare-and-set and
// expiry as the DynamoDB one: make dev and the unit tests use it. It is safe
// for concurrent use; it is not shared between processes.
type Memory struct {
	now      func() time.Time
	mu       sync.Mutex
	records  map[string]memRecord
	counters map[string]memCounter
}

type memRecord struct {
	rec     Record
	ver     Version
	expires time.Time
}

type memCounter struct {
	n       int64
	expires time.Time
}

var _ Backend = (*Memory)(nil)

// NewMemory returns an empty Memory whose entries expire by now (time.Now if nil).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, records: map[string]memRecord{}, counters: map[string]memCounter{}}
}

// Load returns the user's record; an expired one is gone, as DynamoDB's TTL
// would eventually make it.
func (m *Memory) Load(ctx context.Context, user string) (Record, Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[user]
	if !ok || !m.now().Before(r.expires) {
		delete(m.records, user)
		return Record{}, 0, nil
	}
	return r.rec, r.ver, nil
}

// Save writes rec if the stored version is prev.
func (m *Memory) Save(ctx context.Context, user string, rec Record, prev Version, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.records[user]
	if ok && !m.now().Before(cur.expires) {
		delete(m.records, user)
		ok = false
	}
	if (ok && cur.ver != prev) || (!ok && prev != 0) {
		return ErrConflict
	}
	m.records[user] = memRecord{rec: rec, ver: prev + 1, expires: expires}
	return nil
}

// Incr adds one to key.
func (m *Memory) Incr(ctx context.Context, key string, expires time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for k, c := range m.counters { // keep the map small: a dev server runs for days
		if !now.Before(c.expires) {
			delete(m.counters, k)
		}
	}
	c := m.counters[key]
	if c.n == 0 {
		c.expires = expires
	}
	c.n++
	m.counters[key] = c
	return c.n, nil
}
