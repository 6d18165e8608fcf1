package ports_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

func TestDataKeyCacheForgetsTheSubjectOnly(t *testing.T) {
	var c ports.DataKeyCache
	alice, bob := domain.Tenant{OrgID: "o", UserID: "alice"}, domain.Tenant{OrgID: "o", UserID: "bob"}
	carol := domain.Tenant{OrgID: "other", UserID: "carol"}
	require.Nil(t, c.Get(alice), "the zero value is empty and ready")
	for _, tn := range []domain.Tenant{alice, bob, carol} {
		dk, _, _, err := ports.NewDataKey(context.Background(), plainWrapper{}, tn)
		require.NoError(t, err)
		c.Put(tn, dk)
		require.Same(t, dk, c.Get(tn))
	}
	c.Forget(domain.Subject{OrgID: "o", UserID: "alice"})
	require.Nil(t, c.Get(alice))
	require.NotNil(t, c.Get(bob))
	c.Forget(domain.Subject{OrgID: "o"})
	require.Nil(t, c.Get(bob), "an org-wide subject is every user of the org")
	require.NotNil(t, c.Get(carol), "another org keeps its keys")
}
