package domain

import (
	"fmt"
	"time"
)

// Subject is whom an erasure or a subject access request is about: one user
// of an org, or, with UserID empty, every user of the org.
type Subject struct {
	OrgID  OrgID
	UserID UserID // empty: the whole org
}

// OrgWide reports whether the subject is every user of the org.
func (s Subject) OrgWide() bool { return s.UserID == "" }

// Tenant is the subject as a tenant; only meaningful when !OrgWide().
func (s Subject) Tenant() Tenant { return Tenant(s) }

// Covers reports whether t's data belongs to the subject.
func (s Subject) Covers(t Tenant) bool {
	return t.OrgID == s.OrgID && (s.OrgWide() || t.UserID == s.UserID)
}

// Validate refuses a malformed org or user.
func (s Subject) Validate() error {
	if !validTenantPart(string(s.OrgID)) {
		return Invalid("org_id", "must be 1-255 characters of letters, digits and ._:@|+-")
	}
	if s.UserID != "" && !validTenantPart(string(s.UserID)) {
		return Invalid("user_id", "must be 1-255 characters of letters, digits and ._:@|+-")
	}
	return nil
}

// Scopes of the privacy routes. A user erases and exports themself with
// their ordinary memory scopes; PrivacyAdmin lets an org's administrator
// erase any user of that org (or the whole org) and read its audit trail.
const (
	ScopePrivacyAdmin Scope = "privacy:admin"
)

// ErasureID is a UUIDv7 naming one erasure job.
type ErasureID string

// NewErasureID returns a fresh id.
func NewErasureID(now time.Time) ErasureID { return ErasureID(NewID(now)) }

// ErasureStatus is where a job stands. A job is pending until a worker
// takes it, running while steps remain (including while it waits to retry
// a failed step), and done only when every step succeeded.
type ErasureStatus string

// The statuses of an erasure job.
const (
	ErasurePending ErasureStatus = "pending"
	ErasureRunning ErasureStatus = "running"
	ErasureDone    ErasureStatus = "done"
)

// The steps of an erasure, in the order they run, each named after the
// store it empties; Counts is keyed by them.
const (
	StoreMemories    = "memories"
	StoreHistory     = "history"
	StoreAccessLog   = "access_log"
	StoreTextIndex   = "text_index"
	StoreVectorIndex = "vector_index"
	StoreFeedback    = "feedback"
	StoreQueryLog    = "query_log"
	StoreExperiments = "experiments"
	StoreApps        = "apps"
	StoreSessions    = "sessions"
	StoreIdempotency = "idempotency"
	StoreAPIKeys     = "api_keys"
	StoreOAuth       = "oauth"
	// StoreDataKeys is the subject's data key, destroyed after its rows
	// (crypto-shredding: every copy of its sealed values becomes unreadable).
	StoreDataKeys = "data_keys"
	// StoreEntities is the subject's entities, their aliases, links and
	// co-occurrence edges (issue 18).
	StoreEntities = "entities"
)

// StoreUISessions counts the dashboard sessions (ports.UISessionStore) the
// retention sweeper deleted because they had expired. It is no erasure
// step: an erasure deletes a subject's sessions in step StoreOAuth.
const StoreUISessions = "ui_sessions"

// StoreOAuthTokens counts the authorization codes and refresh tokens
// (ports.OAuthStore) the retention sweeper deleted because they had
// expired more than their grace ago (ports.RetentionStore
// PurgeExpiredOAuthTokens). It is no erasure step: an erasure deletes a
// subject's tokens with their grants in step StoreOAuth.
const StoreOAuthTokens = "oauth_tokens"

// ErasedActor replaces an erased user's id where a row that is not theirs
// names them as its author (a project key they issued for the org).
const ErasedActor UserID = "erased"

// Erasure is one asynchronous erasure job.
type Erasure struct {
	ID    ErasureID
	OrgID OrgID
	// UserID is the subject while the job is unfinished (the worker needs
	// it); it is blanked when the job is done, leaving SubjectHash.
	UserID UserID
	// OrgWide marks an erasure of every user of the org.
	OrgWide bool
	// SubjectHash is the keyed hash of the subject (see ports.SubjectHasher):
	// how a finished job and the audit trail name whom they were about.
	SubjectHash string
	// RequestedBy is the keyed hash of the actor who asked.
	RequestedBy string
	Status      ErasureStatus
	// Counts are the rows, entries or keys removed so far, per store.
	Counts     map[string]int64
	Attempts   int
	LastError  string // the last failed step's error, cleared when it succeeds
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt time.Time // zero until done
}

// Subject is the job's subject; after the job is done it has no UserID.
func (e Erasure) Subject() Subject {
	if e.OrgWide {
		return Subject{OrgID: e.OrgID}
	}
	return Subject{OrgID: e.OrgID, UserID: e.UserID}
}

// Add adds n to the count of store.
func (e *Erasure) Add(store string, n int64) {
	if e.Counts == nil {
		e.Counts = map[string]int64{}
	}
	e.Counts[store] += n
}

// ErasureInProgressError refuses a write by a subject whose erasure has
// started. It unwraps to ErrConflict.
type ErasureInProgressError struct{ ID ErasureID }

func (e *ErasureInProgressError) Error() string {
	return fmt.Sprintf("conflict: erasure %s of this user is in progress", e.ID)
}

func (e *ErasureInProgressError) Unwrap() error { return ErrConflict }
