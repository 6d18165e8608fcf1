package ports_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// TestSealPlainSealsOnlyPlaintextAndOpensAsWritten: what `engram keys seal`
// stores opens with the readers' paths (Open, OpenMetadata, a snapshot's
// fields) to the values as they were, and sealing again changes nothing.
func TestSealPlainSealsOnlyPlaintextAndOpensAsWritten(t *testing.T) {
	dk, _, _, err := ports.NewDataKey(context.Background(), plainWrapper{}, domain.Tenant{OrgID: "acme", UserID: "alice"})
	require.NoError(t, err)

	s, ok := ports.SealPlain(dk, "m1", "text", "hello")
	require.True(t, ok)
	require.True(t, ports.Sealed(s))
	again, ok := ports.SealPlain(dk, "m1", "text", s)
	require.False(t, ok, "a sealed value is not sealed again")
	require.Equal(t, s, again)
	plain, err := dk.Open("m1", "text", s)
	require.NoError(t, err)
	require.Equal(t, "hello", plain)

	md := []byte(`{"city":"Lyon","n":12345678901234567890,"deep":{"a":[1,"x"]},"nil":null}`)
	sealed, ok, err := ports.SealPlainMetadata(dk, "m1", md)
	require.NoError(t, err)
	require.True(t, ok)
	require.NotContains(t, string(sealed), "Lyon")
	var stored domain.Metadata
	require.NoError(t, json.Unmarshal(sealed, &stored))
	opened, err := ports.OpenMetadata(dk, "m1", stored)
	require.NoError(t, err)
	var want domain.Metadata
	require.NoError(t, json.Unmarshal(md, &want))
	require.Equal(t, want, opened)
	same, ok, err := ports.SealPlainMetadata(dk, "m1", sealed)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, sealed, same)

	snap := []byte(`{"text":"old words","metadata":{"city":"Lyon"},"categories":["travel"],"state":"active"}`)
	sealedSnap, ok, err := ports.SealPlainSnapshot(dk, "m1", snap)
	require.NoError(t, err)
	require.True(t, ok)
	require.NotContains(t, string(sealedSnap), "old words")
	require.NotContains(t, string(sealedSnap), "Lyon")
	require.Contains(t, string(sealedSnap), `"categories":["travel"]`, "categories stay plaintext by decision")
	var v struct {
		Text     string          `json:"text"`
		Metadata domain.Metadata `json:"metadata"`
	}
	require.NoError(t, json.Unmarshal(sealedSnap, &v))
	txt, err := dk.Open("m1", "text", v.Text)
	require.NoError(t, err)
	require.Equal(t, "old words", txt)
	omd, err := ports.OpenMetadata(dk, "m1", v.Metadata)
	require.NoError(t, err)
	require.Equal(t, domain.Metadata{"city": "Lyon"}, omd)
	_, ok, err = ports.SealPlainSnapshot(dk, "m1", sealedSnap)
	require.NoError(t, err)
	require.False(t, ok)
	for _, empty := range []string{"", "null"} {
		out, ok, err := ports.SealPlainSnapshot(dk, "m1", []byte(empty))
		require.NoError(t, err)
		require.False(t, ok)
		require.Equal(t, empty, string(out))
	}
}
