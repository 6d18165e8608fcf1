// Package valkeystore keeps sessions, DPoP replay keys and rate-limit buckets
// in Valkey (or Redis 7), shared by every engramd of a fleet.
//
// Every operation that reads and writes is one Lua script or one atomic
// command, so concurrent servers never race: SET NX PXAT for replay keys, a
// token bucket computed on the server's clock (TIME) so that servers with
// skewed clocks agree, and a session as a sorted set of event ids plus a hash
// of events whose TTL is refreshed by the same script that appends.
//
// Keys are "<prefix>:jti:<key>", "<prefix>:rl:<key>", and for what users
// fill "<prefix>:sess|idem|quota:{<user scope>}:..." (keys.go): the braces
// are a cluster hash tag keeping each user's sessions, idempotency records
// and byte ledger in one slot, so every script runs on one node of a Valkey
// Cluster, and ':' and braces inside org and user ids are escaped so that
// no two tenants share a key.
//
// A Valkey Cluster needs nothing more than its URL: valkey-go asks the node
// for its slots and becomes a cluster client, following MOVED and ASK
// redirections itself (a redirected command never ran, so following it is
// safe for every command). More seed nodes go in ?addr=host:port. What
// walks the keyspace (erasure, DeletePrefixed) SCANs every primary.
//
// Replay keys must never be evicted early: run Valkey with
// maxmemory-policy noeviction (MaxMemoryPolicy reports the setting so that
// engramd can warn). Under noeviction a full server refuses writes, which
// the adapter reports as domain.ErrUnavailable, and the replay check fails
// closed.
//
// Every failure to reach the server (refused, reset, timed out, OOM, script
// error) wraps domain.ErrUnavailable; the client reconnects by itself when
// the server returns, so nothing needs restarting.
package valkeystore
