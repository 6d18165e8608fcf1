package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/engram-memory/engram/app"
	"github.com/engram-memory/engram/domain"
)

// Privacy serves the subject access and erasure tools; *app.PrivacyService
// is one. Every method acts for the principal it is given and no one else.
type Privacy interface {
	ExportMe(ctx context.Context, p domain.Principal, w io.Writer) error
	EraseMe(ctx context.Context, p domain.Principal) (domain.Erasure, bool, error)
	Erasure(ctx context.Context, p domain.Principal, id domain.ErasureID) (domain.Erasure, error)
}

var _ Privacy = (*app.PrivacyService)(nil)

// maxExportBytes bounds the document export_my_data returns in one tool
// result; a larger one is refused with a pointer to the streamed REST
// export, which has no bound.
const maxExportBytes = 16 << 20

// The tools take no argument naming a user: the subject is always the
// verified caller, so no client can export or erase anyone else.
func (s *Server) addPrivacyTools() {
	addTool(s, &mcp.Tool{
		Name:        "export_my_data",
		Description: "Export everything Engram holds about the user (a subject access request): memories with their history, apps, access log, search queries, feedback and live sessions, as one JSON document (format engram-subject-access). Only when the user asks to see or download all their data.",
		Annotations: readOnly("Export my data"),
	}, domain.ScopeMemoriesRead, app.ClassReads, s.exportMyData)
	addTool(s, &mcp.Tool{
		Name:        "erase_my_data",
		Description: "Erase the user from Engram for good (right to erasure): every memory, its history, search queries, feedback, sessions, API keys and sign-ins, in every store. It runs as a background job; follow it with get_erasure. Irreversible: only when the user explicitly asked to be forgotten entirely, with confirm=true.",
		Annotations: writes("Erase my data", true, true),
	}, domain.ScopeMemoriesWrite, app.ClassWrites, s.eraseMyData)
	addTool(s, &mcp.Tool{
		Name:        "get_erasure",
		Description: "The status (pending, running, done) and per-store counts of an erasure job the user started with erase_my_data.",
		Annotations: readOnly("Get erasure"),
	}, domain.ScopeMemoriesRead, app.ClassReads, s.getErasure)
}

type exportInput struct{}

type eraseInput struct {
	Confirm bool `json:"confirm,omitempty" jsonschema:"Must be true, on every URL. Only set it when the user explicitly asked to be erased entirely."`
}

type erasureIDInput struct {
	ID string `json:"id" jsonschema:"The erasure job id returned by erase_my_data."`
}

type erasureOutput struct {
	ID         string           `json:"id"`
	Status     string           `json:"status" jsonschema:"pending, running or done"`
	Joined     bool             `json:"joined,omitempty" jsonschema:"true when an erasure of the user was already under way and this request joined it"`
	Location   string           `json:"location" jsonschema:"the job's REST resource"`
	Counts     map[string]int64 `json:"counts" jsonschema:"rows, entries or keys erased so far, per store"`
	Attempts   int              `json:"attempts"`
	LastError  string           `json:"last_error,omitempty" jsonschema:"the kind of the last failed attempt; the job is retried"`
	CreatedAt  time.Time        `json:"created_at"`
	FinishedAt *time.Time       `json:"finished_at,omitempty"`
}

func erasureOut(e domain.Erasure, joined bool) erasureOutput {
	o := erasureOutput{
		ID: string(e.ID), Status: string(e.Status), Joined: joined, Location: "/api/v1/erasures/" + string(e.ID),
		Counts: e.Counts, Attempts: e.Attempts, LastError: e.LastError, CreatedAt: e.CreatedAt.UTC(),
	}
	if o.Counts == nil {
		o.Counts = map[string]int64{}
	}
	if !e.FinishedAt.IsZero() {
		f := e.FinishedAt.UTC()
		o.FinishedAt = &f
	}
	return o
}

// boundedBuffer fails a write that would take it past max.
type boundedBuffer struct {
	bytes.Buffer
	max int
}

var errExportTooLarge = errors.New("export too large")

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, errExportTooLarge
	}
	return b.Buffer.Write(p)
}

func (s *Server) exportMyData(ctx context.Context, c call, _ exportInput) (map[string]any, error) {
	buf := &boundedBuffer{max: maxExportBytes}
	if err := s.deps.Privacy.ExportMe(ctx, c.Principal, buf); err != nil {
		if errors.Is(err, errExportTooLarge) {
			return nil, domain.Invalid("export", "is larger than 16 MiB; download it from GET /api/v1/me/export")
		}
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		return nil, fmt.Errorf("mcpserver: export_my_data: %w", err)
	}
	return doc, nil
}

func (s *Server) eraseMyData(ctx context.Context, c call, in eraseInput) (erasureOutput, error) {
	if !in.Confirm {
		return erasureOutput{}, domain.Invalid("confirm", "must be true to erase the user entirely")
	}
	e, joined, err := s.deps.Privacy.EraseMe(ctx, c.Principal)
	if err != nil {
		return erasureOutput{}, err
	}
	return erasureOut(e, joined), nil
}

func (s *Server) getErasure(ctx context.Context, c call, in erasureIDInput) (erasureOutput, error) {
	if !domain.ValidID(in.ID) {
		return erasureOutput{}, domain.Invalid("id", "must be an erasure job id (a UUID)")
	}
	e, err := s.deps.Privacy.Erasure(ctx, c.Principal, domain.ErasureID(in.ID))
	if err != nil {
		return erasureOutput{}, err
	}
	return erasureOut(e, false), nil
}
