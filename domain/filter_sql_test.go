package domain_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/engram-memory/engram/domain"
)

func TestCompileFilterWritesBooleansAndLeavesInOrder(t *testing.T) {
	f := domain.Filter{And: []domain.Filter{
		{Field: domain.FieldAgentID, Op: domain.OpNe, Value: "a"},
		{Or: []domain.Filter{
			{Field: domain.FieldMetadata, Key: "k", Op: domain.OpIn, Value: []any{"x", 2.0}},
			{Not: &domain.Filter{Field: domain.FieldRunID, Op: domain.OpNin, Value: []any{"r"}}},
			{Field: domain.FieldAppID, Op: domain.OpContains, Value: "cli"},
		}},
	}}
	n := 0
	got, err := domain.CompileFilter(f, func(l domain.Filter) (string, error) {
		n++
		return fmt.Sprintf("%s%s %s %v $%d", l.Field, l.Key, l.Op, l.Value, n), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "(NOT agent_id eq a $1 AND ((metadatak eq x $2 OR metadatak eq 2 $3) OR NOT NOT (run_id eq r $4) OR app_id contains cli $5))"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}

	boom := errors.New("boom")
	_, err = domain.CompileFilter(f, func(domain.Filter) (string, error) { return "", boom })
	if !errors.Is(err, boom) {
		t.Fatalf("a leaf's error is returned, got %v", err)
	}
}
