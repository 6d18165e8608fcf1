package domain

import "time"

// AuditID is a UUIDv7 naming one audit event; ids sort by time.
type AuditID string

// NewAuditID returns a fresh id.
func NewAuditID(now time.Time) AuditID { return AuditID(NewID(now)) }

// The actions the audit trail records.
const (
	AuditErasureRequested = "erasure.requested"
	AuditErasureFailed    = "erasure.attempt_failed"
	AuditErasureDone      = "erasure.done"
	AuditExport           = "subject.export"
	// AuditRetentionSwept records what one sweep erased in an org (expired
	// memories, rows past retention): counts only, no subject.
	AuditRetentionSwept = "retention.swept"
)

// AuditEvent records that a subject's data was exported or erased. It holds
// no personal data: actor and subject are keyed hashes (see
// app.PrivacyService.Hash), counts are numbers, outcome is a fixed word or
// an error kind. It is append-only and outlives the erasure it records.
type AuditEvent struct {
	ID          AuditID
	OrgID       OrgID
	At          time.Time
	Action      string
	ActorHash   string
	SubjectHash string
	OrgWide     bool
	ErasureID   ErasureID // empty for exports
	Counts      map[string]int64
	Outcome     string
}
