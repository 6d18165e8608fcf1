package ports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/engram-memory/engram/domain"
)

// SessionKeys lends session stores the users' data keys, which the system
// of record holds (docs/privacy.md, "Encryption at rest"), so that session
// events in Valkey or in process are sealed with the same per-user key as
// memory text and die with it on erasure.
//
// SealingKey returns the key new values of t are sealed with, creating and
// storing it when t has none; nil when encryption is off. OpeningKey
// returns t's key, nil when t has none (never had one, or was erased); an
// error when the store holds sealed values but no key-encryption key is
// configured. Both are cached by the store: one unwrap per user, not per
// event. Backend failures wrap domain.ErrUnavailable.
type SessionKeys interface {
	SealingKey(ctx context.Context, t domain.Tenant) (*DataKey, error)
	OpeningKey(ctx context.Context, t domain.Tenant) (*DataKey, error)
}

// SessionSealer is the one sealing path of every SessionStore adapter:
// Append seals an event (after validating the plaintext) before it is
// stored, every read opens it. The zero value (no Keys) stores plaintext.
//
// A sealed event keeps its id, role and time in the clear (the store
// orders and caps by them) and puts its text and metadata, the words a user
// wrote, together in Text as one sealed value (SealedPrefix…), with empty
// Metadata. It is bound to its tenant, session and event id: moved
// elsewhere it does not open. Byte quotas count the stored size.
type SessionSealer struct {
	Keys SessionKeys
}

// sealedEvent is what a sealed event's Text holds once opened.
type sealedEvent struct {
	Text     string          `json:"text"`
	Metadata domain.Metadata `json:"md,omitempty"`
}

// sessionRow names a sealed event in the associated data.
func sessionRow(sid domain.SessionID, id string) string { return "session/" + string(sid) + "/" + id }

// Seal returns e (already normalized) as it is to be stored: sealed with
// t's data key when encryption is on, else as is. Plaintext that begins
// with SealedPrefix is refused (domain.ErrInvalid): it would read back as
// a sealed value.
func (s SessionSealer) Seal(ctx context.Context, t domain.Tenant, sid domain.SessionID, e domain.SessionEvent) (domain.SessionEvent, error) {
	var dk *DataKey
	if s.Keys != nil {
		var err error
		if dk, err = s.Keys.SealingKey(ctx, t); err != nil {
			return domain.SessionEvent{}, fmt.Errorf("data key: %w", err)
		}
	}
	if dk == nil {
		if Sealed(e.Text) {
			return domain.SessionEvent{}, domain.Invalid("text", "must not begin with the reserved prefix of sealed values")
		}
		return e, nil
	}
	raw, err := json.Marshal(sealedEvent{Text: e.Text, Metadata: e.Metadata})
	if err != nil {
		return domain.SessionEvent{}, domain.Invalid("metadata", "%v", err)
	}
	e.Text = dk.Seal(sessionRow(sid, e.ID), "event", string(raw))
	e.Metadata = domain.Metadata{}
	return e, nil
}

// Opener returns what opens t's stored events of session sid. It looks the
// key up once, at the first sealed event, so a read of plaintext events
// costs nothing and a read of many sealed ones one lookup.
func (s SessionSealer) Opener(ctx context.Context, t domain.Tenant, sid domain.SessionID) *EventOpener {
	return &EventOpener{ctx: ctx, keys: s.Keys, t: t, sid: sid}
}

// EventOpener opens the stored events of one session (SessionSealer.Opener).
// It is not safe for concurrent use.
type EventOpener struct {
	ctx    context.Context
	keys   SessionKeys
	t      domain.Tenant
	sid    domain.SessionID
	dk     *DataKey
	looked bool
}

// Open returns the stored event e as written: sealed text and metadata
// opened, plaintext as is. A sealed event whose user has no data key any
// more wraps ErrKeyDestroyed (domain.ErrNotFound).
func (o *EventOpener) Open(e domain.SessionEvent) (domain.SessionEvent, error) {
	if !Sealed(e.Text) {
		return e, nil
	}
	if !o.looked {
		if o.keys == nil {
			return domain.SessionEvent{}, errors.New("a session event is encrypted and this store was given no data keys")
		}
		dk, err := o.keys.OpeningKey(o.ctx, o.t)
		if err != nil {
			return domain.SessionEvent{}, fmt.Errorf("data key: %w", err)
		}
		o.dk, o.looked = dk, true
	}
	if o.dk == nil {
		return domain.SessionEvent{}, fmt.Errorf("session event %s: %w", e.ID, ErrKeyDestroyed)
	}
	raw, err := o.dk.Open(sessionRow(o.sid, e.ID), "event", e.Text)
	if err != nil {
		return domain.SessionEvent{}, err
	}
	var se sealedEvent
	if err := json.Unmarshal([]byte(raw), &se); err != nil {
		return domain.SessionEvent{}, fmt.Errorf("session event %s: sealed value: %w", e.ID, err)
	}
	e.Text, e.Metadata = se.Text, se.Metadata
	if e.Metadata == nil {
		e.Metadata = domain.Metadata{}
	}
	return e, nil
}

// OpenAll opens es in place.
func (o *EventOpener) OpenAll(es []domain.SessionEvent) error {
	for i := range es {
		var err error
		if es[i], err = o.Open(es[i]); err != nil {
			return err
		}
	}
	return nil
}
