package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// SARFormat and SARVersion name the subject access export document
// (docs/privacy.md, "Subject access"). A change that could break a reader
// bumps the version.
const (
	SARFormat  = "engram-subject-access"
	SARVersion = 1
)

// ExportDeps are the stores a subject access export reads. Sessions is
// optional (nil: the document says sessions were not reachable).
type ExportDeps struct {
	Memories ports.MemoryStore
	Apps     ports.AppStore
	Access   ports.AccessLog
	Feedback ports.FeedbackStore
	Queries  ports.QueryLog
	Sessions interface {
		ports.SessionStore
		ports.SessionLister
	}
	// Entities, when set, adds the "entities" section: every entity with
	// its aliases and the memories that name it.
	Entities ports.EntityStore
}

// ExportMe streams everything held about the caller (scope memories:read)
// as a SAR document to w and records the export in the audit trail.
func (s *PrivacyService) ExportMe(ctx context.Context, p domain.Principal, w io.Writer) error {
	if err := p.Require(domain.ScopeMemoriesRead); err != nil {
		return err
	}
	return s.export(ctx, p.Tenant(), s.Hash(p.OrgID, p.UserID), w)
}

// ExportAsOperator streams the SAR document of any tenant (engram export
// --subject); actor names the operator in the audit trail.
func (s *PrivacyService) ExportAsOperator(ctx context.Context, t domain.Tenant, actor string, w io.Writer) error {
	if err := t.Validate(); err != nil {
		return err
	}
	return s.export(ctx, t, s.Hash("operator", domain.UserID(actor)), w)
}

func (s *PrivacyService) export(ctx context.Context, t domain.Tenant, actor string, w io.Writer) error {
	d := s.d.Export
	if d.Memories == nil || d.Apps == nil || d.Access == nil || d.Feedback == nil || d.Queries == nil {
		return errors.New("app: export: PrivacyDeps.Export is not wired")
	}
	stats, err := d.Memories.Stats(ctx, t)
	if err != nil {
		return fmt.Errorf("app: export: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	x := &sarWriter{w: bw, counts: map[string]int64{}}
	now := s.d.Clock.Now().UTC()
	x.raw(`{"format":`)
	x.value(SARFormat)
	x.raw(`,"version":`)
	x.value(SARVersion)
	x.raw(`,"generated_at":`)
	x.value(now)
	x.raw(`,"subject":`)
	x.value(map[string]string{"org_id": string(t.OrgID), "user_id": string(t.UserID)})
	x.raw(`,"summary":`)
	x.value(sarSummary(stats))
	for _, sec := range []struct {
		name string
		fn   func(context.Context, domain.Tenant, ExportDeps, *sarWriter) error
	}{
		{"memories", exportMemories}, {"apps", exportApps}, {"access_log", exportAccess},
		{"feedback", exportFeedback}, {"query_log", exportQueries}, {"sessions", exportSessions},
		{"entities", exportEntities},
	} {
		if sec.name == "entities" && d.Entities == nil {
			continue
		}
		x.raw(`,"` + sec.name + `":[`)
		x.first = true
		if err := sec.fn(ctx, t, d, x); err != nil {
			// The document is cut short on purpose: a reader sees invalid
			// JSON rather than a complete-looking partial export.
			_ = bw.Flush()
			return fmt.Errorf("app: export %s: %w", sec.name, err)
		}
		x.raw(`]`)
	}
	x.raw(`,"totals":`)
	x.value(x.counts)
	x.raw("}\n")
	if x.err != nil {
		return fmt.Errorf("app: export: %w", x.err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("app: export: %w", err)
	}
	job := domain.Erasure{OrgID: t.OrgID, SubjectHash: s.Hash(t.OrgID, t.UserID)}
	return s.auditExport(ctx, job, actor, x.counts)
}

func (s *PrivacyService) auditExport(ctx context.Context, job domain.Erasure, actor string, counts map[string]int64) error {
	now := s.d.Clock.Now().UTC()
	return s.d.Audit.AppendAudit(ctx, domain.AuditEvent{
		ID: domain.NewAuditID(now), OrgID: job.OrgID, At: now, Action: domain.AuditExport, ActorHash: actor,
		SubjectHash: job.SubjectHash, Counts: counts, Outcome: "done",
	})
}

// sarSummary is the human-readable part: a few sentences a person can read
// without knowing the format.
func sarSummary(st domain.Stats) map[string]any {
	states := make([]string, 0, len(st.ByState))
	for state, n := range st.ByState {
		states = append(states, fmt.Sprintf("%d %s", n, state))
	}
	slices.Sort(states)
	apps := make([]string, 0, len(st.ByApp))
	for app := range st.ByApp {
		apps = append(apps, string(app))
	}
	slices.Sort(apps)
	lines := []string{
		fmt.Sprintf("This document lists everything this Engram server holds about you, as of when it was made. It is format %s version %d (docs/privacy.md).", SARFormat, SARVersion),
		fmt.Sprintf("You have %d memories (%s), written through %d apps: %s.", st.Total, orNone(strings.Join(states, ", ")), st.Apps, orNone(strings.Join(apps, ", "))),
		"Each memory comes with its history: every earlier text, metadata and categories it had.",
		"access_log says which app last read which memory; feedback and query_log are your searches and what you thought of their results; sessions are your recent conversations (kept 24 hours after the last message).",
		"To have all of it erased, send DELETE /api/v1/me.",
	}
	return map[string]any{"text": lines, "memories": st.Total, "apps": st.Apps}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// sarWriter writes the document piece by piece, keeping the first error.
type sarWriter struct {
	w      *bufio.Writer
	err    error
	first  bool
	counts map[string]int64
}

func (x *sarWriter) raw(s string) {
	if x.err == nil {
		_, x.err = x.w.WriteString(s)
	}
}

func (x *sarWriter) value(v any) {
	if x.err != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		x.err = err
		return
	}
	_, x.err = x.w.Write(b)
}

// item appends one element of the current section and counts it.
func (x *sarWriter) item(section string, v any) error {
	if !x.first {
		x.raw(",")
	}
	x.first = false
	x.value(v)
	x.counts[section]++
	return x.err
}
