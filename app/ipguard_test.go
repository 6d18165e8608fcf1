package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/engram-memory/engram/app"
)

// The guard's budget is per address (IPv6 per /64), refills over the
// minute, and its table stays bounded under a spray of addresses.
func TestAddressGuard(t *testing.T) {
	clock := &keyClock{t: time.Now()}
	g, err := app.NewAddressGuard(3, clock, 10)
	require.NoError(t, err)
	for range 3 {
		require.NoError(t, g.Admit("192.0.2.1:1000"))
		g.Failed("192.0.2.1:1000")
	}
	var limited *app.AddressLimitedError
	require.ErrorAs(t, g.Admit("192.0.2.1:2000"), &limited)
	require.Equal(t, 20, limited.RetryAfterSeconds(), "one failure back every 20 s")
	require.NoError(t, g.Admit("192.0.2.2:1000"), "another address is untouched")

	for range 3 {
		g.Failed("[2001:db8:1:2::1]:443")
	}
	require.Error(t, g.Admit("[2001:db8:1:2:ffff::9]:443"), "the same /64")
	require.NoError(t, g.Admit("[2001:db8:1:3::1]:443"), "another /64")
	require.Error(t, g.Admit("::ffff:192.0.2.1"), "an IPv4-mapped address is its IPv4 address")

	clock.add(21 * time.Second)
	require.NoError(t, g.Admit("192.0.2.1:1"), "a failure refills after 20 s")

	for i := range 1000 {
		g.Failed(fmt.Sprintf("10.0.%d.%d:1", i/256, i%256))
	}
	require.LessOrEqual(t, g.Tracked(), 10, "the table is bounded")
	clock.add(2 * time.Minute)
	g.Failed("203.0.113.1:1")
	require.LessOrEqual(t, g.Tracked(), 10)
	g.Failed("203.0.113.1:1")
	g.Failed("203.0.113.1:1")
	require.Error(t, g.Admit("203.0.113.1:1"), "refilled entries made room for a new address")

	_, err = app.NewAddressGuard(0, nil, 0)
	require.Error(t, err)
	var nilGuard *app.AddressGuard
	require.NoError(t, nilGuard.Admit("192.0.2.1:1"))
	nilGuard.Failed("192.0.2.1:1")
}
