package intercept

import (
	"context"
	"time"

	"github.com/engram-memory/engram/domain"
	"github.com/engram-memory/engram/ports"
)

// WrapKeys decorates the API key store. Lookups are retried (a key check
// sits on every keyed request); creating and revoking are not, and
// touching is not either: a lost last-used time is harmless, a retried one
// is only noise.
func WrapKeys(next ports.KeyStore, dep string, ic Interceptor) ports.KeyStore {
	if next == nil {
		return nil
	}
	return keys{base{dep, ic}, next}
}

type keys struct {
	base
	next ports.KeyStore
}

func (k keys) CreateKey(ctx context.Context, key domain.APIKey) error {
	return k.do(ctx, "create_key", write, func(ctx context.Context) error { return k.next.CreateKey(ctx, key) })
}

func (k keys) LookupKey(ctx context.Context, hash string) (key domain.APIKey, err error) {
	err = k.do(ctx, "lookup_key", read, func(ctx context.Context) (e error) { key, e = k.next.LookupKey(ctx, hash); return })
	return key, err
}

func (k keys) ListKeys(ctx context.Context, org domain.OrgID, user domain.UserID) (ks []domain.APIKey, err error) {
	err = k.do(ctx, "list_keys", read, func(ctx context.Context) (e error) { ks, e = k.next.ListKeys(ctx, org, user); return })
	return ks, err
}

func (k keys) GetKey(ctx context.Context, org domain.OrgID, id string) (key domain.APIKey, err error) {
	err = k.do(ctx, "get_key", read, func(ctx context.Context) (e error) { key, e = k.next.GetKey(ctx, org, id); return })
	return key, err
}

func (k keys) RevokeKey(ctx context.Context, org domain.OrgID, id string, at time.Time) (key domain.APIKey, err error) {
	err = k.do(ctx, "revoke_key", write, func(ctx context.Context) (e error) { key, e = k.next.RevokeKey(ctx, org, id, at); return })
	return key, err
}

func (k keys) TouchKey(ctx context.Context, org domain.OrgID, id string, at time.Time) error {
	return k.do(ctx, "touch_key", write, func(ctx context.Context) error { return k.next.TouchKey(ctx, org, id, at) })
}

// WrapOwners decorates the memory-owner lookup of project keys.
func WrapOwners(next ports.MemoryOwners, dep string, ic Interceptor) ports.MemoryOwners {
	if next == nil {
		return nil
	}
	return owners{base{dep, ic}, next}
}

type owners struct {
	base
	next ports.MemoryOwners
}

func (o owners) OwnerOf(ctx context.Context, org domain.OrgID, id domain.MemoryID) (u domain.UserID, err error) {
	err = o.do(ctx, "owner_of", read, func(ctx context.Context) (e error) { u, e = o.next.OwnerOf(ctx, org, id); return })
	return u, err
}
