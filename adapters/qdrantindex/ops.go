package qdrantindex

import (
	"context"
	"fmt"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// Upsert writes points keyed by memory id, waiting until they are
// searchable.
func (x *Index) Upsert(ctx context.Context, t domain.Tenant, docs []ports.VectorDoc) error {
	coll, dim, err := x.bound()
	if err != nil {
		return err
	}
	for _, d := range docs {
		if len(d.Vector) != dim {
			return fmt.Errorf("qdrantindex: upsert %s: %w", d.ID, domain.Invalid("vector", "has %d dimensions, the index holds %d", len(d.Vector), dim))
		}
	}
	if len(docs) == 0 {
		return nil
	}
	req, err := upsertRequest(coll, t, docs)
	if err != nil {
		return fmt.Errorf("qdrantindex: upsert: %w", err)
	}
	ctx, cancel := x.deadline(ctx)
	defer cancel()
	if _, err := x.c.Upsert(ctx, req); err != nil {
		return fmt.Errorf("qdrantindex: upsert %d points: %w", len(docs), mapErr(err))
	}
	return nil
}

// Delete removes the tenant's points with these ids.
func (x *Index) Delete(ctx context.Context, t domain.Tenant, ids []domain.MemoryID) error {
	coll, _, err := x.bound()
	if err != nil {
		return err
	}
	valid := ids[:0:0]
	for _, id := range ids {
		if domain.ValidID(string(id)) {
			valid = append(valid, id)
		}
	}
	if len(valid) == 0 {
		return nil
	}
	ctx, cancel := x.deadline(ctx)
	defer cancel()
	if _, err := x.c.Delete(ctx, deleteRequest(coll, t, valid)); err != nil {
		return fmt.Errorf("qdrantindex: delete %d points: %w", len(valid), mapErr(err))
	}
	return nil
}

// Search queries the k nearest of the tenant's points that pass the filter.
func (x *Index) Search(ctx context.Context, t domain.Tenant, vector []float32, k int, f domain.SearchFilter) ([]ports.Hit, error) {
	coll, dim, err := x.bound()
	if err != nil {
		return nil, err
	}
	if k < 1 || k > ports.MaxIndexK {
		return nil, fmt.Errorf("qdrantindex: search: %w", domain.Invalid("k", "must be between 1 and %d", ports.MaxIndexK))
	}
	if len(vector) != dim {
		return nil, fmt.Errorf("qdrantindex: search: %w", domain.Invalid("vector", "has %d dimensions, the index holds %d", len(vector), dim))
	}
	req, err := searchRequest(coll, t, vector, k, f)
	if err != nil {
		return nil, fmt.Errorf("qdrantindex: search: %w", err)
	}
	ctx, cancel := x.deadline(ctx)
	defer cancel()
	pts, err := x.c.Query(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("qdrantindex: search: %w", mapErr(err))
	}
	hits := make([]ports.Hit, len(pts))
	for i, p := range pts {
		hits[i] = ports.Hit{ID: domain.MemoryID(p.GetId().GetUuid()), Score: float64(p.GetScore())}
	}
	return hits, nil
}

// mapErr turns gRPC failures into domain kinds. Context errors pass through.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	switch status.Code(unwrapAll(err)) {
	case codes.InvalidArgument:
		return fmt.Errorf("%w: %v", domain.ErrInvalid, err)
	case codes.Canceled:
		return fmt.Errorf("%w: %w", context.Canceled, err)
	}
	return &domain.UnavailableError{Dependency: "qdrant", Err: err}
}

// unwrapAll digs out the gRPC status error the client wraps.
func unwrapAll(err error) error {
	for {
		if _, ok := status.FromError(err); ok {
			return err
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		next := u.Unwrap()
		if next == nil {
			return err
		}
		err = next
	}
}
