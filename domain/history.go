package domain

import "time"

// ChangeKind classifies an entry of a memory's history.
type ChangeKind string

// History entry kinds, in the order a memory's life usually takes them.
const (
	ChangeAdd    ChangeKind = "add"
	ChangeUpdate ChangeKind = "update"
	ChangeState  ChangeKind = "state"
	ChangeDelete ChangeKind = "delete"
	ChangeErase  ChangeKind = "erase"
)

// MemoryValues is the mutable content of a memory at one point in time.
type MemoryValues struct {
	Text       string
	Metadata   Metadata
	Categories []string
	State      State
}

// Values returns m's mutable content.
func (m Memory) Values() MemoryValues {
	return MemoryValues{Text: m.Text, Metadata: m.Metadata, Categories: m.Categories, State: m.State}
}

// MemoryChange is one history entry. Old is nil for an add; after an erase
// every entry of the memory has nil Old and New (the content is gone) and the
// kinds and times remain as the audit trail.
type MemoryChange struct {
	Seq       int64 // strictly increasing per store; orders a memory's history
	MemoryID  MemoryID
	Kind      ChangeKind
	Old       *MemoryValues
	New       *MemoryValues
	ActorApp  AppID
	ChangedAt time.Time
}
