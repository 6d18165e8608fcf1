package sqlitestore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
)

// TestListShapesBeyondTheStatementCache runs more distinct List shapes than
// the statement cache keeps: cached and uncached shapes must answer alike.
func TestListShapesBeyondTheStatementCache(t *testing.T) {
	s := openTemp(t)
	ctx := context.Background()
	tn := domain.Tenant{OrgID: "org", UserID: "user"}
	m, err := domain.NewMemory(tn, "app", "tagged", nil, []string{"c0"}, time.Now())
	require.NoError(t, err)
	_, _, err = s.Create(ctx, tn, m)
	require.NoError(t, err)
	states := []domain.State{domain.StateActive, domain.StatePaused, domain.StateArchived, domain.StateDeleted}
	for round := range 2 { // the second round hits cached and uncached shapes again
		shapes := 0
		for ncat := 1; ncat <= domain.MaxCategories; ncat++ {
			cats := make([]string, ncat)
			for i := range cats {
				cats[i] = fmt.Sprintf("c%d", i)
			}
			for nst := 1; nst <= len(states); nst++ {
				for _, app := range []domain.AppID{"", "app"} {
					page, err := s.List(ctx, tn, domain.ListQuery{Categories: cats, States: states[:nst], App: app})
					require.NoError(t, err)
					require.Len(t, page.Items, 1, "round %d, %d categories, %d states, app %q", round, ncat, nst, app)
					shapes++
				}
			}
		}
		require.Greater(t, shapes, 128)
	}
}
